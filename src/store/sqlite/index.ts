import { chmodSync, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { EmailChannelError } from "../../errors/index.js";
import type { StateStore } from "../types.js";
import { davRepo, firedRepo, kvRepo, rateRepo } from "./dav-repos.js";
import { conversationRepo, cursorRepo, inboundLedger, threadRepo } from "./mail-repos.js";
import { migrate } from "./migrations.js";
import { outboxRepo } from "./outbox-repo.js";
import { profileSink, reminderSink } from "./sink-repos.js";

export interface SqliteStoreOptions {
  /** File path of the database, or ":memory:" (tests). The folder is created when missing. */
  path: string;
  /** How long a write waits for another process's lock, in ms. Default 5000; past it the write throws SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** "normal" (default: durable across process crashes) or "full" (also across power loss, slower). */
  synchronous?: "normal" | "full";
}

/**
 * Opens (and migrates) the embedded SQLite state store (WAL journal).
 */
export function openSqliteStore(options: SqliteStoreOptions): StateStore {
  const onDisk = options.path !== ":memory:";
  // The store holds mail metadata and secrets (the threading key, rotated OAuth 2.0 refresh tokens):
  // a folder and a file it creates are its owner's only (SQLite gives -wal and -shm the file's mode).
  if (onDisk) mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
  const created = onDisk && !existsSync(options.path);
  let db: Database.Database;
  try {
    db = new Database(options.path);
    if (created) chmodSync(options.path, 0o600);
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma("journal_mode = WAL");
    // WAL + NORMAL: a committed transaction survives a process crash (SIGKILL), which is what the
    // exactly-once hand-over needs; only an OS crash or power cut may lose the last transactions.
    // FULL would add an fsync per commit (several per message). Set synchronous: "full" for that.
    db.pragma(`synchronous = ${options.synchronous === "full" ? "FULL" : "NORMAL"}`);
    db.pragma("foreign_keys = ON");
    migrate(db);
  } catch (error) {
    throw new EmailChannelError(
      `cannot open the state store at ${options.path}: ${(error as Error).message}`,
      {
        code: "STORE_OPEN_FAILED",
        stage: "store",
        kind: "config",
        retryable: false,
        cause: error,
      },
    );
  }
  let closed = false;
  // One reusable wrapper: better-sqlite3 builds a transaction function on every db.transaction()
  // call; called inside a transaction it uses a savepoint, so nesting still works.
  const inTransaction = db.transaction((fn: () => unknown) => fn());
  return {
    cursors: cursorRepo(db),
    inbound: inboundLedger(db),
    threads: threadRepo(db),
    conversations: conversationRepo(db),
    outbox: outboxRepo(db),
    rates: rateRepo(db),
    dav: davRepo(db),
    fired: firedRepo(db),
    kv: kvRepo(db),
    reminders: reminderSink(db),
    profiles: profileSink(db),
    transaction: <T>(fn: () => T): T => inTransaction(fn) as T,
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
