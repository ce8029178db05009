/**
 * The embedded state store: everything the channel must remember across restarts. Interfaces are
 * synchronous on purpose: the default is an embedded SQLite file (better-sqlite3), where a synchronous
 * commit is what makes "recorded before the agent runs" true, and every call is a few microseconds.
 * A host that wants its own backing store implements these interfaces.
 */
import type { ProfileSink, ReminderSink } from "../contract/sinks.js";

/** Per mailbox: where the watcher is. RFC 3501 §2.3.1.1: UIDs are only meaningful with UIDVALIDITY. */
export interface MailboxCursor {
  account: string;
  mailbox: string;
  uidValidity: string;
  /** Highest UID whose handling is durable (handled, ignored or quarantined). */
  lastUid: number;
  /**
   * When the channel began watching the mailbox (ISO 8601): set when the cursor is first written
   * (the first start's cycle), never changed after. A rescan after a UIDVALIDITY change reads it to
   * tell mail that arrived since from mail the first start left alone (initial_sync). Absent on a
   * cursor written before schema 7.
   */
  watchingSince?: string;
}

export interface CursorRepo {
  get(account: string, mailbox: string): MailboxCursor | undefined;
  /** Writes the cursor; watchingSince (default: now) only when it is new, see MailboxCursor. */
  set(cursor: MailboxCursor): void;
}

export type InboundStatus =
  | "received" // recorded, agent not yet done
  | "handled" // agent ran and the reply (if any) is in the outbox
  | "ignored" // a guard said no: recorded, never answered
  | "quarantined" // could not be parsed or failed too often; reason recorded
  | "duplicate"; // same Message-ID already handled from another mailbox

export interface InboundRecord {
  account: string;
  mailbox: string;
  uidValidity: string;
  uid: number;
  messageId: string;
  conversationId?: string;
  status: InboundStatus;
  attempts: number;
  reason?: string;
  fromAddress?: string;
  subject?: string;
  receivedAt: string;
  updatedAt: string;
}

/** A change the mailbox still owes a settled message: \\Seen (and the processed move), \\Flagged, quarantine. */
export type MailboxTodo = "seen" | "refused" | "quarantine";

export interface InboundLedger {
  /** The record for this mailbox position, if any. */
  getByUid(account: string, mailbox: string, uidValidity: string, uid: number): InboundRecord | undefined;
  /** The records of several positions of one mailbox, by UID (one query; absent UIDs are not in the map). */
  getByUids(
    account: string,
    mailbox: string,
    uidValidity: string,
    uids: readonly number[],
  ): Map<number, InboundRecord>;
  /** All records of a Message-ID (it can arrive in several mailboxes). */
  getByMessageId(messageId: string): InboundRecord[];
  /**
   * Inserts or replaces the record at this mailbox position. `mailboxTodo`: the change the mailbox
   * owes the message for this very decision (refused, robot mail, quarantined), written with the
   * status so a crash before the command cannot drop it; absent, what was owed stays owed.
   */
  put(
    record: Omit<InboundRecord, "receivedAt" | "updatedAt"> & {
      receivedAt?: string;
      mailboxTodo?: MailboxTodo;
    },
  ): InboundRecord;
  /** Increments attempts; returns the updated record (undefined when there is none). One statement. */
  bumpAttempts(account: string, mailbox: string, uidValidity: string, uid: number): InboundRecord | undefined;
  /**
   * Sets the status of an existing record, and its reason (cleared when absent); false when there is
   * none. The narrow write for a hand-over that finished (put rewrites the whole row).
   */
  setStatus(
    position: Pick<InboundRecord, "account" | "mailbox" | "uidValidity" | "uid">,
    status: InboundStatus,
    reason?: string,
    mailboxTodo?: MailboxTodo,
  ): boolean;
  /** The changes still owed in one mailbox (UIDVALIDITY), by UID; the reason is the record's. */
  mailboxTodos(
    account: string,
    mailbox: string,
    uidValidity: string,
  ): { uid: number; todo: MailboxTodo; reason?: string }[];
  /** Marks the changes of these UIDs as made (one statement). */
  mailboxDone(account: string, mailbox: string, uidValidity: string, uids: readonly number[]): void;
  /** Records not finished (status `received`), oldest first. */
  unfinished(account?: string): InboundRecord[];
  /**
   * The From address (lower-cased) of the conversation's latest message the guards let through
   * (status `received` or `handled`); undefined when it has none (only mail the channel sent).
   * Who a message into the conversation goes to when `reply.reply_all` is off.
   */
  latestSender(conversationId: string): string | undefined;
  /** Whether any mail came in to this conversation (whatever became of it). */
  hasInbound(conversationId: string): boolean;
  countByStatus(): Record<string, number>;
}

