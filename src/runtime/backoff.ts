/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * attempt n waits a random time in [base * 2^n / 2, base * 2^n], capped at `maxMs`. Pure: the random
 * source is injected so tests are exact.
 */
export interface BackoffOptions {
  /** First delay in ms. Default 1000. */
  baseMs?: number;
  /** Largest delay in ms. Default 60000. */
  maxMs?: number;
  /** Returns a number in [0, 1). Default Math.random. */
  random?: () => number;
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 1000;
  const max = options.maxMs ?? 60_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
