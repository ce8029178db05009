import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EmailChannel, MessageFormat } from "../../../src/index.js";
import { stackChannel } from "../../support/channel.js";
import { childEnv, readAgentLog, startChannelChild } from "../../support/child.js";
import { appendAs, deliverAs, purgeMailbox, sendAs, waitForMail } from "../../support/mail.js";
import { flushMailQueue, loadStackEnv, resetUidValidity, stackCtl } from "../../support/stack.js";

const stack = loadStackEnv();
const { assistant, hello, support, alice } = stack.users;
let channel: EmailChannel | undefined;

async function until(check: () => boolean, timeoutMs = 30_000, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const recorder = () => {
  const seen: MessageFormat[] = [];
  return { seen, agent: async (m: MessageFormat) => void seen.push(m) };
};
const ids = (ms: MessageFormat[]) => ms.map((m) => m.messageId);

beforeEach(async () => {
  for (const u of [assistant, hello, support, alice]) await purgeMailbox(u);
});
afterEach(async () => {
  await channel?.stop();
  channel = undefined;
});

describe("IMAP watcher on real Dovecot", () => {
  it("is pushed new mail by IDLE", async () => {
    const r = recorder();
    ({ channel } = await stackChannel(r.agent, { env: { EMAIL_SWEEP_INTERVAL: "3600" } }));
    await channel.start();
    expect(channel.health()[0]).toMatchObject({ state: "watching", mode: "idle" });
    const id = (await sendAs(alice, { to: assistant.address, subject: "idle push", text: "pushed" })).replace(
      /^<|>$/g,
      "",
    );
    await until(() => ids(r.seen).includes(id), 20_000, "IDLE push");
    expect(r.seen).toHaveLength(1);
  });

  it("polls when IDLE is turned off", async () => {
    const r = recorder();
    ({ channel } = await stackChannel(r.agent, { env: { EMAIL_IDLE: "false", EMAIL_POLL_INTERVAL: "1" } }));
    await channel.start();
    expect(channel.health()[0]).toMatchObject({ state: "watching", mode: "poll" });
    const id = (await sendAs(alice, { to: assistant.address, subject: "polled", text: "polled" })).replace(
      /^<|>$/g,
      "",
    );
    await until(() => ids(r.seen).includes(id), 20_000, "poll");
  });

  it("watches three accounts in one process and hands a message sent to two of them over once", async () => {
    const r = recorder();
    ({ channel } = await stackChannel(r.agent, { accounts: ["assistant", "hello", "support"] }));
    await channel.start();
    expect(
      channel
        .health()
        .map((h) => h.account)
        .sort(),
    ).toEqual([assistant.address, hello.address, support.address].sort());
    const a = (await sendAs(alice, { to: assistant.address, subject: "to assistant", text: "1" })).replace(
      /^<|>$/g,
      "",
    );
    const h = (await sendAs(alice, { to: hello.address, subject: "to hello", text: "2" })).replace(
      /^<|>$/g,
      "",
    );
    const both = (
      await sendAs(alice, { to: [support.address, hello.address], subject: "to two", text: "3" })
    ).replace(/^<|>$/g, "");
    const duplicates: unknown[] = [];
    channel.events.on("duplicate", (d) => duplicates.push(d));
    await until(() => [a, h, both].every((id) => ids(r.seen).includes(id)), 30_000, "three accounts");
    await until(() => duplicates.length === 1, 20_000, "the second copy to be recognised as a duplicate");
    expect(r.seen.find((m) => m.messageId === a)?.metadata.account).toBe(assistant.address);
    expect(r.seen.find((m) => m.messageId === h)?.metadata.account).toBe(hello.address);
    expect(ids(r.seen).filter((id) => id === both)).toHaveLength(1);
  });

  it.skipIf(!stack.controllable)(
    "loses nothing when Dovecot is stopped and restarted mid-stream",
    async () => {
      const r = recorder();
      ({ channel } = await stackChannel(r.agent));
      await channel.start();
      const sent: string[] = [];
      // Through the MX port: Postfix accepts (and queues) while Dovecot, its SASL backend, is down.
      const deliver = async (i: number) =>
        sent.push(
          (await deliverAs(alice, { to: assistant.address, subject: `stream ${i}`, text: `${i}` })).replace(
            /^<|>$/g,
            "",
          ),
        );
      for (let i = 0; i < 4; i++) await deliver(i);
      await stackCtl("stop", "dovecot");
      try {
        for (let i = 4; i < 8; i++) await deliver(i);
        await new Promise((res) => setTimeout(res, 3000));
      } finally {
        await stackCtl("start", "dovecot");
      }
      await flushMailQueue();
      for (let i = 8; i < 10; i++) await deliver(i);
      await until(
        () => sent.every((id) => ids(r.seen).includes(id)),
        90_000,
        "every message after the restart",
      );
      for (const id of sent) expect(ids(r.seen).filter((x) => x === id)).toHaveLength(1);
      expect(channel.health()[0]!.reconnects).toBeGreaterThan(0);
    },
  );

  it.skipIf(!stack.controllable)(
    "rescans after a UIDVALIDITY change without handing anything over twice",
    async () => {
      const stateDir = mkdtempSync(join(tmpdir(), "ec-uidv-"));
      const r = recorder();
      ({ channel } = await stackChannel(r.agent, { stateDir }));
      await channel.start();
      const before: string[] = [];
      for (let i = 0; i < 3; i++)
        before.push(
          (await sendAs(alice, { to: assistant.address, subject: `before ${i}`, text: `${i}` })).replace(
            /^<|>$/g,
            "",
          ),
        );
      await until(() => before.every((id) => ids(r.seen).includes(id)), 20_000, "first three");
      await channel.stop();
      await resetUidValidity(assistant.address, { renumber: true });
      const after = (await sendAs(alice, { to: assistant.address, subject: "after", text: "new" })).replace(
        /^<|>$/g,
        "",
      );
      ({ channel } = await stackChannel(r.agent, { stateDir }));
      await channel.start();
      await until(() => ids(r.seen).includes(after), 20_000, "the new message");
      await new Promise((res) => setTimeout(res, 1000));
      expect(ids(r.seen).sort()).toEqual([...before, after].sort());
    },
  );

  it.skipIf(!stack.controllable).each([
    ["unseen", ["old unread"]],
    ["new", []],
  ] as const)(
    "after a UIDVALIDITY change, leaves alone the mail the first start left alone (initial_sync %s)",
    async (mode, handedAtStart) => {
      const stateDir = mkdtempSync(join(tmpdir(), "ec-uidv-scope-"));
      const env = { EMAIL_INITIAL_SYNC: mode };
      // In the mailbox before the channel ever ran, three days old: one read, one not.
      const threeDaysAgo = new Date(Date.now() - 3 * 24 * 3600_000);
      const old = {
        "old read": await appendAs(
          alice,
          assistant,
          { to: assistant.address, subject: "old read", text: "from before" },
          { flags: ["\\Seen"], internalDate: threeDaysAgo },
        ),
        "old unread": await appendAs(
          alice,
          assistant,
          { to: assistant.address, subject: "old unread", text: "from before" },
          { internalDate: threeDaysAgo },
        ),
      };
      const bare = (id: string) => id.replace(/^<|>$/g, "");
      const r = recorder();
      ({ channel } = await stackChannel(r.agent, { stateDir, env }));
      await channel.start();
      const during = bare(await sendAs(alice, { to: assistant.address, subject: "during", text: "1" }));
      await until(() => ids(r.seen).includes(during), 20_000, "the message sent while watching");
      await channel.stop();
      const atStart = handedAtStart.map((k) => bare(old[k]));
      expect(ids(r.seen).sort()).toEqual([...atStart, during].sort());

      await resetUidValidity(assistant.address, { renumber: true });
      const after = bare(await sendAs(alice, { to: assistant.address, subject: "after", text: "2" }));
      ({ channel } = await stackChannel(r.agent, { stateDir, env }));
      await channel.start();
      await until(() => ids(r.seen).includes(after), 20_000, "the message sent after the change");
      await new Promise((res) => setTimeout(res, 1000));
      // The rescan handed over only what arrived meanwhile: no old mail, nothing twice.
      expect(ids(r.seen).sort()).toEqual([...atStart, during, after].sort());
    },
  );
});

describe.skipIf(!stack.controllable)("exactly-once hand-over across a crash", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
    child = undefined;
  });

  it("hands every message of a backlog over after SIGKILL mid-backlog, and replies to each exactly once", async () => {
    const { log, env } = childEnv("ec-crash", { EC_AGENT_DELAY_MS: "150", EMAIL_CONCURRENCY: "2" });
    const sent: string[] = [];
    for (let i = 0; i < 30; i++)
      sent.push(
        (await sendAs(alice, { to: assistant.address, subject: `backlog ${i}`, text: `item ${i}` })).replace(
          /^<|>$/g,
          "",
        ),
      );
    await waitForMail(assistant, (ms) => ms.length >= 30);
    const read = () => readAgentLog(log);
    child = await startChannelChild(env);
    await until(
      () => read().filter((e) => e.event === "answer").length >= 8,
      60_000,
      "a third of the backlog",
    );
    child.kill("SIGKILL");
    await new Promise((res) => child!.once("exit", res));
    const beforeCrash = read().filter((e) => e.event === "start").length;
    child = await startChannelChild(env);
    const inbox = await waitForMail(
      alice,
      (ms) => sent.every((id) => ms.some((m) => m.inReplyTo === `<${id}>`)),
      { timeoutMs: 120_000 },
    );
    await new Promise((res) => setTimeout(res, 1500));
    const finalInbox = await waitForMail(alice, () => true);
    for (const id of sent)
      expect(
        finalInbox.filter((m) => m.inReplyTo === `<${id}>`),
        `replies to ${id}: ${finalInbox
          .filter((m) => m.inReplyTo === `<${id}>`)
          .map((m) => `${m.messageId} ${m.date?.toISOString()}`)
          .join(", ")}`,
      ).toHaveLength(1);
    const starts = read().filter((e) => e.event === "start");
    for (const id of sent) expect(starts.some((e) => e.messageId === id)).toBe(true);
    // Only messages in flight at the kill (at most the concurrency, 2) may have been handed over twice.
    const twice = sent.filter((id) => starts.filter((e) => e.messageId === id).length > 1);
    expect(
      twice.length,
      JSON.stringify(read().filter((e) => twice.includes(e.messageId ?? ""))),
    ).toBeLessThanOrEqual(2);
    expect(beforeCrash).toBeGreaterThan(0);
    expect(inbox.length).toBeGreaterThanOrEqual(30);
  });
});
