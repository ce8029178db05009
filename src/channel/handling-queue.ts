import type { EventEmitter } from "node:events";
import type { ResolvedConfig } from "../config/resolved.js";
import type { MessageFormat } from "../contract/index.js";
import type { Disposition } from "../imap/types.js";
import type { Logger } from "../log/index.js";
import type { KeyedQueue } from "../runtime/keyed-queue.js";
import type { GroupCommit } from "../store/sqlite/group-commit.js";
import type { InboundRecord, StateStore } from "../store/types.js";
import { type Position, positionKey } from "./inbound-records.js";

export interface HandlingDeps {
  config: ResolvedConfig;
  store: StateStore;
  logger: Logger;
  queue: KeyedQueue;
  events: EventEmitter;
  /** The pipeline's group commit (attempt counts and finished hand-overs share its commits). */
  writes: GroupCommit;
  /** Hands the message to the agent; resolves when the reply (if any) is durably in the outbox. */
  deliver(message: MessageFormat): Promise<void>;
  /**
   * Whether an earlier run already finished this message's handling: its reply is durably in the
   * outbox (a stop or crash came between that write and the `handled` record). Asked before a
   * resumed or retried message goes to the agent: such a message is recorded handled, not handed
   * over again.
   */
  answered?(message: MessageFormat): boolean;
  /** Has the watcher of `where` flag or move the message (see MailboxWatcher.settle). */
  settle(where: Position, disposition: Disposition): void;
  /** How much may wait for or be with the agent at once (see HandlingQueue.saturated); defaults per limit. */
  limits?: Partial<HandlingLimits>;
  /** The queue was saturated and has room again (below half its limits): hand more over. */
  onRoom?(): void;
  signal: AbortSignal;
}

/** What the agent stage may hold at once: past either limit the watchers stop handing over. */
export interface HandlingLimits {
  /** Messages queued, with the agent or waiting for a retry. Default 256. */
  messages: number;
  /** Their text (content, full text, HTML), in characters. Default 64 Mi. */
  chars: number;
}

export const DEFAULT_HANDLING_LIMITS: HandlingLimits = { messages: 256, chars: 64 * 1024 * 1024 };

/** The text a queued message keeps in memory, roughly (its strings' lengths). */
function charsOf(message: MessageFormat): number {
  const meta = message.metadata as { fullText?: unknown; html?: unknown };
  const len = (v: unknown) => (typeof v === "string" ? v.length : 0);
  return message.content.length + len(meta.fullText) + len(meta.html);
}

/**
 * The agent stage of the inbound path: recorded messages queued per conversation (one at a time,
 * in order; conversations in parallel up to the queue's limit), every attempt counted before the
 * agent runs, `handled` recorded once the reply is durable, failures retried with backoff and
 * quarantined after `max_attempts`.
 */
export class HandlingQueue {
  readonly #d: HandlingDeps;
  /** Positions queued, running, or waiting for an in-process retry, and the text each holds. */
  readonly #inflight = new Map<string, number>();
  #chars = 0;
  #wasSaturated = false;
  #arriving = 0;
  readonly #limits: HandlingLimits;
  readonly #retryTimers = new Map<string, NodeJS.Timeout>();

  constructor(deps: HandlingDeps) {
    this.#d = deps;
    this.#limits = { ...DEFAULT_HANDLING_LIMITS, ...deps.limits };
  }

  /** Is this position queued, running or waiting for a retry in this process? */
  has(where: Position): boolean {
    return this.#inflight.has(positionKey(where));
  }

  /**
   * Holds as many messages (or as much text) as its limits allow, counting those arriving (see
   * arriving()): a slow agent must not make a backlog pile up in memory. The rest waits in the
   * mailbox; onRoom says when to go on.
   */
  saturated(): boolean {
    const full =
      this.#inflight.size + this.#arriving >= this.#limits.messages || this.#chars >= this.#limits.chars;
    if (full) this.#wasSaturated = true;
    return full;
  }

  /**
   * A message about to be decided (+1) or decided (-1): counted against the limits meanwhile. One
   * decided without being queued (refused, robot mail, a duplicate) may leave room, as one done does.
   */
  arriving(delta: 1 | -1): void {
    this.#arriving += delta;
    if (delta < 0) this.#checkRoom();
  }

