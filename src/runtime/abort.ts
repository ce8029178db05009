import { AbortedError, type ErrorStage } from "../errors/index.js";

/** Resolves after `ms`, or rejects with AbortedError as soon as `signal` aborts. No timer outlives it. */
export function sleep(ms: number, signal?: AbortSignal, stage: ErrorStage = "channel"): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(stage, signal.reason));
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(new AbortedError(stage, signal?.reason));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves after `ms` or when `signal` aborts, whichever comes first; never rejects. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return sleep(ms, signal).catch(() => undefined);
}

/**
 * Races a promise against a timeout. On timeout `onTimeout` runs (e.g. closing a socket) and the
 * returned promise rejects with the error it returns.
 */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(onTimeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Like withTimeout, but the time runs from the last sign of progress: `work` is given `progress` to
 * call whenever it moves on, and `alive` (optional) is asked when the time is up whether something
 * moved meanwhile that `work` cannot see (bytes arriving on its connection). Only `ms` without
 * either ends the wait (`onTimeout` runs, and the returned promise rejects with its error). For
 * work of any length that must never stall. Calls after the promise settled do nothing.
 */
export async function withWatchdog<T>(
  work: (progress: () => void) => Promise<T>,
  ms: number,
  onTimeout: () => Error,
  alive?: () => boolean,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  let stall!: (error: Error) => void;
  const stalled = new Promise<never>((_, reject) => {
    stall = reject;
  });
  // `alive` answers for the time since it was last asked: asked at each progress too, it never
  // counts what moved before the last progress (a dead link is noticed after `ms`, not up to 2x).
  const progress = (asked = false) => {
    if (done) return;
    if (!asked) alive?.();
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (alive?.()) {
        progress(true);
        return;
      }
      done = true;
      stall(onTimeout());
    }, ms);
  };
  progress();
  try {
    return await Promise.race([work(() => progress()), stalled]);
  } finally {
    done = true;
    clearTimeout(timer);
  }
}

/**
 * Waits for `work` (which others may share) until `signal` aborts: then rejects with AbortedError
 * at once, leaving `work` to run on for whoever else waits for it.
 */
export function abortable<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  stage: ErrorStage,
): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new AbortedError(stage, signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortedError(stage, signal.reason));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
