/**
 * What is in a collection, and what changed: RFC 6578 sync-collection (with token reset and 507
 * paging), and the fallback for collections without it (CalendarServer ctag, then a PROPFIND etag
 * listing). Only hrefs and etags here; data is fetched by sync-fetch.ts.
 */
import { EmailChannelError, type ErrorStage, ServerError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { DavClient } from "./client.js";
import type { DavHttpResponse } from "./http.js";
import { normalizeCollectionUrl, normalizeHref } from "./href.js";
import { okProp, okPropChildren, okPropText, preconditionOf } from "./multistatus.js";
import { cleanData } from "./sync-fetch.js";
import { NS, type QName, syncCollectionBody } from "./xml.js";

export interface ListedMember {
  /** The href exactly as the server wrote it (sent back in multiget). */
  raw: string;
  etag?: string;
  /** The object's data, when the server returned it in the listing itself. */
  data?: string;
}

export interface Listing {
  /** true: `members` is every member (initial sync, token reset, etag listing); false: changes only. */
  full: boolean;
  /** Members listed (new or changed, or all when full), by normalised href. */
  members: Map<string, ListedMember>;
  /** Normalised hrefs the server reported gone (404 members of sync-collection). */
  removed: Set<string>;
  syncToken?: string;
  ctag?: string;
  /** The stored token was refused (valid-sync-token) and a full sync was done instead. */
  tokenReset: boolean;
  /** Requests the listing took (pages of a truncated sync-collection, or 1-2 for the fallback). */
  pages: number;
}

/** The collection refused sync-collection itself (not the token): use the ctag/etag fallback. */
export class SyncUnsupportedError extends EmailChannelError {
  constructor(url: string, status: number, stage: ErrorStage) {
    super(`${url} does not support sync-collection (HTTP ${status})`, {
      code: "DAV_SYNC_UNSUPPORTED",
      stage,
      kind: "server",
      retryable: false,
      details: { url, status },
    });
  }
}

export interface SyncCollectionOptions {
  signal?: AbortSignal;
  /**
   * calendar-data / address-data: asked for in incremental requests (not in full listings), so that
   * one change costs one request where the server returns it (Radicale does; Xandikos answers 404 for
   * it there and the engine multigets as usual).
   */
  dataProp?: QName;
  /** Pages (507-truncated answers) followed before giving up. */
  maxPages: number;
  logger?: Logger;
}

const ETAG = { ns: NS.DAV, name: "getetag" };

/**
 * RFC 6578 §3: REPORT sync-collection, sync-level 1, asking for getetag only (data comes by multiget,
 * and only for members whose etag moved). With `token` undefined: the initial, full listing.
 */
export async function listBySyncCollection(
  client: DavClient,
  collectionUrl: string,
  token: string | undefined,
  options: SyncCollectionOptions,
): Promise<Listing> {
  const stage = client.http.stage;
  const listing: Listing = {
    full: !token,
    members: new Map(),
    removed: new Set(),
    tokenReset: false,
    pages: 0,
  };
  let current = token;
  for (;;) {
    if (listing.pages >= options.maxPages) {
      throw new ServerError(
        `${collectionUrl}: sync-collection still truncated after ${options.maxPages} pages`,
        {
          code: "DAV_SYNC_TOO_MANY_PAGES",
          stage,
          retryable: true,
          details: { url: collectionUrl, maxPages: options.maxPages },
        },
      );
    }
    listing.pages++;
    // RFC 6578 §3.2: Depth 0; sync-level says how deep.
    const props = options.dataProp && !listing.full ? [ETAG, options.dataProp] : [ETAG];
    const res = await client.report(collectionUrl, syncCollectionBody(current, props), "0", options.signal);
    if (res.status !== 207) {
      // RFC 6578 §3.2: the token is no longer valid; start over with an initial sync. Xandikos 0.2
      // answers 500 instead of the precondition for a token it does not know, so a 500 on a stored
      // token gets one initial sync too: if the server is really failing, that fails as well and the
      // error stands (nothing is applied); if it answers, the token was the problem.
      const serverFailedOnToken = res.status === 500 && !listing.tokenReset;
      if (current && (isInvalidToken(res) || serverFailedOnToken)) {
        options.logger?.warn({ url: collectionUrl, status: res.status }, "sync token refused, full resync");
        current = undefined;
        listing.full = true;
        listing.tokenReset = true;
        listing.members.clear();
        listing.removed.clear();
        continue;
      }
      if (isUnsupported(res)) throw new SyncUnsupportedError(collectionUrl, res.status, stage);
      throw client.http.statusError(res, "REPORT", `sync-collection on ${collectionUrl}`);
    }
    const ms = client.parse(res, "REPORT");
    let truncated = false;
    for (const entry of ms.responses) {
      if (normalizeCollectionUrl(entry.href, collectionUrl) === collectionUrl) {
        // RFC 6578 §3.6: a 507 on the request-URI means "more to come, ask again with this token".
        if (entry.status === 507) truncated = true;
        continue;
      }
      const key = normalizeHref(entry.href, collectionUrl);
      if (entry.status === 404) {
        listing.removed.add(key);
        listing.members.delete(key);
        continue;
      }
      if (key.endsWith("/")) continue; // a sub-collection; sync-level 1 is members only
      if (entry.status !== undefined && (entry.status < 200 || entry.status > 299)) {
        options.logger?.warn(
          { url: collectionUrl, href: entry.href, status: entry.status },
          "member skipped",
        );
        continue;
      }
      const member: ListedMember = { raw: entry.href };
      const etag = okPropText(entry, ETAG.ns, ETAG.name);
      if (etag) member.etag = etag;
      const data = options.dataProp && okProp(entry, options.dataProp.ns, options.dataProp.name);
      if (data && data.text.trim() !== "") member.data = cleanData(data.text);
      listing.members.set(key, member);
      listing.removed.delete(key);
    }
    if (!ms.syncToken) {
      throw new ServerError(`${collectionUrl}: sync-collection answer without a sync-token`, {
        code: "DAV_BAD_RESPONSE",
        stage,
        status: res.status,
        retryable: false,
      });
    }
    current = ms.syncToken;
    if (!truncated) break;
    options.logger?.debug(
      { url: collectionUrl, page: listing.pages },
      "sync-collection truncated (507), paging",
    );
  }
  if (current) listing.syncToken = current;
  return listing;
}

/** RFC 6578 §3.2 / §6.1: DAV:valid-sync-token precondition (servers answer 403 or 409; some 400/410). */
function isInvalidToken(res: DavHttpResponse): boolean {
  if (![400, 403, 409, 410, 412].includes(res.status)) return false;
  const pre = preconditionOf(res.body);
  if (pre) return pre.name === "valid-sync-token";
  return /valid-sync-token/i.test(res.body) || res.status === 410;
}

/** Refusals of the report itself (RFC 3253 §3.6 DAV:supported-report precondition, 405, 501). */
function isUnsupported(res: DavHttpResponse): boolean {
  if (res.status === 405 || res.status === 501) return true;
  const pre = preconditionOf(res.body);
  return pre?.name === "supported-report" || /supported-report/i.test(res.body);
}

/** CalendarServer's getctag on the collection (changes whenever any member changes), if it has one. */
export async function readCtag(
  client: DavClient,
  collectionUrl: string,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const { multistatus } = await client.propfind(collectionUrl, [{ ns: NS.CS, name: "getctag" }], "0", signal);
  for (const entry of multistatus.responses) {
    const ctag = okPropText(entry, NS.CS, "getctag");
    if (ctag) return ctag;
  }
  return undefined;
}

/**
 * PROPFIND Depth 1 getetag: every member with its etag (RFC 4791 §8.2.1.2 style listing).
 *
 * Not a calendar-query/addressbook-query asking getetag, although Radicale answers that about five
 * times faster (0.08 s against 0.42 s for 1,000 events): a query lists only what the server could
 * parse and match, and Xandikos 0.2.8 leaves out an event stored without the .ics extension. A
 * missing member of a full listing reads as deleted, so the listing that names every member wins.
 */
export async function listByEtags(
  client: DavClient,
  collectionUrl: string,
  signal?: AbortSignal,
): Promise<Listing> {
  const { multistatus } = await client.propfind(
    collectionUrl,
    [ETAG, { ns: NS.DAV, name: "resourcetype" }],
    "1",
    signal,
  );
  const listing: Listing = {
    full: true,
    members: new Map(),
    removed: new Set(),
    tokenReset: false,
    pages: 1,
  };
  for (const entry of multistatus.responses) {
    if (normalizeCollectionUrl(entry.href, collectionUrl) === collectionUrl) continue;
    if (entry.status !== undefined && (entry.status < 200 || entry.status > 299)) continue;
    const isCollection = okPropChildren(entry, NS.DAV, "resourcetype").some(
      (t) => t.ns === NS.DAV && t.name === "collection",
    );
    const key = normalizeHref(entry.href, collectionUrl);
    if (isCollection || key.endsWith("/")) continue;
    const member: ListedMember = { raw: entry.href };
    const etag = okPropText(entry, ETAG.ns, ETAG.name);
    if (etag) member.etag = etag;
    listing.members.set(key, member);
  }
  return listing;
}
