/**
 * The crash window (RFC 1047): a send cut off after the message went out and before the server's
 * reply was recorded leaves its entry "in doubt". These tests drive the dispatcher's decisions over
 * the real embedded store with a scripted sender; the state a crash leaves behind is written the way
 * the dispatcher writes it (markSending, then nothing). test/integration/smtp/in-doubt.test.ts runs
 * the same story against real Postfix and Dovecot.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ServerError } from "../../../src/errors/index.js";
import type { OutboxDispatcher, OutboxDispatcherOptions } from "../../../src/outbox/index.js";
import { type SendResult, mapSmtpError } from "../../../src/smtp/index.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import { ScriptedSender, entry, fastDispatcher, until } from "./support/outbox-fixtures.js";

const COPY = "hello@cassey.ai";
const stores: StateStore[] = [];
const dispatchers: OutboxDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  for (const s of stores.splice(0)) s.close();
});

/** A store holding one entry whose send was cut off `agoMs` ago (what a SIGKILL mid-send leaves). */
function crashedStore(key: string, agoMs = 0): StateStore {
  const db = openSqliteStore({ path: ":memory:" });
  stores.push(db);
  db.outbox.enqueue(entry(key));
  db.outbox.markSending(key, new Date(Date.now() - agoMs).toISOString());
  return db;
}

function dispatcherOn(db: StateStore, sender: ScriptedSender, extra: Partial<OutboxDispatcherOptions> = {}) {
  const d = fastDispatcher(db.outbox, sender, {
    deliveryCopy: (e) => e.account,
    inDoubtCheckMs: 20,
    ...extra,
  });
  dispatchers.push(d);
  return d;
}

const refusal = (recipient: string, code: number): SendResult => ({
  response: "250 2.0.0 Ok: queued as 7Hq1",
  accepted: [COPY],
  rejected: [recipient],
  rejectedReplies: [{ recipient, code, response: `${code} no such user` }],
});

