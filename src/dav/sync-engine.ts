/**
 * The one sync engine for CalDAV calendars and CardDAV address books, parameterised by kind.
 *
 * Per collection: sync-collection with the stored token (reset to a full sync when the server refuses
 * the token; 507 pages followed), or, when the collection has no sync-collection, a ctag check and an
 * etag listing diff. Changed members are fetched by multiget in batches, then everything is applied
 * to the DavRepo in one transaction (the `transaction` option) together with the new token, written
 * last, so an error, an outage or an abort at any point leaves the stored state exactly as it was (the
 * next sync starts from the same token).
 *
 * Safety (after vdirsyncer): a full listing that comes back empty while we hold more than
 * `massDeleteThreshold` objects is treated as a server fault, not as "the user deleted everything".
 * tsdav's syncCalendars/smartCollectionSync are not used: they drop members whose names lack `.ics`
 * and swallow invalid-token errors.
 */
import { AbortedError, ServerError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { DavObjectState, DavRepo } from "../store/types.js";
import type { DavClient } from "./client.js";
import type { DavCollection, DavKind } from "./discovery.js";
import type { DavObject, SyncDiff, SyncMode } from "./sync-types.js";
import { normalizeCollectionUrl } from "./href.js";
import { COMPONENT, type FetchedObject, fetchObjects } from "./sync-fetch.js";
import {
  type Listing,
  SyncUnsupportedError,
  listByEtags,
  listBySyncCollection,
  readCtag,
} from "./sync-listing.js";

export type { DavObject, SyncDiff, SyncMode } from "./sync-types.js";

export interface SyncEngineOptions {
  client: DavClient;
  repo: DavRepo;
  /** The monitored account the collections belong to (stored with each collection). */
  account: string;
  kind: DavKind;
  /**
   * Hrefs per calendar-multiget / addressbook-multiget request. Default 100: one request per hundred
   * changed objects, responses of a few hundred KB. Larger batches make fewer, bigger requests (bounded
   * by the client's maxResponseBytes); minimum 1.
   */
  multigetBatchSize?: number;
  /**
   * 507-truncated sync-collection pages followed in one sync. Default 1000. At the limit the sync fails
   * with ServerError `DAV_SYNC_TOO_MANY_PAGES` and the stored state is kept.
   */
  maxPages?: number;
  /**
   * A full listing with zero objects is accepted only while we hold at most this many objects.
   * Default 1 (losing the last object of a collection is ordinary; losing every one of several at
   * once is what a misconfigured or half-started server looks like). Above it the sync fails with
   * ServerError `DAV_SUSPICIOUS_EMPTY` and keeps the stored state.
   */
  massDeleteThreshold?: number;
  /**
   * Ask for calendar-data / address-data in incremental sync-collection requests (RFC 6578 §3.2 allows
   * any property there), so one change costs one request where the server returns it (Radicale,
   * SabreDAV). A server that answers 404 for it there (Xandikos) costs the usual multiget. Full
   * listings always ask for etags only and multiget in batches. Default true.
   */
  dataInSyncReport?: boolean;
  /** Accept an empty listing whatever we held before. Default false. */
  allowMassDelete?: boolean;
  /**
   * Runs the state update atomically; pass the store's `transaction`. Default: runs it directly, so a
   * write failing midway may leave some objects saved (never the new token, which is written last).
   */
  transaction?: <T>(fn: () => T) => T;
  /** Default: none. */
  logger?: Logger;
  /** Clock for `updatedAt` stamps. Default `() => new Date()`. */
  now?: () => Date;
}

export class SyncEngine {
  readonly kind: DavKind;
  readonly account: string;
  readonly #o: SyncEngineOptions;
  /** Collections that refused sync-collection in this process: they go straight to the fallback. */
  readonly #noSyncCollection = new Set<string>();
  /** Per-collection queue: two syncs of one collection never interleave. */
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(options: SyncEngineOptions) {
    this.#o = options;
    this.kind = options.kind;
    this.account = options.account;
  }

  /** Brings one collection up to date and returns what changed. Never deletes state on an error. */
  sync(collection: DavCollection | string, options: { signal?: AbortSignal } = {}): Promise<SyncDiff> {
    const url = normalizeCollectionUrl(typeof collection === "string" ? collection : collection.url);
    const previous = this.#queues.get(url) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#sync(url, collection, options.signal));
    this.#queues.set(url, run);
    void run
      .finally(() => {
        if (this.#queues.get(url) === run) this.#queues.delete(url);
      })
      .catch(() => undefined);
    return run;
  }

  /** URLs of the collections of this account and kind that we hold state for. */
  knownCollections(): string[] {
    return this.#o.repo
      .listCollections(this.account)
      .filter((c) => c.kind === this.kind)
      .map((c) => c.url);
  }

  /** The objects we hold for a collection. */
  objects(collectionUrl: string): DavObject[] {
    const url = normalizeCollectionUrl(collectionUrl);
    return this.#o.repo.listObjects(url).map((o) => toObject(url, o));
  }

  /**
   * Drops a collection that no longer exists (or left the configured subset): deletes its state and
   * returns every object as removed.
   */
  forget(collectionUrl: string): SyncDiff {
    const url = normalizeCollectionUrl(collectionUrl);
    const { repo } = this.#o;
    const removed = repo.listObjects(url).map((o) => o.href);
    this.#transaction(() => {
      for (const href of removed) repo.deleteObject(url, href);
      repo.deleteCollection(url);
    });
    return this.#emptyDiff(url, "full", removed);
  }

  async #sync(url: string, collection: DavCollection | string, signal?: AbortSignal): Promise<SyncDiff> {
    const { client, repo, logger } = this.#o;
    const log = logger?.child({ account: this.account, kind: this.kind, collection: url });
    // Requests of this sync only (other collections may sync concurrently on the same client).
    let requests = 0;
    const state = repo.getCollection(url);
    const stored = new Map(repo.listObjects(url).map((o) => [o.href, o]));
    const advertised = typeof collection === "string" ? true : collection.supportsSync;

    let listing: Listing | undefined;
    let mode: SyncMode;
    if (advertised && !this.#noSyncCollection.has(url)) {
      try {
        listing = await listBySyncCollection(client, url, state?.syncToken, {
          signal,
          ...(this.#o.dataInSyncReport !== false ? { dataProp: COMPONENT[this.kind].data } : {}),
          maxPages: this.#o.maxPages ?? 1000,
          ...(log ? { logger: log } : {}),
        });
        requests += listing.pages;
      } catch (error) {
        if (!(error instanceof SyncUnsupportedError)) throw error;
        requests += 1;
        log?.info({ status: error.details?.status }, "sync-collection refused, using ctag/etag fallback");
        this.#noSyncCollection.add(url);
      }
    }
    if (listing) {
      mode = listing.full ? "full" : "incremental";
    } else {
      const ctag = await readCtag(client, url, signal);
      requests += 1;
      if (ctag !== undefined && state !== undefined && state.ctag === ctag) {
        return { ...this.#emptyDiff(url, "unchanged", []), requests };
      }
      listing = await listByEtags(client, url, signal);
      requests += listing.pages;
      if (ctag !== undefined) listing.ctag = ctag;
      mode = "etag-listing";
    }

    if (listing.full) {
      for (const href of stored.keys()) if (!listing.members.has(href)) listing.removed.add(href);
      this.#guardEmpty(url, listing, stored.size, log);
    }
    const changedMembers = [...listing.members].filter(([href, m]) => {
      const have = stored.get(href);
      return have === undefined || m.etag === undefined || have.etag !== m.etag;
    });
    // Members whose data came with the listing need no multiget.
    const delivered: FetchedObject[] = changedMembers
      .filter(([, m]) => m.data !== undefined)
      .map(([href, m]) => ({ href, data: m.data!, ...(m.etag !== undefined ? { etag: m.etag } : {}) }));
    const toFetch = changedMembers.filter(([, m]) => m.data === undefined);
    const fetch = await fetchObjects(client, url, this.kind, toFetch, {
      batchSize: this.#o.multigetBatchSize ?? 100,
      ...(signal ? { signal } : {}),
    });
    const fetched = [...fetch.fetched, ...delivered];
    const { gone } = fetch;
    for (const href of gone) listing.removed.add(href);
    if (signal?.aborted) throw new AbortedError(client.http.stage);

    const diff = this.#apply(url, collection, state?.displayName, listing, stored, fetched, mode);
    diff.requests = requests + fetch.requests;
    log?.debug(
      {
        mode,
        added: diff.added.length,
        changed: diff.changed.length,
        removed: diff.removed.length,
        requests: diff.requests,
      },
      "collection synced",
    );
    return diff;
  }

  #guardEmpty(url: string, listing: Listing, held: number, log: Logger | undefined): void {
    const threshold = this.#o.massDeleteThreshold ?? 1;
    if (listing.members.size > 0 || held <= threshold || this.#o.allowMassDelete) return;
    log?.error({ held, threshold }, "server listed no objects where we held several; state kept");
    throw new ServerError(
      `${url}: the server listed no objects where ${held} were held; keeping them (set allowMassDelete to accept)`,
      {
        code: "DAV_SUSPICIOUS_EMPTY",
        stage: this.#o.client.http.stage,
        retryable: true,
        details: { url, held, threshold },
      },
    );
  }

  #apply(
    url: string,
    collection: DavCollection | string,
    storedName: string | undefined,
    listing: Listing,
    stored: Map<string, DavObjectState>,
    fetched: FetchedObject[],
    mode: SyncMode,
  ): SyncDiff {
    const { repo } = this.#o;
    const now = (this.#o.now ?? (() => new Date()))().toISOString();
    const diff = this.#emptyDiff(url, mode, []);
    diff.tokenReset = listing.tokenReset;
    this.#transaction(() => {
      for (const object of fetched) {
        if (listing.removed.has(object.href)) listing.removed.delete(object.href);
        const previous = stored.get(object.href);
        const next: DavObjectState = {
          collectionUrl: url,
          href: object.href,
          data: object.data,
          updatedAt: now,
        };
        if (object.etag !== undefined) next.etag = object.etag;
        repo.putObject(next);
        if (!previous) diff.added.push(toObject(url, next));
        else if (previous.data !== next.data) diff.changed.push(toObject(url, next));
      }
      for (const href of listing.removed) {
        if (!stored.has(href)) continue;
        repo.deleteObject(url, href);
        diff.removed.push(href);
      }
      // The token (and ctag) last: without a transaction, or with a repo that cannot roll back, a
      // write failing above (disk full, SQLITE_BUSY, a crash) leaves the old token, so the next sync
      // asks for the same changes again instead of starting past objects that were never saved.
      const displayName = typeof collection === "string" ? storedName : collection.displayName;
      repo.putCollection({
        url,
        account: this.account,
        kind: this.kind,
        ...(displayName !== undefined ? { displayName } : {}),
        ...(listing.syncToken !== undefined ? { syncToken: listing.syncToken } : {}),
        ...(listing.ctag !== undefined ? { ctag: listing.ctag } : {}),
        updatedAt: now,
      });
    });
    return diff;
  }

  #emptyDiff(url: string, mode: SyncMode, removed: string[]): SyncDiff {
    return {
      account: this.account,
      kind: this.kind,
      collectionUrl: url,
      mode,
      tokenReset: false,
      added: [],
      changed: [],
      removed,
      requests: 0,
    };
  }

  #transaction(fn: () => void): void {
    if (this.#o.transaction) this.#o.transaction(fn);
    else fn();
  }
}

function toObject(collectionUrl: string, state: DavObjectState): DavObject {
  const object: DavObject = { collectionUrl, href: state.href, data: state.data };
  if (state.etag !== undefined) object.etag = state.etag;
  return object;
}
