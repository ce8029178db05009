/**
 * OutboxDispatcher over the real embedded store (SQLite in memory or in a temp file). The sender is
 * a scripted stand-in: these tests are about the dispatcher's decisions (when to send, retry, give
 * up, never send twice); test/integration/smtp covers the same paths against a real Postfix.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AuthError, EmailChannelError, NetworkError, ServerError } from "../../../src/errors/index.js";
import { envelopeIdFor } from "../../../src/outbox/delivery-reports.js";
import type { OutboxDispatcher, OutboxDispatcherOptions } from "../../../src/outbox/index.js";
import type { OutboundSender } from "../../../src/smtp/index.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import { ScriptedSender, entry, fastDispatcher, until } from "./support/outbox-fixtures.js";

const deferred = () =>
  new ServerError("451 4.3.0 try later", {
    code: "SMTP_DEFERRED",
    stage: "smtp",
    retryable: true,
    status: 451,
    response: "451 4.3.0 try later",
  });
const rejected = () =>
  new ServerError("refused", {
    code: "SMTP_REJECTED",
    stage: "smtp",
    retryable: false,
    status: 550,
    response: "550 5.1.1 <nobody@example.test>: Recipient address rejected",
  });

const stores: StateStore[] = [];
const dispatchers: OutboxDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  for (const s of stores.splice(0)) s.close();
});

function setup(sender: OutboundSender, extra: Partial<OutboxDispatcherOptions> = {}, store?: StateStore) {
  const db = store ?? openSqliteStore({ path: ":memory:" });
  stores.push(db);
  const dispatcher = fastDispatcher(db.outbox, sender, extra);
  dispatchers.push(dispatcher);
  return { db, dispatcher };
}

describe("OutboxDispatcher", () => {
  it("sends the stored bytes, marks the entry sent, calls onSent and never sends the key again", async () => {
    const sender = new ScriptedSender();
    const seen: unknown[] = [];
    const { db, dispatcher } = setup(sender, {
      onSent: (e, info) => void seen.push([e.key, e.status, info.replayed]),
    });
    const events: string[] = [];
    dispatcher.on("sent", (e) => events.push(e.key));
    dispatcher.enqueue(entry("k1"));
    const outcome = await dispatcher.sendNow("k1");
    expect(outcome).toMatchObject({
      status: "sent",
      response: "250 2.0.0 Ok: queued as 4Xk2",
      messageId: "k1@cassey.ai",
    });
    expect(Buffer.from(sender.calls[0]!.raw).toString()).toBe("Message-ID: <k1@cassey.ai>\r\n\r\nhi\r\n");
    // The ENVID (RFC 3461) bounces will name: derived from the Message-ID, stored with the entry.
    expect(sender.calls[0]!.envelope).toEqual({
      from: "hello@cassey.ai",
      to: ["alice@example.com"],
      envelopeId: envelopeIdFor("k1@cassey.ai"),
    });
    expect(db.outbox.getByEnvelopeId(envelopeIdFor("k1@cassey.ai"))?.key).toBe("k1");
    expect(db.outbox.get("k1")).toMatchObject({
      status: "sent",
      attempts: 1,
      response: "250 2.0.0 Ok: queued as 4Xk2",
    });
    expect(seen).toEqual([["k1", "sent", false]]);
    expect(events).toEqual(["k1"]);
    // Enqueue again with the same key, sendNow again, let the loop run: nothing is sent twice.
    expect(dispatcher.enqueue(entry("k1")).created).toBe(false);
    expect(await dispatcher.sendNow("k1")).toMatchObject({ status: "sent" });
    await dispatcher.start();
    await new Promise((r) => setTimeout(r, 120));
    expect(sender.calls).toHaveLength(1);
  });

  it("runs one send per key when sendNow and the loop race", async () => {
    const sender = new ScriptedSender();
    const { dispatcher } = setup(sender);
    dispatcher.enqueue(entry("k2"));
    await dispatcher.start();
    const outcomes = await Promise.all([
      dispatcher.sendNow("k2"),
      dispatcher.sendNow("k2"),
      dispatcher.sendNow("k2"),
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(outcomes.map((o) => o.status)).toEqual(["sent", "sent", "sent"]);
    expect(sender.calls).toHaveLength(1);
  });

  it("retries a transient failure with backoff until the server accepts", async () => {
    const sender = new ScriptedSender([
      deferred(),
      new NetworkError("reset", { code: "SMTP_NETWORK", stage: "smtp" }),
    ]);
    const { db, dispatcher } = setup(sender);
    const retries: string[] = [];
    dispatcher.on("retryScheduled", (e, err, at) => {
      retries.push(err.code);
      expect(Date.parse(e.nextAttemptAt)).toBe(at.getTime());
    });
    dispatcher.enqueue(entry("k3"));
    const first = await dispatcher.sendNow("k3");
    expect(first.status).toBe("queued");
    expect(first.error?.code).toBe("SMTP_DEFERRED");
    expect(db.outbox.get("k3")).toMatchObject({
      status: "pending",
      attempts: 1,
      lastError: expect.stringContaining("451"),
    });
    await dispatcher.start();
    await until(() => db.outbox.get("k3")?.status === "sent");
    expect(sender.calls).toHaveLength(3);
    expect(retries).toEqual(["SMTP_DEFERRED", "SMTP_NETWORK"]);
    expect(db.outbox.get("k3")?.attempts).toBe(3);
  });

  it("fails a 5xx at once with the server's words, emits permanentFailure and never retries", async () => {
    const sender = new ScriptedSender([rejected()]);
    const { db, dispatcher } = setup(sender);
    const failures: string[] = [];
    dispatcher.on("permanentFailure", (e, err) => failures.push(`${e.key}:${err.code}`));
    dispatcher.enqueue(entry("k4"));
    await dispatcher.start();
    const outcome = await dispatcher.sendNow("k4");
    expect(outcome.status).toBe("failed");
    expect(outcome.response).toContain("550 5.1.1 <nobody@example.test>");
    expect(db.outbox.get("k4")).toMatchObject({
      status: "failed",
      lastError: expect.stringContaining("550 5.1.1"),
    });
    await new Promise((r) => setTimeout(r, 150));
    expect(sender.calls).toHaveLength(1);
    expect(failures).toEqual(["k4:SMTP_REJECTED"]);
    expect(await dispatcher.sendNow("k4")).toMatchObject({ status: "failed" });
  });

  it("gives up after maxAttempts with OUTBOX_EXPIRED", async () => {
    const sender = new ScriptedSender([deferred(), deferred(), deferred(), deferred()]);
    const { db, dispatcher } = setup(sender, { retry: { baseDelayMs: 10, maxDelayMs: 20, maxAttempts: 3 } });
    const failures: EmailChannelError[] = [];
    dispatcher.on("permanentFailure", (_e, err) => failures.push(err));
    dispatcher.enqueue(entry("k5"));
    await dispatcher.start();
    await until(() => db.outbox.get("k5")?.status === "failed");
    expect(sender.calls).toHaveLength(3);
    expect(failures.map((f) => f.code)).toEqual(["OUTBOX_EXPIRED"]);
    expect(db.outbox.get("k5")?.lastError).toMatch(/gave up after 3 attempts.*451/);
  });

  it("does not send an entry older than maxTotalMs", async () => {
    const sender = new ScriptedSender();
    const later = Date.now() + 2 * 86_400_000;
    const { db, dispatcher } = setup(sender, { now: () => new Date(later) });
    dispatcher.enqueue(entry("k6"));
    const outcome = await dispatcher.sendNow("k6");
    expect(outcome).toMatchObject({ status: "failed", error: { code: "OUTBOX_EXPIRED" } });
    expect(sender.calls).toHaveLength(0);
    expect(db.outbox.get("k6")?.status).toBe("failed");
  });

  it("keeps retrying on auth errors (a config problem, not the message's) and honours retryAfter", async () => {
    const limited = new EmailChannelError("rate", {
      code: "SMTP_RATE_LIMITED",
      stage: "smtp",
      kind: "internal",
      retryable: true,
      retryAfter: 60,
    });
    const sender = new ScriptedSender([
      new AuthError("535", { code: "SMTP_AUTH_FAILED", stage: "smtp" }),
      limited,
    ]);
    const { db, dispatcher } = setup(sender);
    dispatcher.enqueue(entry("k7"));
    expect((await dispatcher.sendNow("k7")).status).toBe("queued");
    expect(db.outbox.get("k7")?.status).toBe("pending");
    const before = Date.now();
    const second = await dispatcher.sendNow("k7", { force: true });
    expect(second.status).toBe("queued");
    expect(Date.parse(second.nextAttemptAt!)).toBeGreaterThanOrEqual(before + 60_000);
  });

  it("leaves a waiting retry to the loop unless forced", async () => {
    const sender = new ScriptedSender([deferred()]);
    const { dispatcher } = setup(sender, { retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    dispatcher.enqueue(entry("k8"));
    await dispatcher.sendNow("k8");
    expect((await dispatcher.sendNow("k8")).status).toBe("queued");
    expect(sender.calls).toHaveLength(1);
    expect((await dispatcher.sendNow("k8", { force: true })).status).toBe("sent");
    expect(sender.calls).toHaveLength(2);
  });

  it("uses a sender and envelope sender per entry, and reports partly refused recipients", async () => {
    const partial = new ScriptedSender([
      { response: "250 ok", accepted: ["alice@example.com"], rejected: ["x@example.com"] },
    ]);
    const { dispatcher } = setup(new ScriptedSender(), {
      sender: (e) => (e.account === "alice-account" ? partial : new ScriptedSender()),
      envelopeFrom: () => "alice@cassey.ai",
    });
    const refused: string[][] = [];
    dispatcher.on("recipientsRejected", (_e, list) => refused.push(list));
    dispatcher.enqueue({ ...entry("k9"), account: "alice-account" });
    expect(await dispatcher.sendNow("k9")).toMatchObject({ status: "sent", rejected: ["x@example.com"] });
    expect(partial.calls[0]!.envelope.from).toBe("alice@cassey.ai");
    expect(refused).toEqual([["x@example.com"]]);
  });

  it("sends after a restart what was pending, and replays onSent for sent entries not saved to Sent", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "ec-outbox-"));
    try {
      const file = path.join(dir, "state.db");
      const first = openSqliteStore({ path: file });
      first.outbox.enqueue(entry("pending-1"));
      first.outbox.enqueue(entry("sent-1"));
      first.outbox.markSent("sent-1", "250 ok");
      first.close();

      const sender = new ScriptedSender();
      const replays: string[] = [];
      const reopened = openSqliteStore({ path: file });
      const { dispatcher } = setup(
        sender,
        {
          onSent: (e, info) => {
            replays.push(`${e.key}:${info.replayed}`);
            reopened.outbox.markSavedToSent(e.key);
          },
        },
        reopened,
      );
      await dispatcher.start();
      await until(() => reopened.outbox.get("pending-1")?.status === "sent");
      expect(sender.calls.map((c) => Buffer.from(c.raw).toString())).toEqual([
        "Message-ID: <pending-1@cassey.ai>\r\n\r\nhi\r\n",
      ]);
      expect(replays.sort()).toEqual(["pending-1:false", "sent-1:true"]);
      expect(reopened.outbox.unsaved()).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("stop() is idempotent, cuts waits short, lets a send finish within stopTimeoutMs", async () => {
    const sender = new ScriptedSender();
    const { db, dispatcher } = setup(sender, { pollIntervalMs: 60_000 });
    await dispatcher.start();
    await dispatcher.start();
    dispatcher.enqueue(entry("k10"));
    await until(() => sender.calls.length === 1);
    const started = Date.now();
    await Promise.all([dispatcher.stop(), dispatcher.stop()]);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(db.outbox.get("k10")?.status).toBe("sent");
    await dispatcher.stop();
  });

  it("stop() aborts a send that outlives stopTimeoutMs and leaves the entry pending, attempts unchanged", async () => {
    const sender = new ScriptedSender(["hang"]);
    const { db, dispatcher } = setup(sender, { stopTimeoutMs: 50 });
    dispatcher.enqueue(entry("k11"));
    await dispatcher.start();
    await until(() => sender.calls.length === 1);
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    await dispatcher.stop();
    expect(db.outbox.get("k11")).toMatchObject({ status: "pending", attempts: 0 });
    expect(dispatcher.activeSends).toBe(0);
    // No timer of the dispatcher outlives stop().
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
    // Nothing new is attempted while stopped... and a new start sends it.
    await dispatcher.start();
    await until(() => db.outbox.get("k11")?.status === "sent");
  });

  it("rejects sendNow for an unknown key", async () => {
    const { dispatcher } = setup(new ScriptedSender());
    await expect(dispatcher.sendNow("nope")).rejects.toMatchObject({ code: "OUTBOX_UNKNOWN_KEY" });
  });
});
