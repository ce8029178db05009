/**
 * OutboxDispatcher: sends what the outbox holds, exactly as stored, and records the outcome.
 *
 * Guarantees (single process per store):
 * - The caller enqueues the finished bytes BEFORE anything is sent; an entry is marked sent only
 *   after the server accepted it; a pending entry is sent after a restart.
 * - One send in flight per key: the loop and `sendNow` share one promise per key, and the entry's
 *   status is read again right before sending, so a key that is sent is never sent again.
 * - Transient failures (4xx, network, rate limit) retry with backoff and jitter within a bounded
 *   time and number of attempts; a 5xx or an invalid message is `failed` at once, with the
 *   server's words, and `permanentFailure` is emitted. Auth and TLS failures say nothing about the
 *   message (the configuration is wrong); they retry like transient ones until the bound, and are
 *   logged as errors so a person fixes the configuration in time.
 *
 * The crash window (RFC 1047): if the process dies after the server took the message and before
 * `markSent` committed, the server has it and we do not know. SMTP has no idempotency key, so a
 * blind resend would deliver it twice. Every send therefore records when it starts
 * (`sendingSince`); an entry still carrying that mark at the next start is "in doubt". With
 * `deliveryCopy` each send also names the account's own address as an envelope recipient: the
 * server delivers that copy only if it accepted the message, so an entry in doubt waits (up to
 * `inDoubtGraceMs`) for `confirmDelivered` to see its copy arrive and is then marked sent without
 * sending again; only when no copy comes is it sent again (logged as such, same Message-ID).
 * The same window opens without a crash when the connection is lost after the end of DATA: the
 * server took the message, its "250" never came. A network failure that may have come that late
 * (mayHaveBeenAccepted: any but a connection never made) therefore leaves the entry in doubt too when
 * there is a copy to wait for; the price is that a send cut off earlier waits for the grace period
 * instead of the first backoff step before it goes again.
 *
 * Recipients deferred (RCPT TO 4xx) while the server took the message for the others are still
 * owed it: with the sent mark, in the same transaction, a follow-up entry is stored that sends the
 * same bytes to them alone, with the usual retries (see OutboxEntry.deferredFrom). What happens once
 * per message is not done again for it: no onSent (the copy in Sent), no delivery copy (it would
 * carry the same Message-ID as the first one, so confirmDelivered could not tell them apart: a
 * follow-up in doubt is sent again at once).
 */
import { EventEmitter } from "node:events";
import { AbortedError, EmailChannelError, InputError } from "../errors/index.js";
import { envelopeIdFor } from "./delivery-reports.js";
import { type Logger, silentLogger } from "../log/index.js";
import { mayHaveBeenAccepted } from "../smtp/errors.js";
import type { SendResult } from "../smtp/types.js";
import type { OutboxEntry } from "../store/types.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy, backoffDelay, decideRetry } from "./backoff.js";
import { deferredRecipients } from "./deferred.js";
import { deliveryCopyOf, withoutDeliveryCopy } from "./delivery-copy.js";
import { WakeableSleep, runLimited, toChannelError } from "./support.js";
import type { DispatchOutcome, OutboxDispatcherOptions, OutboxEnqueueInput, OutboxEvents } from "./types.js";

type State = "idle" | "running" | "stopping";

export class OutboxDispatcher extends EventEmitter<OutboxEvents> {
  private readonly repo: OutboxDispatcherOptions["repo"];
  private readonly policy: RetryPolicy;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly inFlight = new Map<string, Promise<DispatchOutcome>>();
  /** Retry times this process scheduled, so the loop wakes exactly then. */
  private readonly scheduled = new Map<string, number>();
  private readonly sleeper = new WakeableSleep();
  private state: State = "idle";
  private loopDone: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  /** Aborted when stop() gives up waiting for sends in flight. */
  private hardStop = new AbortController();
  /** When start() ran (an entry in doubt waits for its copy at least a grace period after it). */
  private startedAt = 0;

  constructor(private readonly options: OutboxDispatcherOptions) {
    super();
    this.repo = options.repo;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.log = (options.logger ?? silentLogger()).child({ stage: "outbox" });
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
  }

