/**
 * The outbox dispatcher with the real SmtpSender, the embedded store and the stack's Postfix:
 * a permanent refusal is recorded and not retried; a message pending while Postfix is down is
 * delivered exactly once after it comes back; a message pending at a restart is sent by the next
 * process.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { composeMessage } from "../../../src/compose/index.js";
import type { EmailChannelError } from "../../../src/errors/index.js";
import { OutboxDispatcher } from "../../../src/outbox/index.js";
import type { OutboundSender, SmtpSender } from "../../../src/smtp/index.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import { loadStackEnv, stackCtl } from "../../support/stack.js";
import { countByIds, waitFor } from "./mailbox.js";
import { stackSmtpSender } from "../../support/stack-sender.js";

const env = loadStackEnv();
const hello = env.users.hello;
const alice = env.users.alice;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

/** The real sender, counting the sends that reach it. */
function countingSender(): OutboundSender & { sends: number } {
  const real = stackSmtpSender(env, hello, { connectionTimeout: 3_000, greetingTimeout: 3_000 });
  cleanups.push(() => real.close());
  const counting = {
    sends: 0,
    send: (request: Parameters<SmtpSender["send"]>[0], signal?: AbortSignal) => {
      counting.sends++;
      return real.send(request, signal);
    },
  };
  return counting;
}

function dispatcherFor(
  store: StateStore,
  sender: OutboundSender,
  retry = { baseDelayMs: 300, maxDelayMs: 1_500 },
) {
  const dispatcher = new OutboxDispatcher({ repo: store.outbox, sender, retry, pollIntervalMs: 1_000 });
  cleanups.push(() => dispatcher.stop());
  return dispatcher;
}

async function enqueueReply(
  store: StateStore,
  dispatcher: OutboxDispatcher | undefined,
  to: string | string[],
  key: string,
) {
  const composed = await composeMessage({
    from: { address: hello.address, name: "Cassey" },
    to: (Array.isArray(to) ? to : [to]).map((address) => ({ address })),
    subject: `Re: ${key}`,
    messageId: `it-${randomUUID()}@${env.domain}`,
    inReplyTo: `<inbound-${key}@${env.domain}>`,
    markdown: `Reply for ${key}.`,
  });
  const input = {
    key,
    conversationId: `conv-${key}`,
    messageId: composed.messageId,
    account: composed.envelope.from,
    recipients: composed.envelope.to,
    raw: composed.raw,
  };
  if (dispatcher) dispatcher.enqueue(input);
  else store.outbox.enqueue(input);
  return composed;
}

function memoryStore(): StateStore {
  const store = openSqliteStore({ path: ":memory:" });
  cleanups.push(() => store.close());
  return store;
}

/**
 * Stops Postfix, enqueues a reply and lets the dispatcher fail on it a few times, then starts Postfix.
 * `held` tells whether Postfix really stayed down for that time with the entry still pending.
 */
async function postfixOutage() {
  const store = memoryStore();
  const sender = countingSender();
  const dispatcher = dispatcherFor(store, sender);
  await dispatcher.start();
  await stackCtl("stop", "postfix");
  const key = `outage-${randomUUID()}`;
  let held = false;
  let messageId = "";
  try {
    messageId = (await enqueueReply(store, dispatcher, alice.address, key)).messageId;
    const first = await dispatcher.sendNow(key);
    expect(first.status).toBe("queued");
    // Down for a while: the loop keeps retrying (300 ms, 600 ms, 1.2 s...) and failing.
    const entry = await waitFor(
      async () => store.outbox.get(key)!,
      (e) => e.status !== "pending" || e.attempts >= 4,
      20_000,
    );
    held =
      entry.status === "pending" &&
      entry.attempts >= 4 &&
      (await stackCtl("status", "postfix")).endsWith("stopped");
  } finally {
    await stackCtl("start", "postfix");
  }
  return { store, sender, key, messageId, held };
}