describe("OutboxDispatcher: the delivery copy and sends in doubt", () => {
  it("names the account's own address as a last envelope recipient and reports the send without it", async () => {
    const db = openSqliteStore({ path: ":memory:" });
    stores.push(db);
    const sender = new ScriptedSender([
      { response: "250 ok", accepted: ["alice@example.com", COPY], rejected: [] },
    ]);
    const d = dispatcherOn(db, sender);
    const marks: (string | undefined)[] = [];
    const send = sender.send.bind(sender);
    sender.send = (req, signal) => {
      marks.push(db.outbox.get("c1")?.sendingSince);
      return send(req, signal);
    };
    d.enqueue(entry("c1"));
    const outcome = await d.sendNow("c1");
    expect(sender.calls[0]!.envelope).toMatchObject({ from: COPY, to: ["alice@example.com", COPY] });
    expect(outcome).toMatchObject({ status: "sent", rejected: [] });
    // The send was marked while it ran, and the mark is gone with its outcome.
    expect(marks).toHaveLength(1);
    expect(typeof marks[0]).toBe("string");
    expect(db.outbox.get("c1")?.sendingSince).toBeUndefined();
  });

  it("marks an entry in doubt sent, without sending it again, when its delivery copy arrives", async () => {
    const db = crashedStore("d1");
    const cutOff = db.outbox.get("d1")!.sendingSince;
    let copyArrived = false;
    const asked: Date[] = [];
    const sender = new ScriptedSender();
    const sentEvents: string[] = [];
    const onSent: string[] = [];
    const d = dispatcherOn(db, sender, {
      confirmDelivered: (_e, since) => {
        asked.push(since);
        return copyArrived;
      },
      onSent: (e, info) => void onSent.push(`${e.key}:${info.replayed}`),
    });
    d.on("sent", (e) => sentEvents.push(e.key));
    await d.start();
    await until(() => asked.length >= 2); // it looked, found nothing, and waits
    expect(db.outbox.get("d1")).toMatchObject({ status: "pending", attempts: 0 });
    copyArrived = true;
    await until(() => db.outbox.get("d1")?.status === "sent");
    expect(sender.calls).toHaveLength(0);
    expect(db.outbox.get("d1")?.response).toMatch(/delivery copy arrived/);
    expect(db.outbox.get("d1")?.sendingSince).toBeUndefined();
    // It asked about copies since the send that was cut off.
    expect(asked[0]!.toISOString()).toBe(cutOff);
    expect(sentEvents).toEqual(["d1"]);
    expect(onSent).toEqual(["d1:false"]);
  });

  it("sends an entry in doubt again, once, when no copy arrives within the grace period", async () => {
    const db = crashedStore("d2");
    const sender = new ScriptedSender();
    let checks = 0;
    const d = dispatcherOn(db, sender, {
      confirmDelivered: () => {
        checks++;
        return false;
      },
      inDoubtGraceMs: 200,
    });
    const started = Date.now();
    await d.start();
    await until(() => db.outbox.get("d2")?.status === "sent");
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(checks).toBeGreaterThan(1);
    expect(sender.calls).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(sender.calls).toHaveLength(1);
    expect(db.outbox.get("d2")).toMatchObject({ status: "sent", attempts: 2 }); // the crashed send counts
  });

  it("counts the grace period from its own start when the crash was long ago (the copy may be waiting unread)", async () => {
    const db = crashedStore("d3", 3_600_000);
    const sender = new ScriptedSender();
    let copyArrived = false;
    const d = dispatcherOn(db, sender, { confirmDelivered: () => copyArrived, inDoubtGraceMs: 5_000 });
    await d.start();
    await new Promise((r) => setTimeout(r, 120));
    expect(sender.calls).toHaveLength(0);
    copyArrived = true;
    await until(() => db.outbox.get("d3")?.status === "sent");
    expect(sender.calls).toHaveLength(0);
  });

  it("sends an entry in doubt again at once when there is no copy to look for", async () => {
    const db = crashedStore("d4");
    const sender = new ScriptedSender();
    // No copy for this entry (e.g. its account's INBOX is not watched): nothing to wait for.
    const d = dispatcherOn(db, sender, { deliveryCopy: () => undefined, confirmDelivered: () => false });
    await d.start();
    await until(() => db.outbox.get("d4")?.status === "sent");
    expect(sender.calls).toHaveLength(1);
    expect(sender.calls[0]!.envelope.to).toEqual(["alice@example.com"]);
  });

  it("leaves an aborted send in doubt (it may have gone out) and a failed one not", async () => {
    const db = openSqliteStore({ path: ":memory:" });
    stores.push(db);
    const sender = new ScriptedSender(["hang"]);
    const d = dispatcherOn(db, sender, { stopTimeoutMs: 30 });
    d.enqueue(entry("a1"));
    await d.start();
    await until(() => sender.calls.length === 1);
    await d.stop();
    expect(db.outbox.get("a1")).toMatchObject({ status: "pending", attempts: 0 });
    expect(db.outbox.get("a1")?.sendingSince).toEqual(expect.any(String));

    const failing = new ScriptedSender([
      new ServerError("451 later", { code: "SMTP_DEFERRED", stage: "smtp", retryable: true, status: 451 }),
      "hang",
    ]);
    const d2 = dispatcherOn(db, failing, { pollIntervalMs: 60_000 });
    d2.enqueue(entry("f1"));
    await d2.sendNow("f1");
    expect(db.outbox.get("f1")).toMatchObject({ status: "pending", attempts: 1 });
    expect(db.outbox.get("f1")?.sendingSince).toBeUndefined();
  });

  it("treats a send where only the copy was accepted as the refusal it is: 5xx fails, 4xx retries", async () => {
    const db = openSqliteStore({ path: ":memory:" });
    stores.push(db);
    const sender = new ScriptedSender([
      refusal("alice@example.com", 550),
      refusal("alice@example.com", 450),
      { response: "250 ok", accepted: ["alice@example.com"], rejected: [COPY] },
    ]);
    const d = dispatcherOn(db, sender);
    d.enqueue(entry("r1"));
    expect(await d.sendNow("r1")).toMatchObject({ status: "failed", error: { code: "SMTP_REJECTED" } });
    expect(db.outbox.get("r1")?.lastError).toMatch(/550 no such user/);

    d.enqueue(entry("r2"));
    expect(await d.sendNow("r2")).toMatchObject({ status: "queued", error: { code: "SMTP_DEFERRED" } });
    // The retry goes through; the server refusing only the copy does not fail the reply.
    expect(await d.sendNow("r2", { force: true })).toMatchObject({ status: "sent", rejected: [] });
    expect(sender.calls).toHaveLength(3);
  });
});

/** What SmtpSender throws when nodemailer reports a socket error (`cause`: nodemailer's error). */
const lostConnection = (cause: Record<string, unknown>) =>
  mapSmtpError(Object.assign(new Error("lost"), cause));

