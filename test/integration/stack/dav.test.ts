/**
 * Proves the CalDAV/CardDAV servers of the stack are real, over plain HTTP with fetch: RFC 5397
 * current-user-principal discovery, RFC 4791/6352 home sets, a calendar that stores and returns an
 * event, Radicale's authentication, and Xandikos' well-known redirect.
 */
import { randomUUID } from "node:crypto";
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import type { StackUser } from "../../support/stack.js";
import {
  PROPFIND_HOMES,
  PROPFIND_PRINCIPAL,
  PROPFIND_RESOURCETYPE,
  env,
  hrefsIn,
  propfind,
  resourceTypes,
} from "./helpers.js";

const { alice, bob } = env.users;

function basic(user: StackUser): string {
  return `Basic ${Buffer.from(`${user.address}:${user.password}`).toString("base64")}`;
}

/** current-user-principal -> calendar-home-set -> the first collection whose resourcetype is calendar. */
async function discoverCalendar(base: string, user: StackUser): Promise<string> {
  const root = await propfind(base, PROPFIND_PRINCIPAL, { user });
  expect(root.status).toBe(207);
  const [principal] = hrefsIn(root.body, "current-user-principal");
  expect(principal).toBeDefined();
  const homes = await propfind(new URL(principal!, base).href, PROPFIND_HOMES, { user });
  expect(homes.status).toBe(207);
  const [calendarHome] = hrefsIn(homes.body, "calendar-home-set");
  expect(calendarHome).toBeDefined();
  expect(hrefsIn(homes.body, "addressbook-home-set")).toHaveLength(1);
  const listing = await propfind(new URL(calendarHome!, base).href, PROPFIND_RESOURCETYPE, {
    user,
    depth: "1",
  });
  expect(listing.status).toBe(207);
  const calendar = resourceTypes(listing.body).find((r) => r.types.includes("calendar"));
  expect(calendar, `a calendar under ${calendarHome}`).toBeDefined();
  return new URL(calendar!.href, base).href;
}

/** A one-hour VEVENT written by ical.js, as a CalDAV client library would produce it. */
function eventBody(uid: string, summary: string): string {
  const vcalendar = new ICAL.Component(["vcalendar", [], []]);
  vcalendar.updatePropertyWithValue("prodid", "-//email-channel//stack smoke test//EN");
  vcalendar.updatePropertyWithValue("version", "2.0");
  const vevent = new ICAL.Component("vevent");
  const event = new ICAL.Event(vevent);
  event.uid = uid;
  event.summary = summary;
  event.startDate = ICAL.Time.fromJSDate(new Date("2030-05-06T09:00:00Z"), true);
  event.endDate = ICAL.Time.fromJSDate(new Date("2030-05-06T10:00:00Z"), true);
  vevent.updatePropertyWithValue("dtstamp", ICAL.Time.fromJSDate(new Date(), true));
  vcalendar.addSubcomponent(vevent);
  return vcalendar.toString();
}

async function roundTripEvent(calendarUrl: string, user: StackUser): Promise<void> {
  const uid = randomUUID();
  const url = new URL(`${uid}.ics`, calendarUrl).href;
  const headers = { Authorization: basic(user) };
  const put = await fetch(url, {
    method: "PUT",
    headers: { ...headers, "Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*" },
    body: eventBody(uid, "Dentist"),
  });
  expect(put.status).toBe(201);
  const got = await fetch(url, { headers });
  expect(got.status).toBe(200);
  expect(got.headers.get("etag")).toBeTruthy();
  const vevent = new ICAL.Component(ICAL.parse(await got.text())).getFirstSubcomponent("vevent");
  expect(vevent?.getFirstPropertyValue("uid")).toBe(uid);
  expect(vevent?.getFirstPropertyValue("summary")).toBe("Dentist");
  const removed = await fetch(url, { method: "DELETE", headers });
  expect([200, 204]).toContain(removed.status);
  expect((await fetch(url, { headers })).status).toBe(404);
}

