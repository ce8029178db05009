import type Database from "better-sqlite3";

/**
 * Schema migrations, versioned in code. Each runs once, in order, inside a transaction; the applied
 * version is SQLite's `user_version`. A store written by a newer release (user_version above the last
 * migration here) is refused rather than silently misread.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; description: string; sql: string }> = [
  {
    version: 1,
    description: "cursors, inbound ledger, threads, conversations, outbox, rates, dav, fired, kv, sinks",
    sql: `
      CREATE TABLE cursors (
        account TEXT NOT NULL, mailbox TEXT NOT NULL, uid_validity TEXT NOT NULL, last_uid INTEGER NOT NULL,
        PRIMARY KEY (account, mailbox));
      CREATE TABLE inbound (
        account TEXT NOT NULL, mailbox TEXT NOT NULL, uid_validity TEXT NOT NULL, uid INTEGER NOT NULL,
        message_id TEXT NOT NULL, conversation_id TEXT, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        reason TEXT, from_address TEXT, subject TEXT, received_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (account, mailbox, uid_validity, uid));
      CREATE INDEX inbound_message_id ON inbound (message_id);
      CREATE INDEX inbound_status ON inbound (status);
      CREATE TABLE threads (
        message_id TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, participants TEXT NOT NULL,
        direction TEXT NOT NULL, at TEXT NOT NULL);
      CREATE INDEX threads_conversation ON threads (conversation_id);
      CREATE TABLE conversations (
        conversation_id TEXT PRIMARY KEY, account TEXT NOT NULL, subject TEXT NOT NULL, participants TEXT NOT NULL,
        last_message_id TEXT NOT NULL, last_references TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE TABLE outbox (
        key TEXT PRIMARY KEY, conversation_id TEXT NOT NULL, message_id TEXT NOT NULL, account TEXT NOT NULL,
        recipients TEXT NOT NULL, raw BLOB NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL, last_error TEXT, response TEXT, saved_to_sent INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
      CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
      CREATE TABLE rate_events (key TEXT NOT NULL, at INTEGER NOT NULL);
      CREATE INDEX rate_events_key_at ON rate_events (key, at);
      CREATE TABLE dav_collections (
        url TEXT PRIMARY KEY, account TEXT NOT NULL, kind TEXT NOT NULL, display_name TEXT, sync_token TEXT,
        ctag TEXT, updated_at TEXT NOT NULL);
      CREATE TABLE dav_objects (
        collection_url TEXT NOT NULL, href TEXT NOT NULL, etag TEXT, data TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (collection_url, href));
      CREATE TABLE fired (id TEXT NOT NULL, fire_at TEXT NOT NULL, fired_at TEXT NOT NULL, PRIMARY KEY (id, fire_at));
      CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE reminders (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, fire_at TEXT NOT NULL, body TEXT NOT NULL);
      CREATE INDEX reminders_fire_at ON reminders (fire_at);
      CREATE TABLE profiles (id TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE profile_emails (address TEXT NOT NULL, profile_id TEXT NOT NULL, PRIMARY KEY (address, profile_id));
    `,
  },
  {
    version: 2,
    description: "inbound: the mailbox change (flag, move) still owed to a settled message",
    sql: `
      ALTER TABLE inbound ADD COLUMN mailbox_todo TEXT;
      CREATE INDEX inbound_mailbox_todo ON inbound (account, mailbox, uid_validity) WHERE mailbox_todo IS NOT NULL;
    `,
  },
  {
    version: 3,
    description: "outbox: when the send in progress started (a crash leaves the entry in doubt)",
    sql: `
      ALTER TABLE outbox ADD COLUMN sending_since TEXT;
    `,
  },
  {
    version: 4,
    description: "outbox: the ENVID each message is sent with, and the delivery reports (bounces) about it",
    sql: `
      ALTER TABLE outbox ADD COLUMN envelope_id TEXT;
      ALTER TABLE outbox ADD COLUMN delivery_report TEXT;
      CREATE INDEX outbox_envelope_id ON outbox (envelope_id) WHERE envelope_id IS NOT NULL;
      CREATE INDEX outbox_message_id ON outbox (message_id);
    `,
  },
  {
    version: 5,
    description: "inbound: found by conversation (the latest sender, whom sendMessage writes to)",
    sql: `
      CREATE INDEX IF NOT EXISTS inbound_conversation ON inbound (conversation_id, received_at)
        WHERE conversation_id IS NOT NULL;
    `,
  },
  {
    version: 6,
    description: "outbox: a follow-up to the recipients a server deferred names the entry first sent",
    sql: `
      ALTER TABLE outbox ADD COLUMN deferred_from TEXT;
      CREATE INDEX outbox_deferred_from ON outbox (deferred_from) WHERE deferred_from IS NOT NULL;
    `,
  },
  {
    version: 7,
    description:
      "cursors: when the channel began watching the mailbox (a rescan after a UIDVALIDITY change leaves older mail alone)",
    sql: `
      ALTER TABLE cursors ADD COLUMN watching_since TEXT;
    `,
  },
  {
    version: 8,
    description:
      "outbox: delivery copies of sends that reached no recipient (a later send in doubt is not confirmed by them)",
    sql: `
      ALTER TABLE outbox ADD COLUMN stray_copies INTEGER NOT NULL DEFAULT 0;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Applies pending migrations; throws when the file was written by a newer schema. */
export function migrate(db: Database.Database): { from: number; to: number } {
  const from = db.pragma("user_version", { simple: true }) as number;
  if (from > SCHEMA_VERSION) {
    throw new Error(
      `state store schema version ${from} is newer than this release understands (${SCHEMA_VERSION}); ` +
        "upgrade email-channel or point EMAIL_STATE_DIR at another folder",
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return { from, to: SCHEMA_VERSION };
}
