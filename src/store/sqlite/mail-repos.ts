import type Database from "better-sqlite3";
import type {
  ConversationRepo,
  ConversationState,
  CursorRepo,
  InboundLedger,
  InboundRecord,
  MailboxCursor,
  MailboxTodo,
  ThreadLink,
  ThreadRepo,
} from "../types.js";

type Row = Record<string, unknown>;
const iso = () => new Date().toISOString();

export function cursorRepo(db: Database.Database): CursorRepo {
  const get = db.prepare("SELECT * FROM cursors WHERE account = ? AND mailbox = ?");
  // watching_since is written with the row and kept by every later update (see MailboxCursor).
  const set = db.prepare(
    `INSERT INTO cursors (account, mailbox, uid_validity, last_uid, watching_since)
       VALUES (@account, @mailbox, @uidValidity, @lastUid, @watchingSince)
     ON CONFLICT (account, mailbox) DO UPDATE SET uid_validity = excluded.uid_validity, last_uid = excluded.last_uid`,
  );
  return {
    get(account, mailbox): MailboxCursor | undefined {
      const r = get.get(account, mailbox) as Row | undefined;
      if (!r) return undefined;
      const cursor: MailboxCursor = {
        account,
        mailbox,
        uidValidity: String(r.uid_validity),
        lastUid: Number(r.last_uid),
      };
      if (r.watching_since != null) cursor.watchingSince = String(r.watching_since);
      return cursor;
    },
    set(c) {
      set.run({
        account: c.account,
        mailbox: c.mailbox,
        uidValidity: c.uidValidity,
        lastUid: c.lastUid,
        watchingSince: c.watchingSince ?? iso(),
      });
    },
  };
}

function toInbound(r: Row): InboundRecord {
  return {
    account: String(r.account),
    mailbox: String(r.mailbox),
    uidValidity: String(r.uid_validity),
    uid: Number(r.uid),
    messageId: String(r.message_id),
    conversationId: (r.conversation_id as string | null) ?? undefined,
    status: r.status as InboundRecord["status"],
    attempts: Number(r.attempts),
    reason: (r.reason as string | null) ?? undefined,
    fromAddress: (r.from_address as string | null) ?? undefined,
    subject: (r.subject as string | null) ?? undefined,
    receivedAt: String(r.received_at),
    updatedAt: String(r.updated_at),
  };
}