describe("stack Radicale", () => {
  const base = env.radicaleUrl;

  it("answers PROPFIND current-user-principal with the logged-in user's principal", async () => {
    const response = await propfind(base, PROPFIND_PRINCIPAL, { user: alice });
    expect(response.status).toBe(207);
    const [principal] = hrefsIn(response.body, "current-user-principal");
    expect(principal).toBeDefined();
    if (env.kind === "local") expect(principal).toBe(`/${alice.address}/`);
  });

  it("refuses requests without credentials or with a wrong password", async () => {
    expect((await propfind(base, PROPFIND_PRINCIPAL)).status).toBe(401);
    expect((await propfind(base, PROPFIND_PRINCIPAL, { user: alice, password: "wrong" })).status).toBe(401);
  });

  it("stores and returns an event in the user's calendar", async () => {
    await roundTripEvent(await discoverCalendar(base, alice), alice);
  });

  it("keeps one user out of another user's calendars", async () => {
    const bobsCalendar = await discoverCalendar(base, bob);
    const response = await propfind(bobsCalendar, PROPFIND_RESOURCETYPE, { user: alice, depth: "1" });
    expect([401, 403, 404]).toContain(response.status);
  });
});

describe("stack Xandikos", () => {
  const base = env.xandikosUrl;

  it("answers PROPFIND current-user-principal with its principal", async () => {
    const response = await propfind(base, PROPFIND_PRINCIPAL, { user: alice });
    expect(response.status).toBe(207);
    const [principal] = hrefsIn(response.body, "current-user-principal");
    expect(principal).toBeDefined();
    if (env.xandikosPrincipal) expect(principal).toBe(env.xandikosPrincipal);
  });

  it.runIf(env.kind === "local")(
    "has no authentication of its own: anonymous requests are served",
    async () => {
      const response = await propfind(base, PROPFIND_PRINCIPAL);
      expect(response.status).toBe(207);
    },
  );

  it("redirects the RFC 6764 well-known URIs to the DAV root", async () => {
    for (const path of ["/.well-known/caldav", "/.well-known/carddav"]) {
      const response = await fetch(new URL(path, base), {
        redirect: "manual",
        headers: { Authorization: basic(alice) },
      });
      expect(response.status, path).toBeGreaterThanOrEqual(301);
      expect(response.status, path).toBeLessThanOrEqual(308);
      expect(response.headers.get("location"), path).toBeTruthy();
    }
  });

  it("stores and returns an event in the principal's calendar", async () => {
    await roundTripEvent(await discoverCalendar(base, alice), alice);
  });
});

describe.skipIf(!env.oauth?.davUrl)("stack Radicale behind the OAuth 2.0 bearer-token front", () => {
  const davUrl = env.oauth?.davUrl ?? "";
  /** An access token for `user` from the stack's authorization server (RFC 6749 §6). */
  async function accessToken(user: StackUser): Promise<string> {
    const oauth = env.oauth!;
    const res = await fetch(oauth.tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: user.refreshToken!,
        client_id: oauth.clientId,
        client_secret: oauth.clientSecret,
      }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const propfindWith = (url: string, headers: Record<string, string>) =>
    fetch(url, {
      method: "PROPFIND",
      headers: { Depth: "0", "Content-Type": "application/xml; charset=utf-8", ...headers },
      body: PROPFIND_PRINCIPAL,
    });

  it("serves a live token's user, as the token's user, from the same collections as the password Radicale", async () => {
    const token = await accessToken(alice);
    const res = await propfindWith(davUrl, { Authorization: `Bearer ${token}` });
    expect(res.status).toBe(207);
    expect(hrefsIn(await res.text(), "current-user-principal")).toEqual([`/${alice.address}/`]);
    const viaPassword = await propfind(env.radicaleUrl, PROPFIND_PRINCIPAL, { user: alice });
    expect(hrefsIn(viaPassword.body, "current-user-principal")).toEqual([`/${alice.address}/`]);
  });

  it("answers no token, HTTP Basic and an unknown token with 401 and a Bearer challenge", async () => {
    const none = await propfindWith(davUrl, {});
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Bearer realm=/);
    const withBasic = await propfindWith(davUrl, { Authorization: basic(alice) });
    expect(withBasic.status).toBe(401);
    const unknown = await propfindWith(davUrl, { Authorization: "Bearer not-a-token" });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get("www-authenticate")).toMatch(/error="invalid_token"/);
  });

  it("ignores an X-Remote-User a client sends: alice's token cannot open bob's collections", async () => {
    const token = await accessToken(alice);
    const res = await propfindWith(new URL(`/${bob.address}/`, davUrl).href, {
      Authorization: `Bearer ${token}`,
      "X-Remote-User": bob.address,
    });
    expect(res.status).toBe(403);
  });
});
