/** Small pieces the dispatcher loop is built from. */
import { EmailChannelError } from "../errors/index.js";
import { mapSmtpError } from "../smtp/errors.js";

/**
 * A sleep that `wake()` ends early. A wake while nobody sleeps is remembered, so the next sleep
 * returns at once: work enqueued during a pass is never left waiting for the poll interval.
 */
export class WakeableSleep {
  private pending: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private woken = false;

  sleep(ms: number): Promise<void> {
    if (this.woken || ms <= 0) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        resolve();
      }, ms);
      this.pending = { timer, resolve };
    });
  }

  wake(): void {
    const current = this.pending;
    if (!current) {
      this.woken = true;
      return;
    }
    this.pending = undefined;
    clearTimeout(current.timer);
    current.resolve();
  }
}

/** Runs `fn` over the items with at most `limit` at a time; resolves when all settled. */
export async function runLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

/** Whatever a sender threw, as an EmailChannelError (a host's own sender may throw anything). */
export function toChannelError(thrown: unknown): EmailChannelError {
  return thrown instanceof EmailChannelError ? thrown : mapSmtpError(thrown);
}
