/**
 * WebDAV for CalDAV and CardDAV: discovery, the one sync engine, the poller and the write path.
 *
 * ```ts
 * const client = createDavClient({ baseUrl: "http://127.0.0.1:5232/", username, password, stage: "caldav" });
 * const calendars = await discoverCollections(client, "calendar", { include: ["Work"] });
 * const engine = new SyncEngine({ client, repo: store.dav, account, kind: "calendar", transaction: (f) => store.transaction(f) });
 * const diff = await engine.sync(calendars[0]);   // { added, changed, removed } with raw iCalendar data
 * ```
 */
export { DavClient, type DavClientOptions, createDavClient } from "./client.js";
export {
  type DavDispatcher,
  type DavFetch,
  DavHttp,
  type DavBearer,
  type DavHttpOptions,
  type DavHttpRequest,
  type DavHttpResponse,
  bearerChallenge,
  parseRetryAfter,
} from "./http.js";
export { normalizeCollectionUrl, normalizeHref, normalizePath, memberUrl } from "./href.js";
export {
  type CollectionFilter,
  type DavCollection,
  type DavKind,
  type DiscoveryResult,
  discoverAccount,
  discoverCollections,
} from "./discovery.js";
export {
  type DavObject,
  type SyncDiff,
  SyncEngine,
  type SyncEngineOptions,
  type SyncMode,
} from "./sync-engine.js";
export { SyncUnsupportedError } from "./sync-listing.js";
export { type FetchedObject, getObject } from "./sync-fetch.js";
export {
  type DavErrorContext,
  DavPoller,
  type DavPollerOptions,
  type DavSource,
  backoffDelay,
} from "./poller.js";
export {
  DavConflictError,
  type WriteCondition,
  type WriteOptions,
  type WriteResult,
  deleteObject,
  putObject,
  putObjectAt,
  quoteEtag,
} from "./write.js";
export {
  type EventRef,
  type EventWriteOptions,
  type WrittenEvent,
  createEvent,
  deleteEvent,
  updateEvent,
} from "./calendar/events.js";
export { type EventInput, type EventPatch, buildEventIcs, patchEventIcs } from "./calendar/event-ics.js";
