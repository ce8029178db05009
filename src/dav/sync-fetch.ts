/**
 * Fetching object data: calendar-multiget (RFC 4791 §7.9) / addressbook-multiget (RFC 6352 §8.7) in
 * batches, then a plain GET for any member a multiget did not deliver (so a listed change is never
 * lost because a server left one href out of a batch). No name filter: members named without `.ics`
 * or `.vcf` (Stalwart's JMAP-created objects, for one) are fetched like the others.
 */
import type { DavClient } from "./client.js";
import type { DavKind } from "./discovery.js";
import { normalizeHref } from "./href.js";
import { okProp, okPropText } from "./multistatus.js";
import type { ListedMember } from "./sync-listing.js";
import { NS, type QName, multigetBody } from "./xml.js";

export interface FetchedObject {
  /** Normalised href. */
  href: string;
  etag?: string;
  data: string;
}

export interface FetchResult {
  fetched: FetchedObject[];
  /** Listed members that turned out to be gone (404) by the time we asked. */
  gone: string[];
  /** Requests sent (multigets and single GETs). */
  requests: number;
}

export const COMPONENT: Record<DavKind, { data: QName; multiget: QName }> = {
  calendar: {
    data: { ns: NS.CALDAV, name: "calendar-data" },
    multiget: { ns: NS.CALDAV, name: "calendar-multiget" },
  },
  addressbook: {
    data: { ns: NS.CARDDAV, name: "address-data" },
    multiget: { ns: NS.CARDDAV, name: "addressbook-multiget" },
  },
};

/** Fetches the data of `members` (normalised href -> listed member), `batchSize` hrefs per multiget. */
export async function fetchObjects(
  client: DavClient,
  collectionUrl: string,
  kind: DavKind,
  members: ReadonlyArray<[string, ListedMember]>,
  options: { batchSize: number; signal?: AbortSignal },
): Promise<FetchResult> {
  const { data, multiget } = COMPONENT[kind];
  const etag = { ns: NS.DAV, name: "getetag" };
  const result: FetchResult = { fetched: [], gone: [], requests: 0 };
  const batchSize = Math.max(1, Math.floor(options.batchSize));
  for (let i = 0; i < members.length; i += batchSize) {
    const batch = members.slice(i, i + batchSize);
    const wanted = new Map(batch);
    const body = multigetBody(
      multiget,
      [etag, data],
      batch.map(([, m]) => m.raw),
    );
    const res = await client.report(collectionUrl, body, "1", options.signal);
    result.requests++;
    if (res.status !== 207)
      throw client.http.statusError(res, "REPORT", `${multiget.name} on ${collectionUrl}`);
    for (const entry of client.parse(res, "REPORT").responses) {
      const key = normalizeHref(entry.href, collectionUrl);
      if (!wanted.has(key)) continue;
      if (entry.status === 404) {
        result.gone.push(key);
        wanted.delete(key);
        continue;
      }
      const dataProp = okProp(entry, data.ns, data.name);
      if (!dataProp) continue; // left for the GET below
      const object: FetchedObject = { href: key, data: cleanData(dataProp.text) };
      const tag = okPropText(entry, etag.ns, etag.name) ?? wanted.get(key)?.etag;
      if (tag) object.etag = tag;
      result.fetched.push(object);
      wanted.delete(key);
    }
    for (const [key, member] of wanted) {
      const one = await getObject(client, collectionUrl, member.raw, options.signal);
      result.requests++;
      if (one === undefined) result.gone.push(key);
      else result.fetched.push({ ...one, href: key });
    }
  }
  return result;
}

/** GET one object; undefined when it is gone (404/410). Other failures throw the mapped error. */
export async function getObject(
  client: DavClient,
  collectionUrl: string,
  href: string,
  signal?: AbortSignal,
): Promise<FetchedObject | undefined> {
  const url = client.resolve(href, collectionUrl);
  const res = await client.http.send({ method: "GET", url, signal });
  if (res.status === 404 || res.status === 410) return undefined;
  if (res.status !== 200) throw client.http.statusError(res, "GET");
  const object: FetchedObject = { href: normalizeHref(href, collectionUrl), data: res.body };
  const tag = res.headers.get("etag");
  if (tag) object.etag = tag;
  return object;
}

/** Leading whitespace (XML indentation before BEGIN:) is never part of an iCalendar or vCard object. */
export function cleanData(text: string): string {
  return text.replace(/^\s+/, "");
}
