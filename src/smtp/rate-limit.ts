/**
 * Outbound rate limits.
 *
 * - Global: messages per second across every connection of a sender. Sends are spaced evenly
 *   (1000/rate ms apart) and wait for their slot, so a burst is smoothed rather than refused.
 * - Per recipient: at most `max` messages to one address per `windowSeconds` (a sliding window).
 *   A send that would exceed it is refused with a retryable `SMTP_RATE_LIMITED` error carrying
 *   `retryAfter`, so the outbox tries again once the window has room. Sends are counted when they
 *   start (check and record in one synchronous step, so concurrent sends cannot both slip through);
 *   a send that then fails still counts, which errs on the side of sending less.
 */
import { AbortedError, EmailChannelError } from "../errors/index.js";

/** Waits `ms`, or rejects with AbortedError when the signal aborts first. No timer outlives it. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new AbortedError("smtp", signal.reason));
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError("smtp", signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Even spacing of sends: `perSecond` messages per second; 0 or less means no limit. */
export class GlobalRateLimiter {
  private nextFreeAt = 0;
  private readonly intervalMs: number;

  constructor(
    perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.intervalMs = perSecond > 0 ? 1000 / perSecond : 0;
  }

  /** Reserves the next slot; returns how long the caller must wait for it (ms). */
  reserve(): number {
    if (this.intervalMs === 0) return 0;
    const now = this.now();
    const slot = Math.max(now, this.nextFreeAt);
    this.nextFreeAt = slot + this.intervalMs;
    return slot - now;
  }

  /** Waits for the next slot. */
  async acquire(signal?: AbortSignal): Promise<void> {
    await abortableSleep(this.reserve(), signal);
  }
}

/** Where per-recipient send times are kept; the store's RateRepo fits, so the counts survive restarts. */
export interface RateEventStore {
  record(key: string, at: Date): void;
  count(key: string, since: Date): number;
}

/** In-memory sliding-window log (the default). */
export class MemoryRateEventStore implements RateEventStore {
  private readonly events = new Map<string, number[]>();

  record(key: string, at: Date): void {
    const list = this.events.get(key) ?? [];
    list.push(at.getTime());
    this.events.set(key, list);
  }

  count(key: string, since: Date): number {
    const list = this.prune(key, since.getTime());
    return list.length;
  }

  /** Oldest event still inside the window, to say exactly when room frees up. */
  oldest(key: string, since: Date): Date | undefined {
    const first = this.prune(key, since.getTime())[0];
    return first === undefined ? undefined : new Date(first);
  }

  private prune(key: string, since: number): number[] {
    const list = (this.events.get(key) ?? []).filter((t) => t >= since);
    if (list.length === 0) this.events.delete(key);
    else this.events.set(key, list);
    return list;
  }
}

export interface RecipientRateLimit {
  /** Messages allowed to one address per window; 0 or less disables the limit. */
  max: number;
  /** Window length in seconds. */
  windowSeconds: number;
}

/** Per-recipient sliding window. */
export class RecipientRateLimiter {
  constructor(
    private readonly limit: RecipientRateLimit,
    private readonly store: RateEventStore = new MemoryRateEventStore(),
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Checks every recipient and, if all have room, records one send for each. Throws a retryable
   * EmailChannelError `SMTP_RATE_LIMITED` (with `retryAfter` in seconds) naming the first full one.
   */
  take(recipients: string[]): void {
    if (this.limit.max <= 0) return;
    const now = this.now();
    const windowMs = this.limit.windowSeconds * 1000;
    const since = new Date(now - windowMs);
    const keys = [...new Set(recipients.map((r) => `smtp-rcpt:${r.toLowerCase()}`))];
    for (const key of keys) {
      if (this.store.count(key, since) < this.limit.max) continue;
      const oldest = this.store instanceof MemoryRateEventStore ? this.store.oldest(key, since) : undefined;
      const retryAfter = Math.max(1, Math.ceil(((oldest?.getTime() ?? now) + windowMs - now) / 1000));
      throw new EmailChannelError(
        `recipient rate limit reached (${this.limit.max} per ${this.limit.windowSeconds} s)`,
        {
          code: "SMTP_RATE_LIMITED",
          stage: "smtp",
          kind: "internal",
          retryable: true,
          retryAfter,
          details: { recipient: key.slice("smtp-rcpt:".length) },
        },
      );
    }
    for (const key of keys) this.store.record(key, new Date(now));
  }
}