export function inboundLedger(db: Database.Database): InboundLedger {
  const byUid = db.prepare(
    "SELECT * FROM inbound WHERE account = ? AND mailbox = ? AND uid_validity = ? AND uid = ?",
  );
  const byUidRange = db.prepare(
    "SELECT * FROM inbound WHERE account = ? AND mailbox = ? AND uid_validity = ? AND uid BETWEEN ? AND ?",
  );
  const byMid = db.prepare("SELECT * FROM inbound WHERE message_id = ? ORDER BY received_at");
  const put = db.prepare(
    `INSERT INTO inbound (account, mailbox, uid_validity, uid, message_id, conversation_id, status, attempts, reason,
       from_address, subject, received_at, updated_at, mailbox_todo)
     VALUES (@account, @mailbox, @uidValidity, @uid, @messageId, @conversationId, @status, @attempts, @reason,
       @fromAddress, @subject, @receivedAt, @updatedAt, @mailboxTodo)
     ON CONFLICT (account, mailbox, uid_validity, uid) DO UPDATE SET message_id = excluded.message_id,
       conversation_id = excluded.conversation_id, status = excluded.status, attempts = excluded.attempts,
       reason = excluded.reason, from_address = excluded.from_address, subject = excluded.subject,
       updated_at = excluded.updated_at, mailbox_todo = COALESCE(excluded.mailbox_todo, inbound.mailbox_todo)
     RETURNING *`,
  );
  const bump = db.prepare(
    `UPDATE inbound SET attempts = attempts + 1, updated_at = ?
     WHERE account = ? AND mailbox = ? AND uid_validity = ? AND uid = ? RETURNING *`,
  );
  const status = db.prepare(
    `UPDATE inbound SET status = ?, reason = ?, mailbox_todo = ?, updated_at = ?
     WHERE account = ? AND mailbox = ? AND uid_validity = ? AND uid = ?`,
  );
  const todos = db.prepare(
    `SELECT uid, mailbox_todo, reason FROM inbound
     WHERE account = ? AND mailbox = ? AND uid_validity = ? AND mailbox_todo IS NOT NULL ORDER BY uid`,
  );
  const done = db.prepare(
    `UPDATE inbound SET mailbox_todo = NULL
     WHERE account = ? AND mailbox = ? AND uid_validity = ? AND uid IN (SELECT value FROM json_each(?))`,
  );
  const unfinishedAll = db.prepare(
    "SELECT * FROM inbound WHERE status = 'received' ORDER BY received_at, uid",
  );
  const unfinishedAcc = db.prepare(
    "SELECT * FROM inbound WHERE status = 'received' AND account = ? ORDER BY received_at, uid",
  );
  const counts = db.prepare("SELECT status, COUNT(*) AS n FROM inbound GROUP BY status");
  const sender = db.prepare(
    `SELECT from_address FROM inbound
     WHERE conversation_id = ? AND status IN ('received', 'handled') AND from_address IS NOT NULL
     ORDER BY received_at DESC, uid DESC LIMIT 1`,
  );
  const anyInbound = db.prepare("SELECT 1 FROM inbound WHERE conversation_id = ? LIMIT 1");
  return {
    getByUid(account, mailbox, uidValidity, uid) {
      const r = byUid.get(account, mailbox, uidValidity, uid) as Row | undefined;
      return r ? toInbound(r) : undefined;
    },
    getByUids(account, mailbox, uidValidity, uids) {
      const out = new Map<number, InboundRecord>();
      if (uids.length === 0) return out;
      const wanted = new Set(uids);
      let lo = Number.POSITIVE_INFINITY;
      let hi = Number.NEGATIVE_INFINITY;
      for (const u of uids) {
        if (u < lo) lo = u;
        if (u > hi) hi = u;
      }
      for (const r of byUidRange.all(account, mailbox, uidValidity, lo, hi) as Row[]) {
        const uid = Number(r.uid);
        if (wanted.has(uid)) out.set(uid, toInbound(r));
      }
      return out;
    },
    getByMessageId(messageId) {
      return (byMid.all(messageId) as Row[]).map(toInbound);
    },
    put(record) {
      const now = iso();
      // One statement: on conflict received_at is kept (it is not in the UPDATE list), and RETURNING
      // hands back the stored row, so no read before or after. better-sqlite3 refuses undefined:
      // absent optional fields are stored as NULL.
      const row = put.get({
        account: record.account,
        mailbox: record.mailbox,
        uidValidity: record.uidValidity,
        uid: record.uid,
        messageId: record.messageId,
        conversationId: record.conversationId ?? null,
        status: record.status,
        attempts: record.attempts,
        reason: record.reason ?? null,
        fromAddress: record.fromAddress ?? null,
        subject: record.subject ?? null,
        receivedAt: record.receivedAt ?? now,
        updatedAt: now,
        mailboxTodo: record.mailboxTodo ?? null,
      }) as Row;
      return toInbound(row);
    },
    bumpAttempts(account, mailbox, uidValidity, uid) {
      const r = bump.get(iso(), account, mailbox, uidValidity, uid) as Row | undefined;
      return r ? toInbound(r) : undefined;
    },
    setStatus(p, to, reason, todo) {
      return (
        status.run(to, reason ?? null, todo ?? null, iso(), p.account, p.mailbox, p.uidValidity, p.uid)
          .changes > 0
      );
    },
    mailboxTodos(account, mailbox, uidValidity) {
      return (todos.all(account, mailbox, uidValidity) as Row[]).map((r) => ({
        uid: Number(r.uid),
        todo: r.mailbox_todo as MailboxTodo,
        ...(r.reason == null ? {} : { reason: String(r.reason) }),
      }));
    },
    mailboxDone(account, mailbox, uidValidity, uids) {
      if (uids.length > 0) done.run(account, mailbox, uidValidity, JSON.stringify(uids));
    },
    unfinished(account) {
      return ((account ? unfinishedAcc.all(account) : unfinishedAll.all()) as Row[]).map(toInbound);
    },
    latestSender(conversationId) {
      const r = sender.get(conversationId) as Row | undefined;
      return r ? String(r.from_address) : undefined;
    },
    hasInbound(conversationId) {
      return anyInbound.get(conversationId) !== undefined;
    },
    countByStatus() {
      const out: Record<string, number> = {};
      for (const r of counts.all() as Row[]) out[String(r.status)] = Number(r.n);
      return out;
    },
  };
}

export function threadRepo(db: Database.Database): ThreadRepo {
  const get = db.prepare("SELECT * FROM threads WHERE message_id = ?");
  const put = db.prepare(
    `INSERT INTO threads (message_id, conversation_id, participants, direction, at)
     VALUES (@messageId, @conversationId, @participants, @direction, @at)
     ON CONFLICT (message_id) DO NOTHING`,
  );
  return {
    get(messageId): ThreadLink | undefined {
      const r = get.get(messageId) as Row | undefined;
      if (!r) return undefined;
      return {
        messageId: String(r.message_id),
        conversationId: String(r.conversation_id),
        participants: JSON.parse(String(r.participants)) as string[],
        direction: r.direction as ThreadLink["direction"],
        at: String(r.at),
      };
    },
    // First writer wins: a Message-ID belongs to the conversation it was first seen in, so a later
    // stranger re-using it cannot move it.
    put(link) {
      put.run({ ...link, participants: JSON.stringify(link.participants) });
    },
  };
}

export function conversationRepo(db: Database.Database): ConversationRepo {
  const get = db.prepare("SELECT * FROM conversations WHERE conversation_id = ?");
  const put = db.prepare(
    `INSERT INTO conversations (conversation_id, account, subject, participants, last_message_id, last_references, updated_at)
     VALUES (@conversationId, @account, @subject, @participants, @lastMessageId, @lastReferences, @updatedAt)
     ON CONFLICT (conversation_id) DO UPDATE SET account = excluded.account, subject = excluded.subject,
       participants = excluded.participants, last_message_id = excluded.last_message_id,
       last_references = excluded.last_references, updated_at = excluded.updated_at`,
  );
  return {
    get(conversationId): ConversationState | undefined {
      const r = get.get(conversationId) as Row | undefined;
      if (!r) return undefined;
      return {
        conversationId: String(r.conversation_id),
        account: String(r.account),
        subject: String(r.subject),
        participants: JSON.parse(String(r.participants)) as string[],
        lastMessageId: String(r.last_message_id),
        lastReferences: JSON.parse(String(r.last_references)) as string[],
        updatedAt: String(r.updated_at),
      };
    },
    put(state) {
      put.run({
        ...state,
        participants: JSON.stringify(state.participants),
        lastReferences: JSON.stringify(state.lastReferences),
      });
    },
  };
}
