/**
 * The shell around the sync engine: per account, one poll loop per source (its calendars, its
 * address books), rediscovery now and then, exponential backoff with jitter on errors, and diffs
 * handed to a callback. `stop()` aborts in-flight requests and waits for the loops; no timer outlives it.
 */
import { EmailChannelError, ServerError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { DavClient } from "./client.js";
import { type CollectionFilter, type DavCollection, type DavKind, discoverCollections } from "./discovery.js";
import type { SyncDiff, SyncEngine } from "./sync-engine.js";

export interface DavSource {
  kind: DavKind;
  client: DavClient;
  /** An engine for this account and kind (its repo holds the state). */
  engine: SyncEngine;
  /** Which collections to follow. Default: all of the kind (calendars: those with VEVENT or VTODO). */
  filter?: CollectionFilter;
}

export interface DavErrorContext {
  account: string;
  kind: DavKind;
  collectionUrl?: string;
}

export interface DavPollerOptions {
  account: string;
  sources: DavSource[];
  /** Receives every non-empty diff. A throw (or rejection) keeps the diff and hands it again next cycle. */
  onDiff: (diff: SyncDiff) => void | Promise<void>;
  /** Receives every error (already logged). Default: none. */
  onError?: (error: unknown, context: DavErrorContext) => void;
  /** Time between polls after a clean cycle, in ms. Default 30_000 (EMAIL_POLL_INTERVAL=30); minimum 100. */
  intervalMs?: number;
  /** First backoff delay after a failed cycle, in ms. Default 1_000; doubles per consecutive failure. */
  minBackoffMs?: number;
  /** Backoff ceiling in ms (a server's Retry-After is honoured up to it). Default 300_000 (5 min). */
  maxBackoffMs?: number;
  /** How often collections are rediscovered, in ms. Default 3_600_000 (1 h); also after any cycle error. */
  rediscoverMs?: number;
  /** Default: none. */
  logger?: Logger;
  /** Random source for jitter, in [0, 1). Default Math.random. */
  random?: () => number;
}

interface Loop {
  source: DavSource;
  done: Promise<void>;
  wake?: () => void;
}

export class DavPoller {
  readonly #o: DavPollerOptions;
  #controller: AbortController | undefined;
  #loops: Loop[] = [];
  #stopping: Promise<void> | undefined;

  constructor(options: DavPollerOptions) {
    this.#o = options;
  }

  get running(): boolean {
    return this.#controller !== undefined;
  }

  /** Starts every source's loop; resolves once each has finished its first cycle (clean or not). Idempotent. */
  async start(): Promise<void> {
    if (this.#controller) return;
    await this.#stopping;
    const controller = new AbortController();
    this.#controller = controller;
    const firsts: Promise<void>[] = [];
    this.#loops = this.#o.sources.map((source) => {
      let first!: () => void;
      firsts.push(new Promise<void>((resolve) => (first = resolve)));
      const loop: Loop = { source, done: Promise.resolve() };
      loop.done = this.#run(loop, controller.signal, first).finally(first);
      return loop;
    });
    await Promise.all(firsts);
  }

  /** Aborts in-flight syncs, cancels timers and waits for every loop to end. Idempotent. */
  stop(): Promise<void> {
    const controller = this.#controller;
    if (!controller) return this.#stopping ?? Promise.resolve();
    this.#controller = undefined;
    controller.abort();
    const loops = this.#loops;
    this.#loops = [];
    this.#stopping = Promise.allSettled(loops.map((l) => l.done)).then(() => undefined);
    return this.#stopping;
  }

  /** Cuts the current wait short: every loop polls now (after an agent's write, for instance). */
  pollNow(): void {
    for (const loop of this.#loops) loop.wake?.();
  }

  async #run(loop: Loop, signal: AbortSignal, firstDone: () => void): Promise<void> {
    const { source } = loop;
    const o = this.#o;
    const log = o.logger?.child({ account: o.account, kind: source.kind });
    let collections: DavCollection[] | undefined;
    let discoveredAt = 0;
    let failures = 0;
    const pending: SyncDiff[] = [];
    while (!signal.aborted) {
      let failed: unknown;
      const report = (error: unknown, collectionUrl?: string) => {
        if (signal.aborted) return;
        failed ??= error;
        log?.warn({ err: error, collectionUrl }, "dav sync failed");
        o.onError?.(error, {
          account: o.account,
          kind: source.kind,
          ...(collectionUrl ? { collectionUrl } : {}),
        });
      };
      try {
        if (!collections || Date.now() - discoveredAt >= (o.rediscoverMs ?? 3_600_000)) {
          const found = await discoverCollections(source.client, source.kind, source.filter, { signal });
          pending.push(...this.#reconcile(source, found, log));
          collections = found;
          discoveredAt = Date.now();
        }
        for (const collection of collections) {
          try {
            const diff = await source.engine.sync(collection, { signal });
            if (diff.added.length + diff.changed.length + diff.removed.length > 0) pending.push(diff);
          } catch (error) {
            report(error, collection.url);
          }
        }
      } catch (error) {
        report(error);
      }
      while (pending.length > 0 && !signal.aborted) {
        try {
          await o.onDiff(pending[0]!);
          pending.shift();
        } catch (error) {
          report(error, pending[0]!.collectionUrl);
          break;
        }
      }
      firstDone();
      if (failed !== undefined) {
        failures++;
        collections = undefined; // rediscover: a 404 may mean a collection was removed
      } else failures = 0;
      const delay = failures > 0 ? this.#backoff(failures, failed) : Math.max(100, o.intervalMs ?? 30_000);
      if (failures > 0) log?.info({ failures, delayMs: delay }, "backing off");
      await sleep(delay, signal, (wake) => (loop.wake = wake));
    }
  }

  /** Forgets collections we hold that discovery no longer lists, unless the listing looks broken. */
  #reconcile(source: DavSource, found: DavCollection[], log: Logger | undefined): SyncDiff[] {
    const known = source.engine.knownCollections();
    const keep = new Set(found.map((c) => c.url));
    const gone = known.filter((url) => !keep.has(url));
    if (gone.length === 0) return [];
    if (found.length === 0) {
      throw new ServerError(
        `discovery found no ${source.kind} collections for ${this.#o.account} where ${known.length} were followed; keeping them`,
        {
          code: "DAV_SUSPICIOUS_EMPTY",
          stage: source.client.http.stage,
          retryable: true,
          details: { known: known.length },
        },
      );
    }
    log?.info({ gone }, "collections no longer listed, forgetting them");
    return gone.map((url) => source.engine.forget(url)).filter((d) => d.removed.length > 0);
  }

  #backoff(failures: number, error: unknown): number {
    const o = this.#o;
    const retryAfter = error instanceof EmailChannelError ? error.retryAfter : undefined;
    return backoffDelay(failures, {
      minMs: o.minBackoffMs ?? 1_000,
      maxMs: o.maxBackoffMs ?? 300_000,
      random: o.random ?? Math.random,
      ...(retryAfter !== undefined ? { retryAfterSeconds: retryAfter } : {}),
    });
  }
}

/**
 * Delay before the next attempt after `failures` consecutive failed cycles: min * 2^(failures-1),
 * capped at max, with equal jitter (half fixed, half random, so accounts failing together spread
 * out); a server's Retry-After raises it, never above max.
 */
export function backoffDelay(
  failures: number,
  o: { minMs: number; maxMs: number; random: () => number; retryAfterSeconds?: number },
): number {
  const exp = Math.min(o.maxMs, o.minMs * 2 ** Math.min(Math.max(failures, 1) - 1, 30));
  const jittered = exp / 2 + o.random() * (exp / 2);
  const retryAfter = (o.retryAfterSeconds ?? 0) * 1000;
  return Math.min(o.maxMs, Math.max(jittered, retryAfter));
}

/** Waits `ms` or until aborted or woken; the timer never outlives the wait. */
function sleep(ms: number, signal: AbortSignal, onWake: (wake: () => void) => void): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    onWake(done);
  });
}
