import type { StateStore } from "../types.js";

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for the state store: synchronous write jobs queued during one turn of the event
 * loop run in one transaction (when one of them throws, each runs again in a transaction of its
 * own, so one failing job does not undo the others), and each caller's promise settles only after
 * its transaction has committed. A caller
 * that awaits its job therefore never acts on a write that could still be lost.
 *
 * Why: SQLite writes every page a commit dirtied to the WAL (two writes per page); the ledger rows
 * of consecutive messages share their pages, so one commit for many messages writes a fraction of
 * the frames that one commit each would.
 *
 * A job's writes are invisible to reads outside the queue until the group commits: a caller that
 * is about to read something a queued job writes calls flushFor() with the keys the job was queued
 * under (the caller's own naming, e.g. a Message-ID), which commits the queue at once.
 */
export class GroupCommit {
  readonly #store: Pick<StateStore, "transaction">;
  #jobs: Job[] = [];
  #keys = new Set<string>();
  #scheduled: NodeJS.Immediate | undefined;

  constructor(store: Pick<StateStore, "transaction">) {
    this.#store = store;
  }

  /** Jobs waiting for the next commit. */
  get pending(): number {
    return this.#jobs.length;
  }

  /** Queues `job` (synchronous store calls only); resolves with its result once it is committed. */
  run<T>(job: () => T, keys: Iterable<string> = []): Promise<T> {
    for (const k of keys) this.#keys.add(k);
    const done = new Promise<T>((resolve, reject) => {
      this.#jobs.push({ run: job, resolve: resolve as (value: unknown) => void, reject });
    });
    this.#scheduled ??= setImmediate(() => this.flush());
    return done;
  }

  /** Commits the queue now when a queued job was given one of `keys`. */
  flushFor(keys: Iterable<string>): void {
    if (this.#jobs.length === 0) return;
    for (const k of keys) {
      if (this.#keys.has(k)) {
        this.flush();
        return;
      }
    }
  }

  /** Runs and commits everything queued, now. */
  flush(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    const jobs = this.#jobs;
    if (jobs.length === 0) return;
    this.#jobs = [];
    this.#keys = new Set();
    // Fast path: every job in one transaction, no savepoints. If one throws, nothing was committed:
    // then each job runs in a transaction of its own, so one failing job does not undo the others.
    let results: unknown[] | undefined;
    try {
      results = this.#store.transaction(() => jobs.map((job) => job.run()));
    } catch {
      results = undefined;
    }
    if (results) {
      for (const [i, job] of jobs.entries()) job.resolve(results[i]);
      return;
    }
    for (const job of jobs) {
      try {
        job.resolve(this.#store.transaction(job.run));
      } catch (error) {
        job.reject(error);
      }
    }
  }
}