  /** Starts the background loop (idempotent): due entries, then scheduled retries as they fall due. */
  async start(): Promise<void> {
    if (this.state === "running") return;
    if (this.stopping) await this.stopping;
    this.state = "running";
    this.startedAt = this.now().getTime();
    this.hardStop = new AbortController();
    for (const entry of this.repo.pending()) this.schedule(entry.key, Date.parse(entry.nextAttemptAt));
    this.loopDone = this.loop();
  }

  /**
   * Stops the loop (idempotent): no new attempts, waits are cut short, sends in flight may finish
   * for up to `stopTimeoutMs`, then they are aborted. No timer outlives the returned promise.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.state === "idle" && this.inFlight.size === 0) return Promise.resolve();
    this.state = "stopping";
    this.sleeper.wake();
    this.stopping = (async () => {
      const settle = Promise.allSettled([this.loopDone, ...this.inFlight.values()]);
      const timeoutMs = this.options.stopTimeoutMs ?? 30_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      if ((await Promise.race([settle, timedOut])) === "timeout") {
        this.log.warn({ inFlight: this.inFlight.size }, "stop: aborting sends still in flight");
        this.hardStop.abort(new AbortedError("smtp"));
        await settle;
      }
      clearTimeout(timer);
      this.scheduled.clear();
      this.state = "idle";
      this.loopDone = undefined;
      this.stopping = undefined;
    })();
    return this.stopping;
  }

  /**
   * Enqueues (idempotent by key) and wakes the loop. Returns the stored entry and whether it is new.
   * The entry's ENVID is derived from its Message-ID (see envelopeIdFor).
   */
  enqueue(input: OutboxEnqueueInput): { entry: OutboxEntry; created: boolean } {
    const stored = this.repo.enqueue({ ...input, envelopeId: envelopeIdFor(input.messageId) });
    if (stored.entry.status === "pending")
      this.schedule(stored.entry.key, Date.parse(stored.entry.nextAttemptAt));
    return stored;
  }

  /**
   * Tries the entry now (the reply path, right after enqueue). A sent entry is not sent again; a
   * failed one is not retried; a pending one waiting for a later retry is left to the loop unless
   * `force`. While stop() runs nothing new is attempted (the entry stays pending for the next start).
   */
  sendNow(key: string, options: { force?: boolean; signal?: AbortSignal } = {}): Promise<DispatchOutcome> {
    const running = this.inFlight.get(key);
    if (running) return running;
    const entry = this.repo.get(key);
    if (!entry) {
      return Promise.reject(
        new InputError(`outbox: no entry ${key}`, { code: "OUTBOX_UNKNOWN_KEY", stage: "smtp" }),
      );
    }
    if (entry.status !== "pending" || this.state === "stopping")
      return Promise.resolve(this.outcomeOf(entry));
    const due = Date.parse(entry.nextAttemptAt) <= this.now().getTime();
    if (!due && entry.attempts > 0 && !options.force) return Promise.resolve(this.outcomeOf(entry));
    return this.dispatch(entry, options.signal);
  }

  /** Number of sends in flight (for status output and tests). */
  get activeSends(): number {
    return this.inFlight.size;
  }

  private dispatch(entry: OutboxEntry, signal?: AbortSignal): Promise<DispatchOutcome> {
    const existing = this.inFlight.get(entry.key);
    if (existing) return existing;
    const work = this.attempt(entry, signal).finally(() => this.inFlight.delete(entry.key));
    this.inFlight.set(entry.key, work);
    return work;
  }

