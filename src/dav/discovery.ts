/**
 * Discovery (RFC 6764 §6, RFC 5397, RFC 4791 §6.2.1, RFC 6352 §7.1.1): context path ->
 * current-user-principal -> calendar-home-set / addressbook-home-set -> the collections in it.
 * One principal per account: the account's own credentials decide which principal the server names.
 */
import { AuthError, ServerError } from "../errors/index.js";
import type { DavClient } from "./client.js";
import { normalizeCollectionUrl, normalizeHref } from "./href.js";
import { type DavResponseEntry, okProp, okPropChildren, okPropHrefs, okPropText } from "./multistatus.js";
import { NS, type QName, descendants } from "./xml.js";

export type DavKind = "calendar" | "addressbook";

export interface DavCollection {
  /** Canonical absolute URL (normalised, trailing slash): the collection's key everywhere. */
  url: string;
  kind: DavKind;
  displayName?: string;
  description?: string;
  /** Calendars: components from supported-calendar-component-set; absent means any (RFC 4791 §5.2.3). */
  components?: string[];
  /** Current sync token, when the collection has one (RFC 6578 §4). */
  syncToken?: string;
  /** CalendarServer ctag, when the collection has one. */
  ctag?: string;
  /** Whether the collection advertises sync-collection (a sync-token or the report in supported-report-set). */
  supportsSync: boolean;
}

export interface CollectionFilter {
  /**
   * Only the collections named here: display names (case-insensitive) or URLs (absolute, or paths on
   * the server). Default: every collection of the kind. An entry matching nothing is ignored.
   */
  include?: string[];
  /**
   * Calendars only: keep calendars supporting at least one of these components.
   * Default ["VEVENT", "VTODO"] (events and tasks with due dates).
   */
  components?: string[];
}

export interface DiscoveryResult {
  principalUrl: string;
  homeUrls: string[];
  collections: DavCollection[];
}

const HOME_SET: Record<DavKind, QName> = {
  calendar: { ns: NS.CALDAV, name: "calendar-home-set" },
  addressbook: { ns: NS.CARDDAV, name: "addressbook-home-set" },
};

const COLLECTION_PROPS: QName[] = [
  { ns: NS.DAV, name: "resourcetype" },
  { ns: NS.DAV, name: "displayname" },
  { ns: NS.DAV, name: "sync-token" },
  { ns: NS.DAV, name: "supported-report-set" },
  { ns: NS.CS, name: "getctag" },
  { ns: NS.CALDAV, name: "supported-calendar-component-set" },
  { ns: NS.CALDAV, name: "calendar-description" },
  { ns: NS.CARDDAV, name: "addressbook-description" },
];

/** Discovers the account's collections of one kind, filtered. */
export async function discoverCollections(
  client: DavClient,
  kind: DavKind,
  filter?: CollectionFilter,
  options: { signal?: AbortSignal } = {},
): Promise<DavCollection[]> {
  return (await discoverAccount(client, kind, filter, options)).collections;
}

/** Discovery with the intermediate URLs (principal, home sets), for diagnostics and the CLI. */
export async function discoverAccount(
  client: DavClient,
  kind: DavKind,
  filter: CollectionFilter = {},
  options: { signal?: AbortSignal } = {},
): Promise<DiscoveryResult> {
  const { signal } = options;
  const principalUrl = await findPrincipal(client, kind, signal);
  const { multistatus, url } = await client.propfind(principalUrl, [HOME_SET[kind]], "0", signal);
  const self = multistatus.responses[0];
  const hrefs = self ? okPropHrefs(self, HOME_SET[kind].ns, HOME_SET[kind].name) : [];
  // No home set: some servers keep collections directly under the principal.
  const homeUrls = (hrefs.length > 0 ? hrefs : [url]).map((h) => normalizeCollectionUrl(h, url));
  const byUrl = new Map<string, DavCollection>();
  for (const home of [...new Set(homeUrls)]) {
    const listing = await client.propfind(home, COLLECTION_PROPS, "1", signal);
    for (const entry of listing.multistatus.responses) {
      const collection = toCollection(entry, kind, listing.url);
      if (collection) byUrl.set(collection.url, collection);
    }
  }
  const collections = [...byUrl.values()]
    .filter((c) => matchesFilter(c, filter, client.baseUrl))
    .sort((a, b) => a.url.localeCompare(b.url));
  return { principalUrl, homeUrls, collections };
}