/** Threading memory: every Message-ID seen or sent, with its conversation and participants. */
export interface ThreadLink {
  messageId: string;
  conversationId: string;
  /** Lower-cased addresses of the people in the conversation when this id was recorded. */
  participants: string[];
  direction: "in" | "out";
  at: string;
}

export interface ThreadRepo {
  get(messageId: string): ThreadLink | undefined;
  put(link: ThreadLink): void;
}

/** What a reply into a conversation needs to know about it. */
export interface ConversationState {
  conversationId: string;
  account: string;
  subject: string;
  /** The address(es) replies go to. */
  participants: string[];
  /** Message-ID of the last message in the conversation (parent of the next reply). */
  lastMessageId: string;
  /** References of that last message, parent-first order as in the header (oldest first). */
  lastReferences: string[];
  updatedAt: string;
}

export interface ConversationRepo {
  get(conversationId: string): ConversationState | undefined;
  put(state: ConversationState): void;
}

export type OutboxStatus = "pending" | "sent" | "failed";

export interface OutboxEntry {
  /** Idempotency key: inbound messageId + output index, or a caller-supplied key. */
  key: string;
  conversationId: string;
  messageId: string;
  account: string;
  /** Envelope recipients. */
  recipients: string[];
  /** The complete RFC 5322 message as sent (so a retry after restart sends the same bytes). */
  raw: Uint8Array;
  status: OutboxStatus;
  /** Sends tried: each counted once, when its outcome is known (a send in doubt when it is given up). */
  attempts: number;
  nextAttemptAt: string;
  lastError?: string;
  response?: string;
  /** Whether a copy was appended to Sent. */
  savedToSent: boolean;
  /**
   * When the send in progress started (set right before the message goes to the server, cleared by
   * its outcome). Still set on a pending entry after a restart: the process stopped mid-send, and
   * whether the server accepted the message is unknown (the entry is "in doubt").
   */
  sendingSince?: string;
  /**
   * The envelope identifier sent as ESMTP ENVID (RFC 3461 §4.4): delivery status notifications for
   * this message name it, so a bounce finds its entry. Absent on entries written before it existed.
   */
  envelopeId?: string;
  /** What delivery status notifications (bounces) said about this message after it was sent. */
  deliveryReport?: OutboxDeliveryReport;
  /**
   * Set on a follow-up: the key of the entry first sent with this message, whose send the server took
   * while deferring some recipients (RCPT TO 4xx). The follow-up carries the same bytes to those
   * recipients only; what happens once per message (the copy in Sent, the delivery copy) was done
   * with that entry, so the follow-up is stored as saved to Sent and asks for no delivery copy.
   */
  deferredFrom?: string;
  /**
   * Delivery copies of this message already on their way from sends that reached none of its
   * recipients (every one refused while the copy was accepted; the send is retried). They carry the
   * message's Message-ID like the copy of a later send would, so a send in doubt counts as confirmed
   * only by a copy beyond these (see OutboxDispatcherOptions.confirmDelivered).
   */
  strayCopies: number;
  createdAt: string;
  updatedAt: string;
}

/** The delivery status notifications (RFC 3464) received for one sent message, merged. */
export interface OutboxDeliveryReport {
  /** "failed" when some recipient failed (a bounce), else "delayed" (the servers keep trying). */
  outcome: "failed" | "delayed";
  /** The latest status of each recipient a report named, in first-reported order. */
  recipients: {
    recipient: string;
    /** RFC 3464 Action: failed or delayed. */
    action: string;
    /** RFC 3463 status code, e.g. "5.1.1". */
    status?: string;
    diagnostic?: string;
    /** When the report that said this was recorded (ISO). */
    at: string;
  }[];
  /** Message-IDs of the reports merged, oldest first (the last 20). */
  reports: string[];
}