  private async attempt(entry: OutboxEntry, signal?: AbortSignal): Promise<DispatchOutcome> {
    const log = this.log.child({ key: entry.key, messageId: entry.messageId });
    this.scheduled.delete(entry.key);
    if (entry.sendingSince) {
      const settled = await this.inDoubt(entry, log);
      if (settled) return settled;
      entry = this.repo.get(entry.key) ?? entry; // the send in doubt now counts as an attempt
    }
    const deadline = Date.parse(entry.createdAt) + this.policy.maxTotalMs;
    if (entry.attempts >= this.policy.maxAttempts || this.now().getTime() > deadline) {
      return this.fail(entry, this.expired(entry), log);
    }
    const signals = [this.hardStop.signal, ...(signal ? [signal] : [])];
    let result: SendResult;
    const copy = deliveryCopyOf(entry.recipients, this.copyFor(entry));
    try {
      const sender =
        typeof this.options.sender === "function" ? this.options.sender(entry) : this.options.sender;
      const from = this.options.envelopeFrom?.(entry) ?? entry.account;
      const to = copy ? [...entry.recipients, copy] : entry.recipients;
      // From here until the outcome is recorded, the entry is in doubt should the process stop.
      this.repo.markSending(entry.key, this.now().toISOString());
      const envelope = { from, to, ...(entry.envelopeId ? { envelopeId: entry.envelopeId } : {}) };
      result = await sender.send({ raw: entry.raw, envelope }, AbortSignal.any(signals));
    } catch (thrown) {
      return this.failedAttempt(entry, toChannelError(thrown), log);
    }
    if (copy) {
      try {
        result = withoutDeliveryCopy(result, copy, entry.recipients, log);
      } catch (refused) {
        // The server refused every recipient but took the copy: it arrives all the same, and must not
        // pass for the copy of a later send in doubt (OutboxEntry.strayCopies).
        return this.failedAttempt(entry, toChannelError(refused), log, { strayCopy: true });
      }
    }
    // First thing after the server's "250": the crash window ends with this commit.
    return this.recordSent(entry, result, () =>
      log.info({ response: result.response, rejected: result.rejected.length }, "sent"),
    );
  }

  /**
   * Marks the entry sent with the server's reply (and stores the follow-up to recipients it
   * deferred), logs (`logged`), then the events and, once per message, onSent.
   */
  private async recordSent(
    entry: OutboxEntry,
    result: SendResult,
    logged: () => void,
  ): Promise<DispatchOutcome> {
    const deferred = this.deferredOf(entry, result);
    const followUp = this.repo.markSent(entry.key, result.response, deferred);
    logged();
    if (followUp) {
      this.schedule(followUp.key, Date.parse(followUp.nextAttemptAt));
      this.log.warn(
        { key: entry.key, followUp: followUp.key, deferred: followUp.recipients, reason: followUp.lastError },
        "the server deferred some recipients: the message goes to them again later",
      );
    }
    const sent = this.repo.get(entry.key) ?? { ...entry, status: "sent" as const, response: result.response };
    if (result.rejected.length > 0) this.emit("recipientsRejected", sent, result.rejected);
    this.emit("sent", sent, result);
    if (!sent.deferredFrom) await this.runOnSent(sent, { result, replayed: false });
    return {
      key: entry.key,
      messageId: entry.messageId,
      status: "sent",
      response: result.response,
      rejected: result.rejected,
    };
  }

  /** The recipients of an accepted send that the server deferred, and when their follow-up is due. */
  private deferredOf(entry: OutboxEntry, result: SendResult) {
    const deferred = deferredRecipients(entry.recipients, result);
    if (!deferred) return undefined;
    // The server's 4xx was the first failure for them: their follow-up waits one backoff step.
    const at = this.now().getTime() + backoffDelay(1, this.policy, this.random);
    return { ...deferred, nextAttemptAt: new Date(at).toISOString() };
  }

