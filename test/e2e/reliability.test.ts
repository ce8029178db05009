import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EmailChannel } from "../../src/index.js";
import { stackChannel } from "../support/channel.js";
import { childEnv, exited, readAgentLog, spawnChannelChild, startChannelChild } from "../support/child.js";
import { appendAs, openMailbox, purgeMailbox, readMailbox, sendAs, waitForMail } from "../support/mail.js";
import { deliverRaw, loadStackEnv, stackCtl } from "../support/stack.js";

const stack = loadStackEnv();
const { assistant, alice } = stack.users;
let channel: EmailChannel | undefined;
let child: ChildProcess | undefined;

beforeEach(async () => {
  for (const u of [assistant, alice]) await purgeMailbox(u);
});
afterEach(async () => {
  await channel?.stop();
  channel = undefined;
  child?.kill("SIGKILL");
  child = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!stack.controllable)("outbound under failure (public API, real Postfix)", () => {
  it("delivers a reply once after Postfix was down for 30 s while it was pending", async () => {
    ({ channel } = await stackChannel(async () => "your answer, delayed"));
    await channel.start();
    const pending = new Promise((resolve) => channel!.events.once("handled", resolve));
    await stackCtl("stop", "postfix");
    let sent = "";
    try {
      // Postfix is down first, then alice's message lands in the INBOX (APPENDed over IMAP as her
      // client's copy would be), so the reply is pending for certain.
      sent = await appendAs(alice, assistant, {
        to: assistant.address,
        subject: "During the outage",
        text: "Are you there?",
      });
      await pending;
      expect(channel.store!.outbox.countByStatus().pending).toBe(1);
      await sleep(30_000);
    } finally {
      await stackCtl("start", "postfix");
    }
    const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === sent), {
      timeoutMs: 120_000,
    });
    await sleep(2000);
    expect((await readMailbox(alice)).filter((m) => m.inReplyTo === sent)).toHaveLength(1);
    expect(inbox.find((m) => m.inReplyTo === sent)!.text).toContain("your answer, delayed");
    expect(channel.store!.outbox.countByStatus()).toEqual({ sent: 1 });
  }, 240_000);

  it("sends exactly one reply when the process is SIGKILLed between the agent's answer and the SMTP send", async () => {
    const { log, env } = childEnv("ec-kill-send");
    const sent = await sendAs(alice, {
      to: assistant.address,
      subject: "Crash on send",
      text: "Reply once, please.",
    });
    await waitForMail(assistant, (ms) => ms.some((m) => m.messageId === sent));
    child = await startChannelChild({ ...env, EC_KILL_ON_FIRST_SEND: "1" });
    await exited(child);
    expect(readAgentLog(log).map((e) => e.event)).toEqual(["start", "answer", "killed-before-send"]);
    expect((await readMailbox(alice)).length).toBe(0);
    child = await startChannelChild(env);
    // The send had started when the process died, so the next one cannot know whether it went out:
    // it waits up to 60 s for the reply's delivery copy, none comes, and it sends (once).
    await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === sent), { timeoutMs: 120_000 });
    await sleep(3000);
    expect((await readMailbox(alice)).filter((m) => m.inReplyTo === sent)).toHaveLength(1);
    // Its handling had finished before the kill (the reply was in the outbox, `handled` not yet
    // recorded): the restarted channel records it handled without asking the agent again.
    expect(readAgentLog(log).map((e) => e.event)).toEqual(["start", "answer", "killed-before-send"]);
  }, 180_000);

  it("records a 5xx recipient rejection as a failure without retrying", async () => {
    ({ channel } = await stackChannel(async () => undefined));
    await channel.start();
    const failures: unknown[] = [];
    channel.events.on("sendFailed", (f) => failures.push(f));
    const result = await channel.sendMessage("to-nobody", "Hello?", {
      to: `nobody@${stack.domain}`,
      subject: "Hello nobody",
    });
    expect(result.status).toBe("failed");
    const entry =
      channel.store!.outbox.pending().length === 0 ? channel.store!.outbox.countByStatus() : undefined;
    expect(entry).toEqual({ failed: 1 });
    expect(failures).toHaveLength(1);
    await sleep(3000);
    expect(channel.store!.outbox.countByStatus()).toEqual({ failed: 1 });
  });
});

