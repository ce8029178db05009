import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore, SCHEMA_VERSION } from "../../../src/store/index.js";

const dirs: string[] = [];
function tempPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "ec-store-"));
  dirs.push(dir);
  return join(dir, "state", "store.sqlite");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Takes a store back to before migration 4 (the outbox's ENVID and delivery reports). */
const UNDO_V4 = `DROP INDEX outbox_envelope_id; DROP INDEX outbox_message_id;
  ALTER TABLE outbox DROP COLUMN envelope_id; ALTER TABLE outbox DROP COLUMN delivery_report;`;
/** Takes a store back to before migration 6 (the outbox's follow-ups to deferred recipients). */
const UNDO_V6 = "DROP INDEX outbox_deferred_from; ALTER TABLE outbox DROP COLUMN deferred_from;";
/** Takes a store back to before migration 7 (when watching a mailbox began). */
const UNDO_V7 = "ALTER TABLE cursors DROP COLUMN watching_since;";
/** Takes a store back to before migration 8 (delivery copies of sends that reached nobody). */
const UNDO_V8 = "ALTER TABLE outbox DROP COLUMN stray_copies;";

describe("SQLite state store", () => {
  it("persists cursors and the inbound ledger across reopen", () => {
    const path = tempPath();
    const a = openSqliteStore({ path });
    a.cursors.set({ account: "hello@x.test", mailbox: "INBOX", uidValidity: "42", lastUid: 7 });
    a.inbound.put({
      account: "hello@x.test",
      mailbox: "INBOX",
      uidValidity: "42",
      uid: 8,
      messageId: "m8@x.test",
      status: "received",
      attempts: 0,
    });
    expect(a.inbound.bumpAttempts("hello@x.test", "INBOX", "42", 8)).toMatchObject({
      uid: 8,
      messageId: "m8@x.test",
      status: "received",
      attempts: 1,
    });
    expect(a.inbound.bumpAttempts("hello@x.test", "INBOX", "42", 9)).toBeUndefined();
    a.close();
    a.close(); // idempotent
    const b = openSqliteStore({ path });
    expect(b.cursors.get("hello@x.test", "INBOX")).toEqual({
      account: "hello@x.test",
      mailbox: "INBOX",
      uidValidity: "42",
      lastUid: 7,
      watchingSince: expect.any(String),
    });
    const unfinished = b.inbound.unfinished();
    expect(unfinished.map((r) => [r.uid, r.attempts, r.status])).toEqual([[8, 1, "received"]]);
    expect(b.inbound.setStatus(unfinished[0]!, "quarantined", "why")).toBe(true);
    expect(b.inbound.getByUid("hello@x.test", "INBOX", "42", 8)).toMatchObject({
      status: "quarantined",
      reason: "why",
      attempts: 1,
      messageId: "m8@x.test",
    });
    expect(b.inbound.setStatus({ ...unfinished[0]!, uid: 99 }, "handled")).toBe(false);
    b.inbound.put({ ...unfinished[0]!, status: "handled" });
    expect(b.inbound.unfinished()).toEqual([]);
    expect(b.inbound.getByMessageId("m8@x.test")[0]?.status).toBe("handled");
    expect(b.inbound.countByStatus()).toEqual({ handled: 1 });
    b.close();
  });

  it("reads the records of several UIDs of one mailbox at once", () => {
    const s = openSqliteStore({ path: ":memory:" });
    const base = { account: "hello@x.test", mailbox: "INBOX", status: "received" as const, attempts: 0 };
    s.inbound.put({ ...base, uidValidity: "42", uid: 8, messageId: "m8@x.test" });
    s.inbound.put({ ...base, uidValidity: "42", uid: 12, messageId: "m12@x.test" });
    s.inbound.put({ ...base, uidValidity: "43", uid: 10, messageId: "m10@x.test" });
    s.inbound.put({ ...base, mailbox: "Other", uidValidity: "42", uid: 9, messageId: "m9@x.test" });
    const some = s.inbound.getByUids("hello@x.test", "INBOX", "42", [12, 9, 8, 11, 10]);
    expect([...some.keys()].sort((a, b) => a - b)).toEqual([8, 12]);
    expect(some.get(12)?.messageId).toBe("m12@x.test");
    expect(s.inbound.getByUids("hello@x.test", "INBOX", "42", [10]).size).toBe(0);
    expect(s.inbound.getByUids("hello@x.test", "INBOX", "42", []).size).toBe(0);
    s.close();
  });

  it("names a conversation's latest sender the guards let through", () => {
    const s = openSqliteStore({ path: ":memory:" });
    const base = { account: "hello@x.test", mailbox: "INBOX", uidValidity: "1", attempts: 1 };
    const at = (minute: number) => `2026-01-01T00:0${minute}:00.000Z`;
    expect(s.inbound.latestSender("c1")).toBeUndefined();
    s.inbound.put({
      ...base,
      uid: 1,
      messageId: "m1@x",
      conversationId: "c1",
      fromAddress: "alice@x.test",
      status: "handled",
      receivedAt: at(1),
    });
    s.inbound.put({
      ...base,
      uid: 2,
      messageId: "m2@x",
      conversationId: "c1",
      fromAddress: "bob@x.test",
      status: "received",
      receivedAt: at(2),
    });
    // Later, but refused by a guard: not someone the conversation writes to.
    s.inbound.put({
      ...base,
      uid: 3,
      messageId: "m3@x",
      conversationId: "c1",
      fromAddress: "spoof@x.test",
      status: "ignored",
      receivedAt: at(3),
    });
    s.inbound.put({
      ...base,
      uid: 4,
      messageId: "m4@x",
      conversationId: "c2",
      fromAddress: "carol@x.test",
      status: "handled",
      receivedAt: at(4),
    });
    expect(s.inbound.latestSender("c1")).toBe("bob@x.test");
    expect(s.inbound.latestSender("c2")).toBe("carol@x.test");
    s.close();
  });

  it("keeps the first conversation a Message-ID was seen in", () => {
    const s = openSqliteStore({ path: ":memory:" });
    s.threads.put({
      messageId: "a@x",
      conversationId: "c1",
      participants: ["alice@x"],
      direction: "in",
      at: "t",
    });
    s.threads.put({
      messageId: "a@x",
      conversationId: "c2",
      participants: ["mallory@x"],
      direction: "in",
      at: "t",
    });
    expect(s.threads.get("a@x")?.conversationId).toBe("c1");
    expect(s.threads.get("a@x")?.participants).toEqual(["alice@x"]);
    s.close();
  });

  it("keeps a send's mark, uncounted, when a failed attempt is in doubt, and clears it otherwise", () => {
    const s = openSqliteStore({ path: ":memory:" });
    const raw = new TextEncoder().encode("Subject: hi\r\n\r\nbody");
    const base = { conversationId: "c", account: "hello@x", recipients: ["alice@x"], raw };
    s.outbox.enqueue({ ...base, key: "d#0", messageId: "d@x" });
    s.outbox.enqueue({ ...base, key: "f#0", messageId: "f@x" });
    const since = new Date().toISOString();
    const next = new Date(Date.now() + 2_000).toISOString();
    for (const key of ["d#0", "f#0"]) s.outbox.markSending(key, since);
    s.outbox.markAttemptFailed("d#0", "connection lost", next, { inDoubt: true });
    s.outbox.markAttemptFailed("f#0", "refused", next);
    expect(s.outbox.get("d#0")).toMatchObject({
      attempts: 0,
      lastError: "connection lost",
      sendingSince: since,
    });
    expect(s.outbox.get("d#0")?.nextAttemptAt).toBe(next);
    expect(s.outbox.get("f#0")).toMatchObject({ attempts: 1, lastError: "refused" });
    expect(s.outbox.get("f#0")?.sendingSince).toBeUndefined();
    s.close();
  });

  it("enqueues outbox entries idempotently by key and tracks their state", () => {
    const s = openSqliteStore({ path: ":memory:" });
    const base = {
      key: "in-1#0",
      conversationId: "c",
      messageId: "out-1@x",
      account: "hello@x",
      recipients: ["alice@x"],
      raw: new TextEncoder().encode("Subject: hi\r\n\r\nbody"),
    };
    const first = s.outbox.enqueue(base);
    const second = s.outbox.enqueue({ ...base, messageId: "other@x" });
    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.entry.messageId).toBe("out-1@x");
    expect(new TextDecoder().decode(second.entry.raw)).toContain("Subject: hi");
    expect(s.outbox.due(new Date(Date.now() + 1000)).map((e) => e.key)).toEqual(["in-1#0"]);
    const later = new Date(Date.now() + 60_000).toISOString();
    s.outbox.markAttemptFailed("in-1#0", "421 try later", later);
    expect(s.outbox.due(new Date())).toEqual([]);
    expect(s.outbox.get("in-1#0")?.attempts).toBe(1);
    s.outbox.markSent("in-1#0", "250 ok");
    expect(s.outbox.pending()).toEqual([]);
    expect(s.outbox.unsaved().map((e) => e.key)).toEqual(["in-1#0"]);
    s.outbox.markSavedToSent("in-1#0");
    expect(s.outbox.unsaved()).toEqual([]);
    expect(s.outbox.countByStatus()).toEqual({ sent: 1 });
    s.close();
  });

  it("counts rate events in a window and marks reminders fired once", () => {
    const s = openSqliteStore({ path: ":memory:" });
    const t0 = new Date("2026-01-01T00:00:00Z");
    for (let i = 0; i < 5; i++) s.rates.record("sender:alice", new Date(t0.getTime() + i * 60_000));
    expect(s.rates.count("sender:alice", new Date(t0.getTime() + 2 * 60_000))).toBe(3);
    s.rates.prune(new Date(t0.getTime() + 4 * 60_000));
    expect(s.rates.count("sender:alice", t0)).toBe(1);
    expect(s.fired.markFired("r1", t0)).toBe(true);
    expect(s.fired.markFired("r1", t0)).toBe(false);
    expect(s.fired.wasFired("r1", t0)).toBe(true);
    expect(s.fired.wasFired("r1", new Date(t0.getTime() + 1))).toBe(false);
    s.close();
  });

  it("stores DAV collections and objects, and the embedded sinks", async () => {
    const s = openSqliteStore({ path: ":memory:" });
    s.dav.putCollection({
      url: "http://h/cal/",
      account: "a@x",
      kind: "calendar",
      syncToken: "t1",
      updatedAt: "now",
    });
    s.dav.putObject({
      collectionUrl: "http://h/cal/",
      href: "/cal/e1",
      etag: '"1"',
      data: "BEGIN:VCALENDAR",
      updatedAt: "now",
    });
    expect(s.dav.getCollection("http://h/cal/")?.syncToken).toBe("t1");
    expect(s.dav.listObjects("http://h/cal/").map((o) => o.href)).toEqual(["/cal/e1"]);
    s.dav.deleteCollection("http://h/cal/");
    expect(s.dav.listObjects("http://h/cal/")).toEqual([]);

    const fireAt = new Date("2026-02-01T09:00:00Z");
    await s.reminders.upsert([
      {
        id: "r1",
        userId: "email:a@x",
        title: "Dentist",
        fireAt,
        eventStart: new Date("2026-02-01T10:00:00Z"),
        source: { calendarUrl: "c", href: "h", uid: "u" },
      },
    ]);
    const [r] = await s.reminders.list();
    expect(r?.fireAt.toISOString()).toBe(fireAt.toISOString());
    await s.profiles.upsert([
      {
        id: "p1",
        userIds: ["email:alice@x"],
        displayName: "Alice",
        emails: [{ address: "Alice@X" }],
        phones: [],
        source: { addressBookUrl: "b", href: "h", uid: "u" },
      },
    ]);
    expect((await s.profiles.lookupByEmail("alice@x"))?.displayName).toBe("Alice");
    await s.profiles.remove(["p1"]);
    expect(await s.profiles.lookupByEmail("alice@x")).toBeUndefined();
    s.close();
  });

  it("keeps the mailbox change a settled message still owes until it is marked done", () => {
    const s = openSqliteStore({ path: ":memory:" });
    const base = { account: "hello@x.test", mailbox: "INBOX", uidValidity: "42", attempts: 1 };
    for (const uid of [3, 4, 5, 6])
      s.inbound.put({ ...base, uid, messageId: `m${uid}@x.test`, status: "received" });
    s.inbound.put({ ...base, uidValidity: "43", uid: 3, messageId: "other@x.test", status: "received" });
    expect(s.inbound.setStatus({ ...base, uid: 3 }, "handled", undefined, "seen")).toBe(true);
    s.inbound.setStatus({ ...base, uid: 4 }, "handled"); // nothing owed
    s.inbound.put({
      ...base,
      uid: 5,
      messageId: "m5@x.test",
      status: "quarantined",
      reason: "too big",
      mailboxTodo: "quarantine",
    });
    s.inbound.setStatus({ ...base, uid: 6 }, "ignored", "ALLOWLIST_DENIED: stranger", "refused");
    s.inbound.setStatus({ ...base, uidValidity: "43", uid: 3 }, "handled", undefined, "seen");
    // A direct decision writes what it owes with its record, in one statement.
    s.inbound.put({ ...base, uid: 7, messageId: "m7@x.test", status: "duplicate", mailboxTodo: "seen" });
    expect(s.inbound.mailboxTodos("hello@x.test", "INBOX", "42")).toEqual([
      { uid: 3, todo: "seen" },
      { uid: 5, todo: "quarantine", reason: "too big" },
      { uid: 6, todo: "refused", reason: "ALLOWLIST_DENIED: stranger" },
      { uid: 7, todo: "seen" },
    ]);
    // A later full put (e.g. a status rewrite) keeps what is owed.
    s.inbound.put({ ...base, uid: 5, messageId: "m5@x.test", status: "quarantined", reason: "too big" });
    s.inbound.mailboxDone("hello@x.test", "INBOX", "42", [3, 5, 7, 99]);
    expect(s.inbound.mailboxTodos("hello@x.test", "INBOX", "42").map((t) => t.uid)).toEqual([6]);
    expect(s.inbound.mailboxTodos("hello@x.test", "INBOX", "43").map((t) => t.uid)).toEqual([3]);
    s.inbound.mailboxDone("hello@x.test", "INBOX", "42", []);
    expect(s.inbound.getByUid("hello@x.test", "INBOX", "42", 3)?.status).toBe("handled");
    s.close();
  });

  it("migrates a version 1 store: its records are kept, owe the mailbox nothing, and the outbox can mark sends", () => {
    const path = tempPath();
    openSqliteStore({ path }).close();
    const db = new Database(path);
    db.exec(
      `DROP INDEX inbound_mailbox_todo; ALTER TABLE inbound DROP COLUMN mailbox_todo; ALTER TABLE outbox DROP COLUMN sending_since;
       ${UNDO_V8} ${UNDO_V7} ${UNDO_V6} ${UNDO_V4}`,
    );
    db.pragma("user_version = 1");
    db.prepare(
      `INSERT INTO inbound (account, mailbox, uid_validity, uid, message_id, status, attempts, received_at, updated_at)
       VALUES ('a@x', 'INBOX', '1', 7, 'm7@x', 'handled', 1, 'now', 'now')`,
    ).run();
    db.close();
    const s = openSqliteStore({ path });
    expect(s.inbound.getByUid("a@x", "INBOX", "1", 7)?.status).toBe("handled");
    expect(s.inbound.mailboxTodos("a@x", "INBOX", "1")).toEqual([]);
    // The outbox gained its in-doubt mark: empty for what was there, usable for what comes.
    const queued = s.outbox.enqueue({
      key: "k",
      conversationId: "c",
      messageId: "m@x",
      account: "a@x",
      recipients: ["b@x"],
      raw: new Uint8Array([65]),
    });
    expect(queued.entry.sendingSince).toBeUndefined();
    s.outbox.markSending("k", "2026-01-01T00:00:00.000Z");
    expect(s.outbox.get("k")?.sendingSince).toBe("2026-01-01T00:00:00.000Z");
    s.close();
    const raw = new Database(path);
    expect(raw.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    raw.close();
  });

  it("migrates a version 3 outbox: its entries are kept without an ENVID, new ones are found by theirs", () => {
    const path = tempPath();
    openSqliteStore({ path }).close();
    const db = new Database(path);
    db.exec(`${UNDO_V8} ${UNDO_V7} ${UNDO_V6} ${UNDO_V4}`);
    db.pragma("user_version = 3");
    db.prepare(
      `INSERT INTO outbox (key, conversation_id, message_id, account, recipients, raw, status, attempts,
         next_attempt_at, created_at, updated_at)
       VALUES ('old', 'c', 'old@x', 'a@x', '["b@x"]', x'41', 'sent', 1, 'now', 'now', 'now')`,
    ).run();
    db.close();
    const s = openSqliteStore({ path });
    const old = s.outbox.get("old");
    expect(old).toMatchObject({ status: "sent", messageId: "old@x" });
    expect(old?.envelopeId).toBeUndefined();
    expect(old?.deliveryReport).toBeUndefined();
    expect(s.outbox.getByMessageId("old@x").map((e) => e.key)).toEqual(["old"]);
    s.outbox.enqueue({
      key: "new",
      conversationId: "c",
      messageId: "new@x",
      account: "a@x",
      recipients: ["b@x"],
      raw: new Uint8Array([65]),
      envelopeId: "0123456789abcdef0123456789abcdef",
    });
    expect(s.outbox.getByEnvelopeId("0123456789abcdef0123456789abcdef")?.key).toBe("new");
    expect(s.outbox.getByEnvelopeId("fedcba9876543210fedcba9876543210")).toBeUndefined();
    const report = {
      outcome: "failed" as const,
      recipients: [{ recipient: "b@x", action: "failed", status: "5.1.1", at: "2026-11-22T00:00:00.000Z" }],
      reports: ["dsn@mx"],
    };
    s.outbox.setDeliveryReport("new", report);
    s.close();
    const reopened = openSqliteStore({ path });
    expect(reopened.outbox.get("new")?.deliveryReport).toEqual(report);
    reopened.close();
  });

  it("migrates a version 5 outbox: its entries are no follow-ups; a send that deferred recipients stores one", () => {
    const path = tempPath();
    openSqliteStore({ path }).close();
    const db = new Database(path);
    db.exec(`${UNDO_V8} ${UNDO_V7} ${UNDO_V6}`);
    db.pragma("user_version = 5");
    db.prepare(
      `INSERT INTO outbox (key, conversation_id, message_id, account, recipients, raw, status, attempts,
         next_attempt_at, envelope_id, created_at, updated_at)
       VALUES ('old', 'c', 'old@x', 'a@x', '["b@x","d@y"]', x'41', 'pending', 0, 'now', 'e1', 'now', 'now')`,
    ).run();
    db.close();
    const s = openSqliteStore({ path });
    expect(s.outbox.get("old")?.deferredFrom).toBeUndefined();
    const next = "2026-01-01T00:00:00.000Z";
    const followUp = s.outbox.markSent("old", "250 ok", {
      recipients: ["d@y"],
      error: "450 later",
      nextAttemptAt: next,
    });
    expect(followUp).toMatchObject({
      key: "old#deferred-1",
      deferredFrom: "old",
      recipients: ["d@y"],
      status: "pending",
      attempts: 0,
      nextAttemptAt: next,
      lastError: "450 later",
      savedToSent: true,
      envelopeId: "e1",
    });
    expect(s.outbox.get("old")).toMatchObject({ status: "sent", response: "250 ok" });
    // Its own follow-up counts from the entry first sent; the ENVID still finds that one.
    s.outbox.markSent("old#deferred-1", "250 ok", {
      recipients: ["d@y"],
      error: "451 later",
      nextAttemptAt: next,
    });
    expect(s.outbox.get("old#deferred-2")?.deferredFrom).toBe("old");
    expect(s.outbox.getByEnvelopeId("e1")?.key).toBe("old");
    expect(s.outbox.markSent("old#deferred-2", "250 ok")).toBeUndefined();
    expect(s.outbox.unsaved().map((e) => e.key)).toEqual(["old"]);
    s.close();
  });

  it("keeps when watching a mailbox began from the cursor's first write on", () => {
    const s = openSqliteStore({ path: ":memory:" });
    const at = "2026-03-01T10:00:00.000Z";
    s.cursors.set({ account: "a@x", mailbox: "INBOX", uidValidity: "1", lastUid: 0, watchingSince: at });
    s.cursors.set({
      account: "a@x",
      mailbox: "INBOX",
      uidValidity: "2",
      lastUid: 9,
      watchingSince: "2027-01-01",
    });
    expect(s.cursors.get("a@x", "INBOX")).toEqual({
      account: "a@x",
      mailbox: "INBOX",
      uidValidity: "2",
      lastUid: 9,
      watchingSince: at,
    });
    // Without one, a new cursor says now.
    const before = Date.now();
    s.cursors.set({ account: "a@x", mailbox: "Support", uidValidity: "1", lastUid: 0 });
    expect(Date.parse(s.cursors.get("a@x", "Support")!.watchingSince!)).toBeGreaterThanOrEqual(before);
    s.close();
  });

  it("migrates version 6 cursors: they do not say when watching began, and do not gain it later", () => {
    const path = tempPath();
    openSqliteStore({ path }).close();
    const db = new Database(path);
    db.exec(`${UNDO_V8} ${UNDO_V7}`);
    db.pragma("user_version = 6");
    db.prepare(
      "INSERT INTO cursors (account, mailbox, uid_validity, last_uid) VALUES ('a@x', 'INBOX', '5', 3)",
    ).run();
    db.close();
    const s = openSqliteStore({ path });
    expect(s.cursors.get("a@x", "INBOX")).toEqual({
      account: "a@x",
      mailbox: "INBOX",
      uidValidity: "5",
      lastUid: 3,
    });
    // An update does not make one up: a rescan of this mailbox still looks at every message.
    s.cursors.set({ account: "a@x", mailbox: "INBOX", uidValidity: "5", lastUid: 4 });
    expect(s.cursors.get("a@x", "INBOX")?.watchingSince).toBeUndefined();
    s.close();
  });

  it("migrates a version 7 outbox: its entries count no stray delivery copies, and count them from then on", () => {
    const path = tempPath();
    openSqliteStore({ path }).close();
    const db = new Database(path);
    db.exec(UNDO_V8);
    db.pragma("user_version = 7");
    db.prepare(
      `INSERT INTO outbox (key, conversation_id, message_id, account, recipients, raw, status, attempts,
         next_attempt_at, created_at, updated_at)
       VALUES ('k', 'c', 'k@x', 'a@x', '["b@x"]', x'41', 'pending', 0, 'now', 'now', 'now')`,
    ).run();
    db.close();
    const s = openSqliteStore({ path });
    expect(s.outbox.get("k")?.strayCopies).toBe(0);
    s.outbox.markAttemptFailed("k", "450 try later", new Date().toISOString(), { strayCopy: true });
    s.outbox.markAttemptFailed("k", "connection refused", new Date().toISOString());
    expect(s.outbox.get("k")).toMatchObject({ strayCopies: 1, attempts: 2 });
    s.close();
  });

  it("refuses a store written by a newer schema", () => {
    const path = tempPath();
    openSqliteStore({ path }).close();
    const db = new Database(path);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openSqliteStore({ path })).toThrow(/newer than this release/);
  });
});
