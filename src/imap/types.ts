import type { Readable } from "node:stream";

/** One message the watcher hands to the inbound pipeline. */
export interface RawMessage {
  account: string;
  mailbox: string;
  uidValidity: string;
  uid: number;
  /** RFC822.SIZE as the server reports it. */
  size: number;
  /**
   * Message-ID from the header, without <>, for messages that are not downloaded whole before the
   * hand-over (too large, or streamed); may be absent. For a Buffer `raw` read it from the bytes
   * (headerMessageId) when needed.
   */
  envelopeMessageId?: string;
  /**
   * The raw RFC 5322 bytes: a Buffer for a message fetched whole (small ones, several per FETCH),
   * a stream for a big one. The handler must consume or destroy a stream.
   */
  raw: Readable | Buffer;
  /** The ledger already held this message as `received`: its handling started before and never finished. */
  resumed: boolean;
  /**
   * The ledger held no record of this position when the cycle planned it. Cycles of a mailbox run
   * one at a time and hand each UID over once, so none can appear meanwhile: the pipeline need not
   * read the ledger again. Absent: unknown (read it).
   */
  unrecorded?: boolean;
}

/** What the watcher does to a message in the mailbox once its handling is settled. */
export type Disposition =
  | { action: "seen" } // handled (or robot mail recorded): \Seen, then the processed mailbox if configured
  | { action: "refused"; reason: string } // guard refused a person: \Flagged, stays unread for a human
  | { action: "quarantine"; reason: string } // moved to the quarantine mailbox
  | { action: "none" };

export interface MailboxHandler {
  /**
   * Called in UID order inside the connection's lock. Must consume `message.raw` and record the message
   * durably before resolving. Returns the disposition when it is already known (duplicate, ignored,
   * quarantined), recorded as owed in the same write as the status (InboundLedger.put's
   * `mailboxTodo`), or "pending" when the agent will run and `settle` will be called later.
   */
  onMessage(message: RawMessage): Promise<Disposition | "pending">;
  /** A message larger than the limit: record it as quarantined and owing the move (it is not downloaded). */
  onOversize(message: Omit<RawMessage, "raw" | "resumed">, limit: number): Promise<void>;
  /** A ledger record whose message left the mailbox before its handling finished. */
  onVanished(account: string, mailbox: string, uidValidity: string, uid: number): Promise<void>;
  /**
   * The agent stage holds as much as it may: the cycle hands nothing more over (the rest stays in
   * the mailbox, unrecorded) and ends; the handler's owner kicks the watcher when there is room.
   */
  saturated?(): boolean;
}

export type WatcherState = "connecting" | "watching" | "backoff" | "failed" | "stopped";

export interface WatcherHealth {
  account: string;
  mailbox: string;
  state: WatcherState;
  mode: "idle" | "poll";
  connectedAt?: string;
  lastSyncAt?: string;
  lastError?: { code: string; message: string; at: string };
  reconnects: number;
  consecutiveAuthFailures: number;
}