  #add(k: string, chars: number): void {
    this.#chars += chars - (this.#inflight.get(k) ?? 0);
    this.#inflight.set(k, chars);
  }

  #remove(k: string): void {
    this.#chars -= this.#inflight.get(k) ?? 0;
    this.#inflight.delete(k);
    this.#checkRoom();
  }

  /** After saturation, room again below half the limits: onRoom, once. */
  #checkRoom(): void {
    if (!this.#wasSaturated) return;
    const held = this.#inflight.size + this.#arriving;
    if (held <= this.#limits.messages / 2 && this.#chars <= this.#limits.chars / 2) {
      this.#wasSaturated = false;
      this.#d.onRoom?.();
    }
  }

  /**
   * Queues a recorded message for the agent. `counted`: the record whose first attempt the
   * hand-over's own commit already counted (then nothing is written before the agent runs).
   */
  enqueue(message: MessageFormat, where: Position, counted?: InboundRecord): void {
    const k = positionKey(where);
    this.#add(k, charsOf(message));
    this.#d.queue
      .push(message.conversationId, () => this.#handle(message, where, counted))
      .catch((error) =>
        this.#d.logger.error({ err: error, messageId: message.messageId }, "handling crashed"),
      )
      .finally(() => {
        if (!this.#retryTimers.has(k)) this.#remove(k);
      });
  }

  /** Cancels the retries waiting (those messages stay `received`: resumed at the next start). */
  stop(): void {
    for (const [k, t] of this.#retryTimers) {
      clearTimeout(t);
      this.#remove(k);
    }
    this.#retryTimers.clear();
  }

  async #handle(message: MessageFormat, where: Position, counted?: InboundRecord): Promise<void> {
    const d = this.#d;
    if (d.signal.aborted) return; // left as "received": resumed at the next start
    // Every attempt is counted (committed) before the agent runs: the first one by the hand-over's
    // commit, a retry or a resumed message here, in a commit shared with the others. A process that
    // crashes on a message therefore meets it with a higher count each time and quarantines it.
    const record =
      counted ??
      (await d.writes.run(() =>
        d.store.inbound.bumpAttempts(where.account, where.mailbox, where.uidValidity, where.uid),
      ));
    if (record?.status !== "received") return;
    const attempts = record.attempts;
    if (!counted && d.answered?.(message)) {
      d.logger.info(
        { messageId: message.messageId, uid: where.uid },
        "its reply was recorded before the last stop: handled, not handed to the agent again",
      );
      await this.#handled(message, where, attempts);
      return;
    }
    if (attempts > d.config.watch.maxAttempts) {
      this.#quarantine(
        record,
        `handling did not finish after ${attempts - 1} attempts (the process may have crashed on it)`,
      );
      return;
    }
    try {
      await d.deliver(message);
      await this.#handled(message, where, attempts);
    } catch (error) {
      if (d.signal.aborted) return;
      d.logger.warn({ err: error, messageId: message.messageId, attempts }, "handling failed");
      if (attempts >= d.config.watch.maxAttempts) {
        this.#quarantine(record, `handling failed ${attempts} times: ${(error as Error).message}`);
        return;
      }
      // Still in flight while it waits: a sync cycle that lists it as unfinished meanwhile must not
      // hand it over a second time.
      const k = positionKey(where);
      const timer = setTimeout(
        () => {
          this.#retryTimers.delete(k);
          this.enqueue(message, where);
        },
        1000 * 2 ** attempts,
      );
      this.#retryTimers.set(k, timer);
    }
  }

  /** Records the message handled and owing \Seen, settles it, logs and emits "handled". */
  async #handled(message: MessageFormat, where: Position, attempts: number): Promise<void> {
    const d = this.#d;
    // The \Seen it now owes is recorded with the status: a crash before the watcher applied it
    // leaves it owed, and the next session applies it.
    await d.writes.run(() => d.store.inbound.setStatus(where, "handled", undefined, "seen"));
    d.settle(where, { action: "seen" });
    const meta = message.metadata as { from?: { address?: string }; subject?: string };
    d.logger.info(
      {
        account: where.account,
        uid: where.uid,
        from: meta.from?.address,
        subject: meta.subject,
        conversationId: message.conversationId,
        attempts,
      },
      "handled",
    );
    d.events.emit("handled", {
      ...where,
      messageId: message.messageId,
      conversationId: message.conversationId,
    });
  }

  #quarantine(record: InboundRecord, reason: string): void {
    const d = this.#d;
    d.store.inbound.put({ ...record, status: "quarantined", reason, mailboxTodo: "quarantine" });
    d.logger.warn({ messageId: record.messageId, uid: record.uid }, `quarantined: ${reason}`);
    d.settle(record, { action: "quarantine", reason });
    d.events.emit("quarantined", { ...record, reason });
  }
}
