import type Database from "better-sqlite3";
import type { OutboxDeliveryReport, OutboxEntry, OutboxRepo } from "../types.js";

type Row = Record<string, unknown>;
const iso = () => new Date().toISOString();

function toEntry(r: Row): OutboxEntry {
  return {
    key: String(r.key),
    conversationId: String(r.conversation_id),
    messageId: String(r.message_id),
    account: String(r.account),
    recipients: JSON.parse(String(r.recipients)) as string[],
    raw: new Uint8Array(r.raw as Buffer),
    status: r.status as OutboxEntry["status"],
    attempts: Number(r.attempts),
    nextAttemptAt: String(r.next_attempt_at),
    lastError: (r.last_error as string | null) ?? undefined,
    response: (r.response as string | null) ?? undefined,
    savedToSent: Number(r.saved_to_sent) === 1,
    ...(r.sending_since ? { sendingSince: String(r.sending_since) } : {}),
    ...(r.envelope_id ? { envelopeId: String(r.envelope_id) } : {}),
    ...(r.delivery_report
      ? { deliveryReport: JSON.parse(String(r.delivery_report)) as OutboxDeliveryReport }
      : {}),
    ...(r.deferred_from ? { deferredFrom: String(r.deferred_from) } : {}),
    strayCopies: Number(r.stray_copies ?? 0),
    createdAt: String(r.created_at),
    updatedAt: String(r.updated_at),
  };
}