describe("OutboxDispatcher: a connection lost while the server may have been taking the message", () => {
  const cut = () => lostConnection({ code: "ECONNECTION", command: "CONN" });

  it("leaves the entry in doubt and marks it sent, without a second send, when its copy arrives", async () => {
    const db = openSqliteStore({ path: ":memory:" });
    stores.push(db);
    const sender = new ScriptedSender([cut()]);
    let copyArrived = false;
    const asked: Date[] = [];
    const d = dispatcherOn(db, sender, {
      confirmDelivered: (_e, since) => {
        asked.push(since);
        return copyArrived;
      },
      inDoubtGraceMs: 60_000,
    });
    d.enqueue(entry("n1"));
    expect(await d.sendNow("n1")).toMatchObject({ status: "queued", error: { code: "SMTP_NETWORK" } });
    const after = db.outbox.get("n1")!;
    // As after a crash: the send's mark stays, its attempt is not counted before its outcome is known.
    expect(after).toMatchObject({ status: "pending", attempts: 0, lastError: expect.stringMatching(/lost/) });
    expect(after.sendingSince).toEqual(expect.any(String));
    await d.start();
    await until(() => asked.length >= 2); // it looks for the copy and waits; it does not send again
    expect(sender.calls).toHaveLength(1);
    expect(asked[0]!.toISOString()).toBe(after.sendingSince);
    copyArrived = true;
    await until(() => db.outbox.get("n1")?.status === "sent");
    expect(sender.calls).toHaveLength(1);
    expect(db.outbox.get("n1")).toMatchObject({
      attempts: 1,
      response: expect.stringMatching(/copy arrived/),
    });
  });

  it("counts the copy of a send that reached nobody, so that copy cannot confirm a later send in doubt", async () => {
    const db = openSqliteStore({ path: ":memory:" });
    stores.push(db);
    // Attempt 1: the only recipient deferred, the copy taken (it arrives); attempt 2: cut off.
    const sender = new ScriptedSender([refusal("alice@example.com", 450), cut()]);
    const strayCounts: number[] = [];
    const d = dispatcherOn(db, sender, {
      confirmDelivered: (e) => {
        strayCounts.push(e.strayCopies);
        return false;
      },
      inDoubtGraceMs: 60_000,
    });
    d.enqueue(entry("s1"));
    expect(await d.sendNow("s1")).toMatchObject({ status: "queued", error: { code: "SMTP_DEFERRED" } });
    expect(db.outbox.get("s1")).toMatchObject({ strayCopies: 1, attempts: 1 });
    expect(await d.sendNow("s1", { force: true })).toMatchObject({ status: "queued" });
    await d.start();
    await until(() => strayCounts.length >= 1);
    expect(strayCounts[0]).toBe(1);
    expect(sender.calls).toHaveLength(2);
    // A send whose copy the server refused leaves no stray copy.
    const refusedBoth = new ScriptedSender([
      { response: "250 ok", accepted: ["alice@example.com"], rejected: [COPY] },
    ]);
    const d2 = dispatcherOn(db, refusedBoth);
    d2.enqueue(entry("s2"));
    await d2.sendNow("s2");
    expect(db.outbox.get("s2")).toMatchObject({ status: "sent", strayCopies: 0 });
  });

  it("sends it again, once, when no copy arrives within the grace period", async () => {
    const db = openSqliteStore({ path: ":memory:" });
    stores.push(db);
    const sender = new ScriptedSender([cut()]);
    const d = dispatcherOn(db, sender, { confirmDelivered: () => false, inDoubtGraceMs: 200 });
    d.enqueue(entry("n2"));
    const started = Date.now();
    await d.sendNow("n2");
    await d.start();
    await until(() => db.outbox.get("n2")?.status === "sent");
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(sender.calls).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 150));
    expect(sender.calls).toHaveLength(2);
    // Every send counted once: the one cut off and the one that went through.
    expect(db.outbox.get("n2")).toMatchObject({ status: "sent", attempts: 2 });
  });

  it.each([
    {
      when: "the connection was never made",
      error: () => lostConnection({ code: "ESOCKET", originalCode: "ECONNREFUSED", command: "CONN" }),
      copy: true,
    },
    { when: "there is no copy to wait for", error: cut, copy: false },
  ])("retries after the backoff, not the grace period, when $when", async ({ error, copy }) => {
    const db = openSqliteStore({ path: ":memory:" });
    stores.push(db);
    const sender = new ScriptedSender([error()]);
    const d = dispatcherOn(db, sender, {
      confirmDelivered: () => false,
      inDoubtGraceMs: 60_000,
      ...(copy ? {} : { deliveryCopy: () => undefined }),
    });
    d.enqueue(entry("n3"));
    await d.sendNow("n3");
    expect(db.outbox.get("n3")).toMatchObject({ attempts: 1 });
    expect(db.outbox.get("n3")?.sendingSince).toBeUndefined();
    await d.start();
    await until(() => db.outbox.get("n3")?.status === "sent");
    expect(sender.calls).toHaveLength(2);
  });
});