export interface OutboxRepo {
  get(key: string): OutboxEntry | undefined;
  /** Inserts when the key is new; returns the stored entry either way (idempotent). */
  enqueue(
    entry: Omit<
      OutboxEntry,
      | "status"
      | "attempts"
      | "createdAt"
      | "updatedAt"
      | "savedToSent"
      | "nextAttemptAt"
      | "sendingSince"
      | "deliveryReport"
      | "deferredFrom"
      | "strayCopies"
    > & {
      nextAttemptAt?: string;
    },
  ): { entry: OutboxEntry; created: boolean };
  /** Records that a send of a pending entry starts now (`since`, ISO); its outcome clears it. */
  markSending(key: string, since: string): void;
  /** Moves a pending entry's next attempt without counting an attempt (an entry in doubt waits). */
  postpone(key: string, nextAttemptAt: string): void;
  /**
   * Marks a send accepted. With `deferred` (recipients the server refused temporarily while taking
   * the message for the others) it enqueues, in the same transaction, a follow-up carrying the same
   * message to them alone (see OutboxEntry.deferredFrom), due at `nextAttemptAt`, its last error the
   * server's refusal; returns it. A crash after the commit loses neither the sent mark nor them.
   */
  markSent(
    key: string,
    response: string,
    deferred?: { recipients: string[]; error: string; nextAttemptAt: string },
  ): OutboxEntry | undefined;
  /**
   * Counts a failed attempt, records its error and sets the next one; the send's start mark is
   * cleared. With `inDoubt` the server may have taken the message (a connection lost mid-send): the
   * mark stays and the attempt is not counted yet, as after a crash (see OutboxDispatcher). With
   * `strayCopy` the server took the delivery copy but no recipient: strayCopies counts one more.
   */
  markAttemptFailed(
    key: string,
    error: string,
    nextAttemptAt: string,
    options?: { inDoubt?: boolean; strayCopy?: boolean },
  ): void;
  markFailed(key: string, error: string): void;
  markSavedToSent(key: string): void;
  /** Pending entries whose next attempt is due at `now`, oldest first. */
  due(now: Date, limit?: number): OutboxEntry[];
  pending(): OutboxEntry[];
  /** Sent entries not yet copied to Sent. */
  unsaved(): OutboxEntry[];
  countByStatus(): Record<string, number>;
  /** The entry sent with this ENVID (see OutboxEntry.envelopeId); of a message and its follow-ups, the first. */
  getByEnvelopeId(envelopeId: string): OutboxEntry | undefined;
  /** Entries whose message has this Message-ID (normally one; more with its follow-ups), oldest first. */
  getByMessageId(messageId: string): OutboxEntry[];
  /** Stores what the delivery reports said (replacing what was stored). */
  setDeliveryReport(key: string, report: OutboxDeliveryReport): void;
}

/** Sliding-window event counts for rate limits. */
export interface RateRepo {
  record(key: string, at: Date): void;
  count(key: string, since: Date): number;
  prune(before: Date): void;
}

/** WebDAV collection state (CalDAV calendars, CardDAV address books). */
export interface DavCollectionState {
  url: string;
  account: string;
  kind: "calendar" | "addressbook";
  displayName?: string;
  syncToken?: string;
  ctag?: string;
  updatedAt: string;
}

export interface DavObjectState {
  collectionUrl: string;
  /** Normalised href (percent-decoding of unreserved characters, see dav/href.ts). */
  href: string;
  etag?: string;
  data: string;
  updatedAt: string;
}

export interface DavRepo {
  getCollection(url: string): DavCollectionState | undefined;
  putCollection(state: DavCollectionState): void;
  listCollections(account?: string): DavCollectionState[];
  deleteCollection(url: string): void;
  listObjects(collectionUrl: string): DavObjectState[];
  getObject(collectionUrl: string, href: string): DavObjectState | undefined;
  putObject(state: DavObjectState): void;
  deleteObject(collectionUrl: string, href: string): void;
}

/** Exactly-once marks for fired reminders. */
export interface FiredRepo {
  /** Marks (id, fireAt) as fired; returns false when it was already marked. */
  markFired(id: string, fireAt: Date): boolean;
  wasFired(id: string, fireAt: Date): boolean;
}

/** Small named values (schema meta, counters). */
export interface KeyValueRepo {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
}

export interface StateStore {
  readonly cursors: CursorRepo;
  readonly inbound: InboundLedger;
  readonly threads: ThreadRepo;
  readonly conversations: ConversationRepo;
  readonly outbox: OutboxRepo;
  readonly rates: RateRepo;
  readonly dav: DavRepo;
  readonly fired: FiredRepo;
  readonly kv: KeyValueRepo;
  /** The embedded reminder sink (used when the host supplies none). */
  readonly reminders: ReminderSink;
  /** The embedded profile sink (used when the host supplies none). */
  readonly profiles: ProfileSink;
  /** Runs fn in one transaction. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