export function outboxRepo(db: Database.Database): OutboxRepo {
  const get = db.prepare("SELECT * FROM outbox WHERE key = ?");
  const insert = db.prepare(
    `INSERT INTO outbox (key, conversation_id, message_id, account, recipients, raw, status, attempts, next_attempt_at,
       envelope_id, created_at, updated_at)
     VALUES (@key, @conversationId, @messageId, @account, @recipients, @raw, 'pending', 0, @nextAttemptAt,
       @envelopeId, @now, @now)
     ON CONFLICT (key) DO NOTHING`,
  );
  const sending = db.prepare(
    "UPDATE outbox SET sending_since = ?, updated_at = ? WHERE key = ? AND status = 'pending'",
  );
  const postpone = db.prepare(
    "UPDATE outbox SET next_attempt_at = ?, updated_at = ? WHERE key = ? AND status = 'pending'",
  );
  const sent = db.prepare(
    `UPDATE outbox SET status = 'sent', attempts = attempts + 1, response = ?, last_error = NULL, sending_since = NULL,
       updated_at = ? WHERE key = ?`,
  );
  const attemptFailed = db.prepare(
    `UPDATE outbox SET attempts = attempts + (CASE WHEN @inDoubt THEN 0 ELSE 1 END), last_error = @error,
       next_attempt_at = @next, sending_since = CASE WHEN @inDoubt THEN sending_since END,
       stray_copies = stray_copies + @strayCopy, updated_at = @now
     WHERE key = @key AND status = 'pending'`,
  );
  const failed = db.prepare(
    `UPDATE outbox SET status = 'failed', attempts = attempts + 1, last_error = ?, sending_since = NULL, updated_at = ?
     WHERE key = ?`,
  );
  // A follow-up (see OutboxEntry.deferredFrom): the sent entry's message, to the deferred recipients.
  // It counts from the entry first sent, so a follow-up's own follow-up is `#deferred-2`, not nested.
  const followUps = db.prepare("SELECT COUNT(*) AS n FROM outbox WHERE deferred_from = ?");
  const insertFollowUp = db.prepare(
    `INSERT INTO outbox (key, conversation_id, message_id, account, recipients, raw, status, attempts, next_attempt_at,
       last_error, saved_to_sent, envelope_id, deferred_from, created_at, updated_at)
     SELECT @followUp, conversation_id, message_id, account, @recipients, raw, 'pending', 0, @nextAttemptAt,
       @error, 1, envelope_id, @root, @now, @now
     FROM outbox WHERE key = @key
     ON CONFLICT (key) DO NOTHING`,
  );
  const markSentDeferring = db.transaction(
    (
      key: string,
      response: string,
      deferred: { recipients: string[]; error: string; nextAttemptAt: string },
    ) => {
      const now = iso();
      sent.run(response, now, key);
      const r = get.get(key) as Row | undefined;
      if (!r) return undefined;
      const root = (r.deferred_from as string | null) ?? key;
      const n = Number((followUps.get(root) as Row).n) + 1;
      const followUp = `${root}#deferred-${n}`;
      const info = insertFollowUp.run({
        followUp,
        key,
        root,
        recipients: JSON.stringify(deferred.recipients),
        nextAttemptAt: deferred.nextAttemptAt,
        error: deferred.error,
        now,
      });
      return info.changes === 1 ? toEntry(get.get(followUp) as Row) : undefined;
    },
  );
  const savedToSent = db.prepare("UPDATE outbox SET saved_to_sent = 1, updated_at = ? WHERE key = ?");
  const due = db.prepare(
    "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY created_at LIMIT ?",
  );
  const pending = db.prepare("SELECT * FROM outbox WHERE status = 'pending' ORDER BY created_at");
  const unsaved = db.prepare(
    "SELECT * FROM outbox WHERE status = 'sent' AND saved_to_sent = 0 ORDER BY created_at",
  );
  const counts = db.prepare("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status");
  // A follow-up shares its message's ENVID: a report finds the entry first sent (it names every recipient).
  const byEnvelopeId = db.prepare(
    "SELECT * FROM outbox WHERE envelope_id = ? ORDER BY deferred_from IS NOT NULL, created_at LIMIT 1",
  );
  const byMessageId = db.prepare("SELECT * FROM outbox WHERE message_id = ? ORDER BY created_at");
  const deliveryReport = db.prepare("UPDATE outbox SET delivery_report = ?, updated_at = ? WHERE key = ?");
  return {
    get(key) {
      const r = get.get(key) as Row | undefined;
      return r ? toEntry(r) : undefined;
    },
    enqueue(entry) {
      const now = iso();
      const info = insert.run({
        key: entry.key,
        conversationId: entry.conversationId,
        messageId: entry.messageId,
        account: entry.account,
        recipients: JSON.stringify(entry.recipients),
        raw: Buffer.from(entry.raw),
        nextAttemptAt: entry.nextAttemptAt ?? now,
        envelopeId: entry.envelopeId ?? null,
        now,
      });
      return { entry: toEntry(get.get(entry.key) as Row), created: info.changes === 1 };
    },
    markSending(key, since) {
      sending.run(since, iso(), key);
    },
    postpone(key, nextAttemptAt) {
      postpone.run(nextAttemptAt, iso(), key);
    },
    markSent(key, response, deferred) {
      if (deferred && deferred.recipients.length > 0) return markSentDeferring(key, response, deferred);
      sent.run(response, iso(), key);
      return undefined;
    },
    markAttemptFailed(key, error, nextAttemptAt, options) {
      attemptFailed.run({
        error,
        next: nextAttemptAt,
        inDoubt: options?.inDoubt ? 1 : 0,
        strayCopy: options?.strayCopy ? 1 : 0,
        now: iso(),
        key,
      });
    },
    markFailed(key, error) {
      failed.run(error, iso(), key);
    },
    markSavedToSent(key) {
      savedToSent.run(iso(), key);
    },
    due(now, limit = 100) {
      return (due.all(now.toISOString(), limit) as Row[]).map(toEntry);
    },
    pending() {
      return (pending.all() as Row[]).map(toEntry);
    },
    unsaved() {
      return (unsaved.all() as Row[]).map(toEntry);
    },
    countByStatus() {
      const out: Record<string, number> = {};
      for (const r of counts.all() as Row[]) out[String(r.status)] = Number(r.n);
      return out;
    },
    getByEnvelopeId(envelopeId) {
      const r = byEnvelopeId.get(envelopeId) as Row | undefined;
      return r ? toEntry(r) : undefined;
    },
    getByMessageId(messageId) {
      return (byMessageId.all(messageId) as Row[]).map(toEntry);
    },
    setDeliveryReport(key, report) {
      deliveryReport.run(JSON.stringify(report), iso(), key);
    },
  };
}