  /**
   * An entry whose last send was cut off after it started (see the crash window above): marked sent
   * when its delivery copy has arrived, left waiting for the copy while the grace period lasts, or
   * undefined: send it again.
   */
  private async inDoubt(entry: OutboxEntry, log: Logger): Promise<DispatchOutcome | undefined> {
    const since = new Date(entry.sendingSince!);
    const confirm = this.options.confirmDelivered;
    if (!confirm || !this.copyExpected(entry)) {
      log.warn({ since: entry.sendingSince }, "send in doubt and no delivery copy to check: sending again");
      return this.sendAgain(entry, "send in doubt, no delivery copy to check");
    }
    if (confirm(entry, since)) {
      const response = "accepted before its send was cut off (its delivery copy arrived); not sent again";
      return this.recordSent(entry, { response, accepted: [...entry.recipients], rejected: [] }, () =>
        log.info({ since: entry.sendingSince }, "send in doubt: its delivery copy arrived, so it was sent"),
      );
    }
    const now = this.now().getTime();
    const deadline = Math.max(since.getTime(), this.startedAt) + (this.options.inDoubtGraceMs ?? 60_000);
    if (now < deadline) {
      const at = Math.min(deadline, now + (this.options.inDoubtCheckMs ?? 2_000));
      const nextAttemptAt = new Date(at).toISOString();
      // The first look: the wait has not moved the entry's next attempt past the cut-off send yet.
      const firstLook = Date.parse(entry.nextAttemptAt) <= since.getTime();
      this.repo.postpone(entry.key, nextAttemptAt);
      this.schedule(entry.key, at);
      if (firstLook) {
        log.warn(
          { since: entry.sendingSince, until: new Date(deadline).toISOString() },
          "send in doubt (cut off before the server's reply was recorded): waiting for its delivery copy",
        );
      }
      return { key: entry.key, messageId: entry.messageId, status: "queued", nextAttemptAt };
    }
    log.warn(
      { since: entry.sendingSince },
      "send in doubt and its delivery copy did not arrive in time: sending again (same Message-ID)",
    );
    return this.sendAgain(entry, "send in doubt, its delivery copy did not arrive");
  }

  /** Gives up on the send in doubt: it counts as a failed attempt (every send is counted once). */
  private sendAgain(entry: OutboxEntry, reason: string): undefined {
    this.repo.markAttemptFailed(entry.key, reason, this.now().toISOString());
    return undefined;
  }

  private failedAttempt(
    entry: OutboxEntry,
    error: EmailChannelError,
    log: Logger,
    o: { strayCopy?: boolean } = {},
  ): DispatchOutcome {
    if (error instanceof AbortedError || error.kind === "aborted") {
      // Not an attempt that failed: the entry stays as it was and is tried at the next start.
      log.info("send aborted; entry stays pending");
      return { ...this.outcomeOf(entry), error };
    }
    if (mayHaveBeenAccepted(error) && this.copyExpected(entry)) return this.cutOff(entry, error, log);
    const blocksConfig = error.kind === "auth" || error.kind === "tls" || error.kind === "config";
    if (!error.retryable && !blocksConfig) return this.fail(entry, error, log);
    const decision = decideRetry(
      { attempts: entry.attempts + 1, createdAt: new Date(entry.createdAt), now: this.now(), error },
      this.policy,
      this.random,
    );
    if (!decision.retry) return this.fail(entry, this.expired(entry, error, decision.reason), log);
    const at = decision.at.toISOString();
    this.repo.markAttemptFailed(entry.key, error.message, at, o.strayCopy ? { strayCopy: true } : undefined);
    this.schedule(entry.key, decision.at.getTime());
    const level = blocksConfig ? "error" : "warn";
    log[level]({ err: error, nextAttemptAt: at, attempts: entry.attempts + 1 }, "send failed; will retry");
    this.emit("retryScheduled", this.repo.get(entry.key) ?? entry, error, decision.at);
    return { key: entry.key, messageId: entry.messageId, status: "queued", error, nextAttemptAt: at };
  }

  /** Whether a send of `entry` that the server took brings a copy that confirmDelivered can see. */
  private copyExpected(entry: OutboxEntry): boolean {
    return this.options.confirmDelivered !== undefined && this.copyFor(entry) !== undefined;
  }

  /** The delivery copy address for `entry`: none for a follow-up (its message's copy went already). */
  private copyFor(entry: OutboxEntry): string | undefined {
    return entry.deferredFrom ? undefined : this.options.deliveryCopy?.(entry);
  }

  /**
   * The connection went while the server may have been taking the message: like a send cut off by a
   * crash, the send's start mark stays and the attempt is not counted before its outcome is known.
   * The next attempt (after one copy check interval) goes through inDoubt(): marked sent when the
   * copy arrives, sent again only after the grace period without it.
   */
  private cutOff(entry: OutboxEntry, error: EmailChannelError, log: Logger): DispatchOutcome {
    const at = this.now().getTime() + (this.options.inDoubtCheckMs ?? 2_000);
    const nextAttemptAt = new Date(at).toISOString();
    this.repo.markAttemptFailed(entry.key, error.message, nextAttemptAt, { inDoubt: true });
    this.schedule(entry.key, at);
    log.warn(
      { err: error },
      "send cut off after the connection was up (the server may have taken it): waiting for its delivery copy before sending again",
    );
    this.emit("retryScheduled", this.repo.get(entry.key) ?? entry, error, new Date(at));
    return { key: entry.key, messageId: entry.messageId, status: "queued", error, nextAttemptAt };
  }

