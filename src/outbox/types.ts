/** Options, outcomes and events of the outbox dispatcher. */
import type { EmailChannelError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { SendResult, OutboundSender } from "../smtp/types.js";
import type { OutboxEntry, OutboxRepo } from "../store/types.js";
import type { RetryPolicy } from "./backoff.js";

export interface OutboxDispatcherOptions {
  /** Where entries live (the state store's outbox). */
  repo: OutboxRepo;
  /** The sender, or one per entry (per account: each monitored account logs in with its own credentials). */
  sender: OutboundSender | ((entry: OutboxEntry) => OutboundSender);
  /** MAIL FROM for an entry. Default: `entry.account` (the channel stores the sending address there). */
  envelopeFrom?: (entry: OutboxEntry) => string;
  /** Retry timing; see RetryPolicy for the defaults. */
  retry?: Partial<RetryPolicy>;
  /**
   * Longest the background loop sleeps before looking for due entries again, ms. Default 30 000. It
   * also wakes at every retry time it scheduled itself and whenever `enqueue()` is called, so this only
   * matters for entries another writer put into the store.
   */
  pollIntervalMs?: number;
  /** Entries taken from the store per pass. Default 50. */
  batchSize?: number;
  /** Sends the loop runs at the same time. Default 3 (the pool size). */
  concurrency?: number;
  /**
   * How long `stop()` lets sends in flight finish before it aborts them, ms. Default 30 000. Finishing
   * is preferred: an aborted send may still have been accepted, and would be sent again on restart.
   */
  stopTimeoutMs?: number;
  /**
   * Called after an entry is marked sent (awaited; an error is logged, the entry stays sent). `replayed`
   * is true when start() calls it for an entry sent before a crash but never `markSavedToSent`: the
   * hook appends to Sent and then calls `repo.markSavedToSent(key)`, so it must tolerate a repeat.
   * Once per message: not called for a follow-up to recipients the server deferred (an entry with
   * `deferredFrom`; it is stored as saved to Sent), whose message was handled with the first entry.
   */
  onSent?: (entry: OutboxEntry, info: { result?: SendResult; replayed: boolean }) => void | Promise<void>;
  /**
   * An extra envelope recipient for every send of an entry (no header names it): the sending
   * account's own address. The server delivers that copy only when it accepts the message, so when
   * a send was cut off after the message went out and before the server's reply was recorded (a
   * crash, or stop() aborting it) the entry is "in doubt" and `confirmDelivered` can tell whether it
   * went out. Default: no copy.
   */
  deliveryCopy?: (entry: OutboxEntry) => string | undefined;
  /**
   * Whether the delivery copy of an entry in doubt has arrived (`since`: the start of the send that
   * was cut off). The copies of earlier sends that reached no recipient (`entry.strayCopies`) carry
   * the same Message-ID and arrive too, possibly later than `since`: only a copy beyond them counts.
   * Without it an entry in doubt is sent again at once (SMTP has no idempotency key: that may deliver
   * it twice, with the same Message-ID).
   */
  confirmDelivered?: (entry: OutboxEntry, since: Date) => boolean;
  /**
   * How long an entry in doubt waits for its delivery copy before it is sent again, ms, counted from
   * the later of the cut-off send and this dispatcher's start. Default 60 000.
   */
  inDoubtGraceMs?: number;
  /** How often an entry in doubt looks for its copy while it waits, ms. Default 2 000. */
  inDoubtCheckMs?: number;
  /** Call onSent for unsaved sent entries at start. Default true. */
  replayUnsavedOnStart?: boolean;
  logger?: Logger;
  /** Clock. Default `() => new Date()`. */
  now?: () => Date;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
}

/** What a dispatch of one entry ended in. */
export interface DispatchOutcome {
  key: string;
  messageId: string;
  /** `sent`: the server accepted it (now or earlier); `queued`: pending, retried later; `failed`: never. */
  status: "sent" | "queued" | "failed";
  /** The server's final reply (sent) or its words of refusal (failed), when known. */
  response?: string;
  /** Recipients the server refused while accepting others. */
  rejected?: string[];
  /** Why it is queued or failed. */
  error?: EmailChannelError;
  /** When the next attempt is due (queued). */
  nextAttemptAt?: string;
}

export interface OutboxEvents {
  /** The server accepted the entry (a follow-up to deferred recipients too: see OutboxEntry.deferredFrom). */
  sent: [entry: OutboxEntry, result: SendResult];
  /** The entry will never be sent: a 5xx, an invalid message, or retries exhausted. */
  permanentFailure: [entry: OutboxEntry, error: EmailChannelError];
  /** A transient failure; the next attempt is at `at`. */
  retryScheduled: [entry: OutboxEntry, error: EmailChannelError, at: Date];
  /**
   * The server accepted the message for some recipients and refused these. Those it refused
   * temporarily (4xx) get it from a follow-up entry, reported by these same events.
   */
  recipientsRejected: [entry: OutboxEntry, rejected: string[]];
}

/** What `enqueue()` takes: the stored entry's fields the caller knows (the ENVID is derived, see envelopeIdFor). */
export type OutboxEnqueueInput = Omit<Parameters<OutboxRepo["enqueue"]>[0], "envelopeId">;