describe("stopping (public API, real Dovecot)", () => {
  it("flags every message handled before stop() as \\Seen, even those settled while it stops", async () => {
    const client = await openMailbox(assistant);
    const ids: string[] = [];
    try {
      for (let i = 0; i < 30; i++) {
        const node = new MailComposer({
          from: alice.address,
          to: assistant.address,
          subject: `stop ${i}`,
          text: `message ${i}`,
        }).compile();
        await client.append("INBOX", await node.build());
        ids.push(node.messageId());
      }
    } finally {
      await client.logout();
    }
    let calls = 0;
    ({ channel } = await stackChannel(
      async () => {
        calls++;
      },
      { env: { EMAIL_ALLOWED_SENDERS: "*" } },
    ));
    await channel.start();
    const end = Date.now() + 30_000;
    while (calls < ids.length && Date.now() < end) await sleep(5);
    // Stop at once: the last hand-overs are still being recorded as handled.
    await channel.stop();
    channel = undefined;
    expect(calls).toBe(ids.length);
    const box = await readMailbox(assistant);
    expect(box.filter((m) => !m.flags.has("\\Seen")).map((m) => m.subject)).toEqual([]);
    expect(box.map((m) => m.messageId).sort()).toEqual([...ids].sort());
  });

  it("drains a backlog deeper than its hand-over window without a warning on the host's process", async () => {
    // Every conversion and agent run in flight listens to the channel's stop signal; the host must
    // not see Node's "possible EventTarget memory leak" warning for what the channel bounds itself.
    const raws: Buffer[] = [];
    for (let i = 0; i < 120; i++)
      raws.push(
        await new MailComposer({
          from: alice.address,
          to: assistant.address,
          subject: `deep backlog ${i}`,
          text: `message ${i}`,
          html: `<p>message ${i}</p>`,
        })
          .compile()
          .build(),
      );
    const client = await openMailbox(assistant);
    try {
      for (const raw of raws) await client.append("INBOX", raw);
    } finally {
      await client.logout();
    }
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on("warning", onWarning);
    try {
      let calls = 0;
      // A slow agent: the runs in flight reach the configured concurrency while conversions wait.
      ({ channel } = await stackChannel(
        async () => {
          calls++;
          await sleep(20);
        },
        { env: { EMAIL_ALLOWED_SENDERS: "*", EMAIL_CONCURRENCY: "8" } },
      ));
      await channel.start();
      const end = Date.now() + 60_000;
      while (calls < raws.length && Date.now() < end) await sleep(10);
      expect(calls).toBe(raws.length);
      // Warnings are emitted on the next tick.
      await sleep(50);
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings.filter((w) => w.startsWith("MaxListenersExceededWarning"))).toEqual([]);
  });

  it("leaves a backlog in the mailbox while a slow agent holds its limit, then hands every message over once", async () => {
    const client = await openMailbox(assistant);
    const ids: string[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const node = new MailComposer({
          from: alice.address,
          to: assistant.address,
          subject: `slow ${i}`,
          text: `message ${i}`,
        }).compile();
        await client.append("INBOX", await node.build());
        ids.push(node.messageId().replace(/^<|>$/g, ""));
      }
    } finally {
      await client.logout();
    }
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const calls: string[] = [];
    let env: Record<string, string>;
    ({ channel, env } = await stackChannel(
      async (m) => {
        calls.push(m.messageId);
        await gate;
      },
      {
        env: { EMAIL_ALLOWED_SENDERS: "*", EMAIL_CONCURRENCY: "2" },
        extra: { handlingLimits: { messages: 5, chars: 64 * 1024 * 1024 } },
      },
    ));
    const statePath = join(env.EMAIL_STATE_DIR!, "state.sqlite");
    const recorded = () => {
      const db = new Database(statePath, { readonly: true, fileMustExist: true });
      try {
        return (db.prepare("SELECT COUNT(*) AS n FROM inbound").get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    await channel.start();
    await expect.poll(() => calls.length, { timeout: 20_000 }).toBe(2);
    await expect.poll(recorded, { timeout: 20_000 }).toBe(5);
    // Later cycles (kicks, the sweep) hand nothing more over while the agent holds its five.
    await sleep(2000);
    expect(recorded()).toBe(5);
    expect(calls).toHaveLength(2);
    release();
    await expect.poll(() => calls.length, { timeout: 60_000 }).toBe(ids.length);
    expect([...calls].sort()).toEqual([...ids].sort());
    await expect
      .poll(async () => (await readMailbox(assistant)).filter((m) => !m.flags.has("\\Seen")).length, {
        timeout: 20_000,
      })
      .toBe(0);
  });
});

describe("a crash after handling, before the mailbox was flagged (child process, real Dovecot)", () => {
  it("flags the handled messages \\Seen at the next start, without handing them over again", async () => {
    const { stateDir, log, env } = childEnv("ec-owed");
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        await appendAs(alice, assistant, { to: assistant.address, subject: `owed ${i}`, text: `hi ${i}` }),
      );
    const owed = new Set(ids.map((id) => id.replace(/^<|>$/g, "")));
    const isOwed = (m: { messageId?: string }) => ids.includes(m.messageId ?? "");
    const statePath = join(stateDir, "state.sqlite");
    const statuses = () => {
      if (!existsSync(statePath)) return [];
      const db = new Database(statePath, { readonly: true, fileMustExist: true });
      try {
        const rows = db
          .prepare("SELECT message_id AS id, status, mailbox_todo AS todo FROM inbound")
          .all() as {
          id: string;
          status: string;
          todo: string | null;
        }[];
        // The replies' delivery copies (our own mail, recorded as ignored) are checked separately.
        return rows.filter((r) => owed.has(r.id)).map(({ status, todo }) => ({ status, todo }));
      } catch {
        return []; // not created yet
      } finally {
        db.close();
      }
    };
    child = await startChannelChild(env);
    const end = Date.now() + 30_000;
    while (statuses().filter((r) => r.status === "handled").length < ids.length && Date.now() < end)
      await sleep(5);
    // Killed at once: the \\Seen they owe waits for the watcher's batching (1 s) and is never sent.
    child.kill("SIGKILL");
    await exited(child);
    expect(statuses()).toEqual(ids.map(() => ({ status: "handled", todo: "seen" })));
    const before = await readMailbox(assistant);
    expect(before.filter((m) => isOwed(m) && m.flags.has("\\Seen"))).toHaveLength(0);

    child = await startChannelChild(env);
    const after = await waitForMail(
      assistant,
      (ms) => ms.filter((m) => isOwed(m) && m.flags.has("\\Seen")).length === ids.length,
    );
    expect(
      after
        .filter(isOwed)
        .map((m) => m.messageId)
        .sort(),
    ).toEqual([...ids].sort());
    // Besides them, the INBOX holds only the delivery copies of the replies, from the assistant itself.
    for (const m of after.filter((x) => !isOwed(x))) {
      expect(m.from?.value[0]?.address).toBe(assistant.address);
      expect(ids).toContain(m.inReplyTo);
    }
    expect(readAgentLog(log).filter((e) => e.event === "start")).toHaveLength(ids.length);
    const settled = Date.now() + 10_000;
    while (statuses().some((r) => r.todo !== null) && Date.now() < settled) await sleep(20);
    expect(statuses()).toEqual(ids.map(() => ({ status: "handled", todo: null })));
  }, 90_000);
});

describe("robots get no reply (public API)", () => {
  const fixtures = [
    "exchange-oof.eml",
    "gmail-vacation.eml",
    "postfix-bounce.eml",
    "mailman-list.eml",
    "google-groups.eml",
  ];
  it("records auto-replies, bounces and list mail but never answers them", async () => {
    let calls = 0;
    ({ channel } = await stackChannel(
      async () => {
        calls++;
        return "should never be sent";
      },
      { env: { EMAIL_ALLOWED_SENDERS: "*" } },
    ));
    const ignored: { code: string }[] = [];
    channel.events.on("ignored", (i: { code: string }) => ignored.push(i));
    await channel.start();
    for (const f of fixtures) {
      const raw = readFileSync(new URL(`../fixtures/guards/${f}`, import.meta.url));
      await deliverRaw(raw, { from: "", to: assistant.address });
    }
    const end = Date.now() + 30_000;
    while (ignored.length < fixtures.length && Date.now() < end) await sleep(200);
    expect(ignored).toHaveLength(fixtures.length);
    expect(ignored.every((i) => i.code.startsWith("LOOP_"))).toBe(true);
    expect(calls).toBe(0);
    expect(channel.store!.outbox.countByStatus()).toEqual({});
  });
});

describe("a message the process keeps crashing on (child process, real Dovecot + Postfix)", () => {
  it("is quarantined after max_attempts hand-overs that never finished, and the channel goes on", async () => {
    const { log, env } = childEnv("ec-poison", { EC_KILL_ON_SUBJECT: "Poison", EMAIL_MAX_ATTEMPTS: "3" });
    const poison = await sendAs(alice, {
      to: assistant.address,
      subject: "Poison",
      text: "Whoever reads this crashes.",
    });
    await waitForMail(assistant, (ms) => ms.some((m) => m.messageId === poison));
    // Three runs, each killed (SIGKILL) by the message as soon as the agent is handed it.
    for (let run = 1; run <= 3; run++) {
      child = spawnChannelChild(env);
      await exited(child);
      expect(child.signalCode).toBe("SIGKILL");
    }
    const starts = () => readAgentLog(log).filter((e) => e.event === "start");
    expect(starts()).toHaveLength(3);
    expect(new Set(starts().map((e) => e.pid)).size).toBe(3);
    // The fourth run meets it a fourth time: quarantined, with the reason, never handed over again.
    child = await startChannelChild(env);
    await waitForMail(assistant, (ms) => ms.some((m) => m.messageId === poison), { mailbox: "Quarantine" });
    expect(starts()).toHaveLength(3);
    const later = await sendAs(alice, { to: assistant.address, subject: "After the poison", text: "Hello?" });
    await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === later), { timeoutMs: 60_000 });
    expect((await readMailbox(alice)).filter((m) => m.inReplyTo === poison)).toHaveLength(0);
  }, 180_000);
});
