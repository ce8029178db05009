/**
 * Retry timing for the outbox (pure). Exponential backoff with "equal jitter": the n-th retry waits
 * between half and all of min(max, base * 2^(n-1)), never less than base. Jitter keeps a crowd of
 * messages that failed together (Postfix restarted) from retrying in lock-step.
 */
import type { EmailChannelError } from "../errors/index.js";

export interface RetryPolicy {
  /** First retry delay, ms. Default 1 000. */
  baseDelayMs: number;
  /** Largest delay between two attempts, ms. Default 300 000 (5 min). */
  maxDelayMs: number;
  /**
   * How long after it was enqueued a message may still be tried, ms. Default 86 400 000 (24 h); the
   * last attempt is at that deadline, then the entry is `failed` ("expired").
   */
  maxTotalMs: number;
  /** Most attempts per message, the first included. Default 300 (about 24 h at the 5 min cap). */
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 1_000,
  maxDelayMs: 300_000,
  maxTotalMs: 86_400_000,
  maxAttempts: 300,
};

/** Delay before retry number `retry` (1 = the first retry), with jitter from `random` in [0, 1). */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(Math.max(retry - 1, 0), 40);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exp);
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  return Math.round(Math.max(policy.baseDelayMs, Math.min(ceiling, jittered)));
}

export type RetryDecision = { retry: true; at: Date } | { retry: false; reason: string };

/**
 * After a failed attempt: try again (when) or give up (why). `attempts` counts the attempts made,
 * the failed one included. A server's retryAfter (seconds) is honoured as a lower bound.
 */
export function decideRetry(
  input: { attempts: number; createdAt: Date; now: Date; error?: Pick<EmailChannelError, "retryAfter"> },
  policy: RetryPolicy,
  random: () => number = Math.random,
): RetryDecision {
  const deadline = input.createdAt.getTime() + policy.maxTotalMs;
  const now = input.now.getTime();
  if (input.attempts >= policy.maxAttempts) {
    return { retry: false, reason: `gave up after ${input.attempts} attempts` };
  }
  if (now >= deadline) {
    return { retry: false, reason: `gave up after ${Math.round(policy.maxTotalMs / 1000)} s` };
  }
  let delay = backoffDelay(input.attempts, policy, random);
  const retryAfterMs = (input.error?.retryAfter ?? 0) * 1000;
  if (retryAfterMs > delay) delay = retryAfterMs;
  return { retry: true, at: new Date(Math.min(now + delay, deadline)) };
}