  private fail(entry: OutboxEntry, error: EmailChannelError, log: Logger): DispatchOutcome {
    const words = (error as { response?: string }).response ?? error.message;
    this.repo.markFailed(entry.key, words);
    log.error({ err: error }, "send failed permanently");
    this.emit("permanentFailure", this.repo.get(entry.key) ?? entry, error);
    return { key: entry.key, messageId: entry.messageId, status: "failed", response: words, error };
  }

  private expired(
    entry: OutboxEntry,
    last?: EmailChannelError,
    reason = "retries exhausted",
  ): EmailChannelError {
    const lastWords = last?.message ?? entry.lastError;
    return new EmailChannelError(`outbox: ${reason}${lastWords ? `; last error: ${lastWords}` : ""}`, {
      code: "OUTBOX_EXPIRED",
      stage: "smtp",
      kind: last?.kind ?? "network",
      retryable: false,
      ...(last ? { cause: last } : {}),
    });
  }

  private outcomeOf(entry: OutboxEntry): DispatchOutcome {
    const out: DispatchOutcome = {
      key: entry.key,
      messageId: entry.messageId,
      status: entry.status === "pending" ? "queued" : entry.status,
    };
    if (entry.status === "sent" && entry.response) out.response = entry.response;
    if (entry.status === "failed" && entry.lastError) out.response = entry.lastError;
    if (entry.status === "pending") out.nextAttemptAt = entry.nextAttemptAt;
    return out;
  }

  private async runOnSent(
    entry: OutboxEntry,
    info: Parameters<NonNullable<OutboxDispatcherOptions["onSent"]>>[1],
  ) {
    if (!this.options.onSent) return;
    try {
      await this.options.onSent(entry, info);
    } catch (error) {
      this.log.error({ err: error, key: entry.key }, "onSent hook failed");
    }
  }

  private schedule(key: string, at: number): void {
    if (Number.isNaN(at)) return;
    this.scheduled.set(key, at);
    if (this.state === "running") this.sleeper.wake();
  }

  private async loop(): Promise<void> {
    if (this.options.replayUnsavedOnStart ?? true) {
      for (const entry of this.repo.unsaved()) {
        if (this.state !== "running") break;
        await this.runOnSent(entry, { replayed: true });
      }
    }
    const batchSize = this.options.batchSize ?? 50;
    while (this.state === "running") {
      let full = false;
      try {
        const due = this.repo.due(this.now(), batchSize).filter((e) => !this.inFlight.has(e.key));
        full = due.length >= batchSize;
        await runLimited(due, this.options.concurrency ?? 3, async (entry) => {
          if (this.state !== "running") return;
          const fresh = this.repo.get(entry.key);
          if (fresh?.status === "pending") await this.dispatch(fresh);
        });
      } catch (error) {
        this.log.error({ err: error }, "outbox pass failed");
      }
      if (this.state !== "running" || full) continue;
      this.forgetPast();
      await this.sleeper.sleep(this.nextWait());
    }
  }

  /**
   * After a pass, a scheduled time in the past belongs to an entry the pass handled, one in flight
   * (it reschedules itself if it fails) or one no longer pending: none needs a wake-up.
   */
  private forgetPast(): void {
    const now = this.now().getTime();
    for (const [key, at] of this.scheduled) if (at <= now) this.scheduled.delete(key);
  }

  /** Until the earliest retry this process scheduled, at most pollIntervalMs. */
  private nextWait(): number {
    const now = this.now().getTime();
    let wait = this.options.pollIntervalMs ?? 30_000;
    for (const at of this.scheduled.values()) wait = Math.min(wait, Math.max(0, at - now));
    return wait;
  }
}