describe("OutboxDispatcher on Postfix", () => {
  it("records a 5xx refusal as failed with Postfix's words and does not retry it", async () => {
    const store = memoryStore();
    const sender = countingSender();
    const dispatcher = dispatcherFor(store, sender);
    const failures: EmailChannelError[] = [];
    dispatcher.on("permanentFailure", (_entry, error) => failures.push(error));
    await dispatcher.start();
    await enqueueReply(store, dispatcher, `nobody@${env.domain}`, "rejected-1");
    const outcome = await dispatcher.sendNow("rejected-1");
    expect(outcome.status).toBe("failed");
    expect(outcome.response).toMatch(/^550 5\.1\.1 <nobody@example\.test>: Recipient address rejected/);
    expect(store.outbox.get("rejected-1")).toMatchObject({ status: "failed", attempts: 1 });
    // Let the loop run several times: a failed entry is never sent again.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(sender.sends).toBe(1);
    expect(failures.map((f) => f.code)).toEqual(["SMTP_REJECTED"]);
  });

  it.skipIf(!env.controllable)(
    "delivers a message pending while Postfix is stopped exactly once after it is started again",
    async () => {
      // The stack is shared: another test run's global setup (up.sh) may start Postfix again during
      // our outage. Such a cut-short outage proves nothing, so the scenario is run again (at most 3 times).
      let outage: Awaited<ReturnType<typeof postfixOutage>> | undefined;
      for (let run = 0; run < 3 && !outage?.held; run++) outage = await postfixOutage();
      expect(outage?.held).toBe(true);
      const { store, sender, key, messageId } = outage!;
      await waitFor(
        async () => store.outbox.get(key)?.status,
        (status) => status === "sent",
        // Generous: on the shared stack another run may be restarting Dovecot (Postfix's SASL) meanwhile.
        60_000,
      );
      const final = store.outbox.get(key)!;
      expect(final.status, `attempts ${final.attempts}, last error: ${final.lastError}`).toBe("sent");
      const counts = await waitFor(
        () => countByIds(alice, [messageId]),
        (map) => (map.get(messageId) ?? 0) >= 1,
      );
      expect(counts.get(messageId)).toBe(1);
      // Give a duplicate every chance to show up, then count again.
      await new Promise((r) => setTimeout(r, 3_000));
      expect((await countByIds(alice, [messageId])).get(messageId)).toBe(1);
      // Every attempt reached the sender once, the successful one included.
      expect(sender.sends).toBe(store.outbox.get(key)!.attempts);
    },
    180_000,
  );

  it.skipIf(!env.deferredRecipient)(
    "delivers to the recipient Postfix took and keeps a follow-up for the one it deferred (450)",
    async () => {
      const deferred = env.deferredRecipient!;
      const store = memoryStore();
      const sender = countingSender();
      const dispatcher = dispatcherFor(store, sender);
      await dispatcher.start();
      const key = `deferred-${randomUUID()}`;
      const composed = await enqueueReply(store, dispatcher, [alice.address, deferred], key);
      const outcome = await dispatcher.sendNow(key);
      expect(outcome.status).toBe("sent");
      expect(outcome.rejected).toEqual([deferred]);
      // Stored with the sent mark: the same message, owed to the deferred recipient alone.
      const followUp = store.outbox.get(`${key}#deferred-1`);
      expect(followUp).toMatchObject({
        status: "pending",
        recipients: [deferred],
        messageId: composed.messageId,
        deferredFrom: key,
      });
      expect(followUp!.lastError).toMatch(/^450 4\.2\.1 /);
      expect(Buffer.compare(followUp!.raw, composed.raw)).toBe(0);
      const counts = await waitFor(
        () => countByIds(alice, [composed.messageId]),
        (map) => (map.get(composed.messageId) ?? 0) >= 1,
      );
      expect(counts.get(composed.messageId)).toBe(1);
      // Tried again on its own (Postfix defers it again here); alice is not sent it a second time.
      await waitFor(
        async () => store.outbox.get(`${key}#deferred-1`)!,
        (e) => e.attempts >= 2,
        20_000,
      );
      expect(store.outbox.get(`${key}#deferred-1`)!.status).toBe("pending");
      expect((await countByIds(alice, [composed.messageId])).get(composed.messageId)).toBe(1);
    },
    60_000,
  );

  it("sends after a restart what the previous process enqueued but never sent", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "ec-outbox-it-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = path.join(dir, "state.db");
    // Process one: the reply is stored, then the process dies before sending it.
    const before = openSqliteStore({ path: file });
    const composed = await enqueueReply(before, undefined, alice.address, `restart-${randomUUID()}`);
    before.close();
    // Process two: a fresh dispatcher on the same file sends it.
    const after = openSqliteStore({ path: file });
    cleanups.push(() => after.close());
    const dispatcher = dispatcherFor(after, countingSender());
    await dispatcher.start();
    await waitFor(
      async () => after.outbox.countByStatus().sent ?? 0,
      (n) => n === 1,
      20_000,
    );
    const counts = await waitFor(
      () => countByIds(alice, [composed.messageId]),
      (map) => (map.get(composed.messageId) ?? 0) >= 1,
    );
    expect(counts.get(composed.messageId)).toBe(1);
  });
});
