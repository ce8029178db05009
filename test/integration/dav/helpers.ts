/**
 * Helpers for the DAV integration tests on the stack's real Radicale and Xandikos: a client per
 * server (Radicale with alice's credentials, Xandikos without auth: it serves one principal), a fetch
 * that records every request, and fresh, uniquely named collections per test file so that runs and
 * other test files do not see each other's objects.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import ICAL from "ical.js";
import { type DavClient, createDavClient } from "../../../src/dav/client.js";
import { discoverAccount } from "../../../src/dav/discovery.js";
import type { DavFetch } from "../../../src/dav/http.js";
import type { DavKind } from "../../../src/dav/discovery.js";
import { SyncEngine } from "../../../src/dav/sync-engine.js";
import { escapeXml } from "../../../src/dav/xml.js";
import { openSqliteStore, type StateStore } from "../../../src/store/index.js";
import { type StackEnv, loadStackEnv } from "../../support/stack.js";

export const env: StackEnv = loadStackEnv();

export interface DavServerUnderTest {
  name: "radicale" | "xandikos";
  baseUrl: string;
  username?: string;
  password?: string;
}

export const SERVERS: DavServerUnderTest[] = [
  {
    name: "radicale",
    baseUrl: env.radicaleUrl,
    username: env.users.alice.address,
    password: env.users.alice.password,
  },
  { name: "xandikos", baseUrl: env.xandikosUrl },
];

export interface SentRequest {
  method: string;
  url: string;
}

/** A client whose every request is recorded in `sent` (method and URL; never headers). */
export function recordingClient(
  server: DavServerUnderTest,
  stage: "caldav" | "carddav" = "caldav",
): { client: DavClient; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const recordingFetch: DavFetch = (url, init) => {
    sent.push({ method: init.method ?? "GET", url });
    return fetch(url, init);
  };
  const client = createDavClient({
    baseUrl: server.baseUrl,
    ...(server.username ? { username: server.username, password: server.password } : {}),
    fetch: recordingFetch,
    stage,
  });
  return { client, sent };
}

/** A fixture file under test/fixtures/dav/, as text (CRLF kept). */
export function fixture(path: string): string {
  return readFileSync(new URL(`../../fixtures/dav/${path}`, import.meta.url), "utf8");
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** The account's home for a kind (first home set). */
export async function homeUrl(client: DavClient, kind: "calendar" | "addressbook"): Promise<string> {
  const { homeUrls } = await discoverAccount(client, kind);
  if (!homeUrls[0]) throw new Error(`no ${kind} home`);
  return homeUrls[0];
}

/** RFC 4791 §5.3.1 MKCALENDAR with a display name and component set; returns the collection URL. */
export async function makeCalendar(
  client: DavClient,
  name: string,
  displayName: string,
  components: string[] = ["VEVENT", "VTODO"],
): Promise<string> {
  const url = new URL(`${name}/`, await homeUrl(client, "calendar")).toString();
  const comps = components.map((c) => `<c:comp name="${c}"/>`).join("");
  const body =
    `<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">` +
    `<d:set><d:prop><d:displayname>${escapeXml(displayName)}</d:displayname>` +
    `<c:supported-calendar-component-set>${comps}</c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>`;
  const res = await client.http.send({ method: "MKCALENDAR", url, body });
  if (res.status !== 201) throw new Error(`MKCALENDAR ${url}: ${res.status} ${res.body}`);
  return url;
}

/** RFC 5689 extended MKCOL of an address book (RFC 6352 §6.3.1); returns the collection URL. */
export async function makeAddressBook(client: DavClient, name: string, displayName: string): Promise<string> {
  const url = new URL(`${name}/`, await homeUrl(client, "addressbook")).toString();
  const body =
    `<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">` +
    `<d:set><d:prop><d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>` +
    `<d:displayname>${escapeXml(displayName)}</d:displayname></d:prop></d:set></d:mkcol>`;
  const res = await client.http.send({ method: "MKCOL", url, body });
  if (res.status !== 201) throw new Error(`MKCOL ${url}: ${res.status} ${res.body}`);
  return url;
}

export async function removeCollection(client: DavClient, url: string): Promise<void> {
  await client.http.send({ method: "DELETE", url });
}

/** A plain PUT (no condition), the way another client would write into the calendar. */
export async function putRaw(
  client: DavClient,
  url: string,
  data: string,
  contentType: string,
): Promise<string | undefined> {
  const res = await client.http.send({
    method: "PUT",
    url,
    body: data,
    headers: { "Content-Type": contentType },
  });
  if (res.status < 200 || res.status > 299) throw new Error(`PUT ${url}: ${res.status} ${res.body}`);
  return res.headers.get("etag") ?? undefined;
}

export async function deleteRaw(client: DavClient, url: string): Promise<void> {
  const res = await client.http.send({ method: "DELETE", url });
  if (res.status < 200 || res.status > 299) throw new Error(`DELETE ${url}: ${res.status} ${res.body}`);
}

/**
 * An exported calendar as a CalDAV client imports it: one resource per UID (RFC 4791 §4.1: a calendar
 * object resource holds one UID and one component type), each with the export's VCALENDAR properties
 * and all its VTIMEZONEs. Serialised by ical.js (CRLF, folded). Radicale refuses a multi-UID object
 * with 400 ("Multiple VEVENT components with different UIDs"); Xandikos 0.2.8 stores it as it is.
 */
export function splitByUid(data: string): { uid: string; data: string }[] {
  const root = new ICAL.Component(ICAL.parse(data));
  const timezones = root.getAllSubcomponents("vtimezone");
  const groups = new Map<string, ICAL.Component[]>();
  for (const component of root.getAllSubcomponents()) {
    if (component.name === "vtimezone") continue;
    const uid = String(component.getFirstPropertyValue("uid"));
    groups.set(uid, [...(groups.get(uid) ?? []), component]);
  }
  return [...groups].map(([uid, components]) => {
    const jcal = structuredClone([
      "vcalendar",
      root.toJSON()[1],
      [...timezones, ...components].map((c) => c.toJSON()),
    ]);
    const resource = new ICAL.Component(jcal);
    return { uid, data: resource.toString() };
  });
}

/**
 * A sync engine on a fresh in-memory store, for account "alice". `transactional`: the engine applies
 * each sync in one store transaction (as the channel runs it).
 */
export function storeAndEngine(
  client: DavClient,
  kind: DavKind,
  o: { transactional?: boolean } = {},
): { store: StateStore; engine: SyncEngine } {
  const store = openSqliteStore({ path: ":memory:" });
  const engine = new SyncEngine({
    client,
    repo: store.dav,
    account: "alice",
    kind,
    ...(o.transactional ? { transaction: <T>(fn: () => T) => store.transaction(fn) } : {}),
  });
  return { store, engine };
}