/**
 * RFC 6764 §6: when the configured URL is a server root, `/.well-known/<service>` first (fetch follows
 * its redirect); otherwise the configured context path first. The first answer naming a
 * current-user-principal wins; without one anywhere, the context path itself is used as principal.
 */
async function findPrincipal(client: DavClient, kind: DavKind, signal?: AbortSignal): Promise<string> {
  const base = new URL(client.baseUrl);
  const wellKnown = new URL(`/.well-known/${kind === "calendar" ? "caldav" : "carddav"}`, base).toString();
  const candidates = base.pathname === "/" ? [wellKnown, client.baseUrl] : [client.baseUrl, wellKnown];
  for (const candidate of candidates) {
    try {
      const { multistatus, url } = await client.propfind(
        candidate,
        [{ ns: NS.DAV, name: "current-user-principal" }],
        "0",
        signal,
      );
      for (const entry of multistatus.responses) {
        const principal = okPropHrefs(entry, NS.DAV, "current-user-principal")[0];
        if (principal) return normalizeCollectionUrl(principal, url);
      }
    } catch (error) {
      // Refused credentials, aborts and outages are not a matter of trying another URL; a 404, 405
      // or 403 on one candidate is.
      if (
        !(error instanceof ServerError) &&
        !(error instanceof AuthError && error.code === "DAV_FORBIDDEN")
      ) {
        throw error;
      }
    }
  }
  // The home-set PROPFIND on the context path reports its own error if this guess is wrong too.
  return normalizeCollectionUrl(client.baseUrl);
}

function toCollection(entry: DavResponseEntry, kind: DavKind, listingUrl: string): DavCollection | undefined {
  const types = okPropChildren(entry, NS.DAV, "resourcetype");
  const wanted =
    kind === "calendar" ? { ns: NS.CALDAV, name: "calendar" } : { ns: NS.CARDDAV, name: "addressbook" };
  if (!types.some((t) => t.ns === wanted.ns && t.name === wanted.name)) return undefined;
  const url = normalizeCollectionUrl(entry.href, listingUrl);
  const collection: DavCollection = { url, kind, supportsSync: false };
  const displayName = okPropText(entry, NS.DAV, "displayname");
  if (displayName) collection.displayName = displayName;
  const description =
    kind === "calendar"
      ? okPropText(entry, NS.CALDAV, "calendar-description")
      : okPropText(entry, NS.CARDDAV, "addressbook-description");
  if (description) collection.description = description;
  if (kind === "calendar") {
    const comps = okPropChildren(entry, NS.CALDAV, "supported-calendar-component-set")
      .filter((c) => c.ns === NS.CALDAV && c.name === "comp" && c.attrs.name)
      .map((c) => c.attrs.name!.toUpperCase());
    if (comps.length > 0) collection.components = comps;
  }
  const syncToken = okPropText(entry, NS.DAV, "sync-token");
  if (syncToken) collection.syncToken = syncToken;
  const ctag = okPropText(entry, NS.CS, "getctag");
  if (ctag) collection.ctag = ctag;
  const reports = okProp(entry, NS.DAV, "supported-report-set");
  const advertisesSync = reports !== undefined && descendants(reports, NS.DAV, "sync-collection").length > 0;
  collection.supportsSync = syncToken !== undefined || advertisesSync;
  return collection;
}

function matchesFilter(c: DavCollection, filter: CollectionFilter, baseUrl: string): boolean {
  if (c.kind === "calendar") {
    const wanted = (filter.components ?? ["VEVENT", "VTODO"]).map((x) => x.toUpperCase());
    if (c.components && !c.components.some((x) => wanted.includes(x))) return false;
  }
  if (!filter.include || filter.include.length === 0) return true;
  return filter.include.some((item) => {
    if (c.displayName && c.displayName.toLowerCase() === item.trim().toLowerCase()) return true;
    try {
      return normalizeCollectionUrl(item, baseUrl) === c.url || normalizeHref(item, baseUrl) === c.url;
    } catch {
      return false;
    }
  });
}
