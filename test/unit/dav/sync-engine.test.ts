/**
 * Sync engine edge cases on a loopback fake server (the real-server behaviour is covered by
 * test/integration/dav): 507 paging, refused tokens, the empty-listing guard, an outage and its
 * recovery, the ctag/etag fallback, a multiget that leaves an href out.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createDavClient } from "../../../src/dav/client.js";
import { normalizeCollectionUrl } from "../../../src/dav/href.js";
import { SyncEngine } from "../../../src/dav/sync-engine.js";
import { ServerError } from "../../../src/errors/index.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import {
  type FakeServer,
  fixture,
  kindOf,
  multistatus,
  sentToken,
  startFakeServer,
} from "./support/fake-server.js";
import { sabreLike } from "./support/sabre-like.js";

const WORK = "dav/calendars/alice%40example.org/work/";
const KEY = {
  standup: "/dav/calendars/alice@example.org/work/standup.ics",
  call: "/dav/calendars/alice@example.org/work/b1e7c3d2-9f4a-4c6b-8e2d-5a7f1c3e9b04",
  dentist: "/dav/calendars/alice@example.org/work/dentist.ics",
};

let server: FakeServer | undefined;
let store: StateStore | undefined;
afterEach(async () => {
  await server?.close();
  store?.close();
  server = undefined;
  store = undefined;
});

function setup(fake: FakeServer, options: { allowMassDelete?: boolean } = {}) {
  store = openSqliteStore({ path: ":memory:" });
  const client = createDavClient({
    baseUrl: fake.url,
    username: "alice@example.org",
    password: "pw",
    stage: "caldav",
  });
  const s = store;
  const engine = new SyncEngine({
    client,
    repo: s.dav,
    account: "alice@example.org",
    kind: "calendar",
    transaction: (fn) => s.transaction(fn),
    ...options,
  });
  return { client, engine, store: s, url: fake.url + WORK, key: normalizeCollectionUrl(fake.url + WORK) };
}

describe("SyncEngine with sync-collection", () => {
  it("pages a 507-truncated initial sync, then picks up a change and a deletion in two requests", async () => {
    const state = {};
    server = await startFakeServer(sabreLike(state));
    const { engine, store: s, url, key } = setup(server);

    const first = await engine.sync({ url, kind: "calendar", supportsSync: true, displayName: "Work" });
    expect(first.mode).toBe("full");
    expect(first.added.map((o) => o.href).sort()).toEqual([KEY.call, KEY.dentist, KEY.standup].sort());
    expect(first.requests).toBe(3); // two sync pages + one multiget
    const tokens = server.requests.filter((r) => kindOf(r) === "sync-collection").map(sentToken);
    expect(tokens).toEqual(["", "http://sabre.io/ns/sync/101"]);
    // Members named without .ics are ordinary objects.
    const call = first.added.find((o) => o.href === KEY.call)!;
    expect(call.data).toContain("SUMMARY:Call with Bob");
    expect(call.data).toContain("\r\n");
    expect(call.etag).toBe('"b1"');
    expect(s.dav.getCollection(key)?.syncToken).toBe("http://sabre.io/ns/sync/102");
    expect(s.dav.getCollection(key)?.displayName).toBe("Work");

    server.requests.length = 0;
    const second = await engine.sync({ url, kind: "calendar", supportsSync: true });
    expect(second.mode).toBe("incremental");
    expect(second.requests).toBe(2);
    expect(sentToken(server.requests[0]!)).toBe("http://sabre.io/ns/sync/102");
    // The multiget asked only for the changed member.
    expect(server.requests[1]!.body).toContain("dentist.ics");
    expect(server.requests[1]!.body).not.toContain("b1e7c3d2");
    expect(second.added).toEqual([]);
    expect(second.changed.map((o) => o.href)).toEqual([KEY.dentist]);
    expect(second.changed[0]!.data).toContain("SUMMARY:Dentist (moved)");
    // "%40" in one answer and "@" in the other name the same object.
    expect(second.removed).toEqual([KEY.standup]);
    expect(
      s.dav
        .listObjects(key)
        .map((o) => o.href)
        .sort(),
    ).toEqual([KEY.call, KEY.dentist].sort());

    server.requests.length = 0;
    const third = await engine.sync(url);
    expect(third.requests).toBe(1);
    expect(third.added.length + third.changed.length + third.removed.length).toBe(0);
  });

  it("takes the data of a change from the sync report itself when the server sends it: one request", async () => {
    server = await startFakeServer((req) =>
      kindOf(req) === "sync-collection" && sentToken(req).endsWith("/102")
        ? multistatus("protocol/sync-change-with-data.xml")
        : sabreLike({})(req),
    );
    const { engine, url } = setup(server);
    await engine.sync(url);
    const initialBodies = server.requests.filter((r) => kindOf(r) === "sync-collection").map((r) => r.body);
    // Full listings ask for etags only (data comes by batched multiget).
    expect(initialBodies.every((b) => !b.includes("calendar-data"))).toBe(true);
    server.requests.length = 0;
    const diff = await engine.sync(url);
    expect(diff.requests).toBe(1);
    expect(server.requests.map(kindOf)).toEqual(["sync-collection"]);
    expect(server.requests[0]!.body).toContain("<c:calendar-data/>");
    expect(diff.changed.map((o) => o.href)).toEqual([KEY.dentist]);
    expect(diff.changed[0]!.data).toContain("SUMMARY:Dentist (moved)");
    expect(diff.changed[0]!.etag).toBe('"c2"');
    expect(diff.removed).toEqual([KEY.standup]);
  });

  it("with dataInSyncReport off, incremental requests ask for etags only", async () => {
    server = await startFakeServer(sabreLike({}));
    store = openSqliteStore({ path: ":memory:" });
    const engine = new SyncEngine({
      client: createDavClient({ baseUrl: server.url }),
      repo: store.dav,
      account: "alice@example.org",
      kind: "calendar",
      dataInSyncReport: false,
    });
    await engine.sync(server.url + WORK);
    await engine.sync(server.url + WORK);
    const bodies = server.requests.filter((r) => kindOf(r) === "sync-collection").map((r) => r.body);
    expect(bodies).toHaveLength(3);
    expect(bodies.some((b) => b.includes("calendar-data"))).toBe(false);
  });

  it("resets to a full sync when the server refuses the stored token (403 valid-sync-token)", async () => {
    const state: { refuseToken?: string } = {};
    server = await startFakeServer(sabreLike(state));
    const { engine, store: s, url, key } = setup(server);
    await engine.sync(url);
    // The server forgot our token (e.g. its history was pruned).
    state.refuseToken = "http://sabre.io/ns/sync/102";
    server.requests.length = 0;
    const diff = await engine.sync(url);
    expect(diff.tokenReset).toBe(true);
    expect(diff.mode).toBe("full");
    expect(server.requests.map(sentToken).slice(0, 2)).toEqual(["http://sabre.io/ns/sync/102", ""]);
    // The full listing no longer has the stand-up and shows a new etag for the dentist.
    expect(diff.removed).toEqual([KEY.standup]);
    expect(diff.changed.map((o) => o.href)).toEqual([KEY.dentist]);
    expect(s.dav.getCollection(key)?.syncToken).toBe("http://sabre.io/ns/sync/201");
  });

  it("recovers from a garbage token stored in the state with a full sync (409 as well as 403)", async () => {
    server = await startFakeServer((req) => {
      if (kindOf(req) === "sync-collection" && sentToken(req) === "garbage") {
        return {
          status: 409,
          headers: { "Content-Type": "application/xml" },
          body: fixture("protocol/error-valid-sync-token.xml"),
        };
      }
      return sabreLike({})(req);
    });
    const { engine, store: s, url, key } = setup(server);
    s.dav.putCollection({
      url: key,
      account: "alice@example.org",
      kind: "calendar",
      syncToken: "garbage",
      updatedAt: "2025-01-01T00:00:00Z",
    });
    const diff = await engine.sync(url);
    expect(diff.tokenReset).toBe(true);
    expect(diff.added).toHaveLength(3);
  });

  it("keeps every object when a full listing comes back empty, unless allowMassDelete", async () => {
    const state: { refuseToken?: string; empty?: boolean } = {};
    server = await startFakeServer(sabreLike(state));
    const { engine, store: s, url, key } = setup(server);
    await engine.sync(url);
    state.refuseToken = "http://sabre.io/ns/sync/102";
    state.empty = true;
    const error = await engine.sync(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).code).toBe("DAV_SUSPICIOUS_EMPTY");
    expect(s.dav.listObjects(key)).toHaveLength(3);
    expect(s.dav.getCollection(key)?.syncToken).toBe("http://sabre.io/ns/sync/102");

    const permissive = new SyncEngine({
      client: createDavClient({ baseUrl: server.url }),
      repo: s.dav,
      account: "alice@example.org",
      kind: "calendar",
      allowMassDelete: true,
    });
    const diff = await permissive.sync(url);
    expect(diff.removed.sort()).toEqual([KEY.call, KEY.dentist, KEY.standup].sort());
    expect(s.dav.listObjects(key)).toHaveLength(0);
  });

  it("an outage (500) fails the sync without touching state; the next sync resumes from the same token", async () => {
    const state = { failNext: 0 };
    server = await startFakeServer(sabreLike(state));
    const { engine, store: s, url, key } = setup(server);
    await engine.sync(url);
    const before = s.dav.listObjects(key);
    // Both the incremental REPORT and the initial sync tried after a 500 fail.
    state.failNext = 2;
    const error = await engine.sync(url).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).status).toBe(500);
    expect((error as ServerError).retryable).toBe(true);
    expect(s.dav.listObjects(key)).toEqual(before);
    expect(s.dav.getCollection(key)?.syncToken).toBe("http://sabre.io/ns/sync/102");
    // Fails in the middle (multiget after the listing): still nothing applied.
    server.handler = (req) =>
      kindOf(req) === "calendar-multiget"
        ? { status: 503, headers: { "Retry-After": "7" } }
        : sabreLike({})(req);
    const mid = (await engine.sync(url).catch((e: unknown) => e)) as ServerError;
    expect(mid.retryAfter).toBe(7);
    expect(s.dav.listObjects(key)).toEqual(before);
    server.handler = sabreLike({});
    const diff = await engine.sync(url);
    expect(diff.changed.map((o) => o.href)).toEqual([KEY.dentist]);
    expect(diff.removed).toEqual([KEY.standup]);
  });

  it("a 503 on the token is an outage, not a token problem: no full resync is tried", async () => {
    server = await startFakeServer(sabreLike({}));
    const { engine, store: s, key, url } = setup(server);
    await engine.sync(url);
    server.handler = () => ({ status: 503, headers: { "Retry-After": "120" } });
    server.requests.length = 0;
    const error = (await engine.sync(url).catch((e: unknown) => e)) as ServerError;
    expect(error.status).toBe(503);
    expect(error.retryAfter).toBe(120);
    expect(server.requests).toHaveLength(1);
    expect(s.dav.listObjects(key)).toHaveLength(3);
  });

  it("a 500 on the stored token alone (Xandikos 0.2 on an unknown token) is followed by one initial sync", async () => {
    server = await startFakeServer(sabreLike({}));
    const { engine, store: s, key, url } = setup(server);
    s.dav.putCollection({
      url: key,
      account: "alice@example.org",
      kind: "calendar",
      syncToken: "unknown",
      updatedAt: "2025-01-01T00:00:00Z",
    });
    server.handler = (req) =>
      kindOf(req) === "sync-collection" && sentToken(req) === "unknown"
        ? {
            status: 500,
            headers: { "Content-Type": "text/html" },
            body: fixture("protocol/error-server.html"),
          }
        : sabreLike({})(req);
    const diff = await engine.sync(url);
    expect(diff.tokenReset).toBe(true);
    expect(diff.added).toHaveLength(3);
    expect(s.dav.getCollection(key)?.syncToken).toBe("http://sabre.io/ns/sync/102");
  });

  it("forgets a collection: every object reported removed, state deleted", async () => {
    server = await startFakeServer(sabreLike({}));
    const { engine, store: s, url, key } = setup(server);
    await engine.sync(url);
    expect(engine.knownCollections()).toEqual([key]);
    const diff = engine.forget(url);
    expect(diff.removed.sort()).toEqual([KEY.call, KEY.dentist, KEY.standup].sort());
    expect(s.dav.getCollection(key)).toBeUndefined();
    expect(s.dav.listObjects(key)).toEqual([]);
    expect(engine.knownCollections()).toEqual([]);
  });

  it("an aborted sync applies nothing", async () => {
    server = await startFakeServer(async (req) => ({ ...sabreLike({})(req), delayMs: 200 }) as never);
    const { engine, store: s, url, key } = setup(server);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await engine.sync(url, { signal: controller.signal }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe("ABORTED");
    expect(s.dav.getCollection(key)).toBeUndefined();
    expect(s.dav.listObjects(key)).toHaveLength(0);
  });

  it("a store write failing midway (disk full) keeps the old token even without a transaction: the next run refetches", async () => {
    server = await startFakeServer(sabreLike({}));
    const dir = mkdtempSync(join(tmpdir(), "dav-sync-"));
    const path = join(dir, "state.db");
    const open = () => {
      store = openSqliteStore({ path });
      const s = store;
      const engine = new SyncEngine({
        client: createDavClient({ baseUrl: server!.url }),
        repo: s.dav,
        account: "alice@example.org",
        kind: "calendar",
      });
      return { s, engine };
    };
    try {
      const url = server.url + WORK;
      const key = normalizeCollectionUrl(url);
      const first = open();
      await first.engine.sync(url);
      expect(first.s.dav.getCollection(key)?.syncToken).toBe("http://sabre.io/ns/sync/102");
      first.s.dav.putObject = () => {
        throw Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
      };
      await expect(first.engine.sync(url)).rejects.toThrow("disk is full");
      // The change was not saved, so the token that would skip it must not be either.
      expect(first.s.dav.getCollection(key)?.syncToken).toBe("http://sabre.io/ns/sync/102");
      first.s.close();

      // A restart: the next sync asks from the old token and gets the change again.
      server.requests.length = 0;
      const second = open();
      const diff = await second.engine.sync(url);
      expect(sentToken(server.requests[0]!)).toBe("http://sabre.io/ns/sync/102");
      expect(diff.changed.map((o) => o.href)).toEqual([KEY.dentist]);
      expect(second.s.dav.getObject(key, KEY.dentist)?.data).toContain("SUMMARY:Dentist (moved)");
      expect(second.s.dav.getCollection(key)?.syncToken).toBe("http://sabre.io/ns/sync/103");
    } finally {
      store?.close();
      store = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("SyncEngine without sync-collection (CalendarServer-style ctag + etags)", () => {
  const CS = "calendars/__uids__/alice/calendar/";

  it("falls back when the REPORT is refused, skips the listing while the ctag stands, diffs etags when it moves", async () => {
    let version = 1;
    server = await startFakeServer((req) => {
      const kind = kindOf(req);
      if (kind === "sync-collection") {
        return {
          status: 403,
          headers: { "Content-Type": "application/xml" },
          body: fixture("protocol/error-supported-report.xml"),
        };
      }
      if (kind === "propfind" && req.headers.depth === "0")
        return multistatus(`protocol/cs-propfind-ctag-${version}.xml`);
      if (kind === "propfind") return multistatus(`protocol/cs-propfind-etags-${version}.xml`);
      if (kind === "calendar-multiget") return multistatus(`protocol/cs-multiget-${version}.xml`);
      return { status: 400 };
    });
    const { engine } = setup(server);
    const cal = server.url + CS;
    const first = await engine.sync(cal);
    expect(first.mode).toBe("etag-listing");
    expect(first.added.map((o) => o.href).sort()).toEqual([`/${CS}review.ics`, `/${CS}trip.ics`]);

    server.requests.length = 0;
    const unchanged = await engine.sync(cal);
    expect(unchanged.mode).toBe("unchanged");
    expect(unchanged.requests).toBe(1); // the ctag PROPFIND only; the REPORT is not retried
    expect(server.requests.map(kindOf)).toEqual(["propfind"]);

    version = 2;
    const moved = await engine.sync(cal);
    expect(moved.mode).toBe("etag-listing");
    expect(moved.changed.map((o) => o.href)).toEqual([`/${CS}trip.ics`]);
    expect(moved.changed[0]!.data).toContain("DTSTART;VALUE=DATE:20250413");
    expect(moved.removed).toEqual([`/${CS}review.ics`]);
  });

  it("guards an empty etag listing as well", async () => {
    let empty = false;
    server = await startFakeServer((req) => {
      const kind = kindOf(req);
      if (kind === "propfind" && req.headers.depth === "0")
        return multistatus(`protocol/cs-propfind-ctag-${empty ? 2 : 1}.xml`);
      if (kind === "propfind")
        return multistatus(
          empty ? "protocol/cs-propfind-etags-empty.xml" : "protocol/cs-propfind-etags-1.xml",
        );
      if (kind === "calendar-multiget") return multistatus("protocol/cs-multiget-1.xml");
      return { status: 400 };
    });
    const { engine, store: s } = setup(server);
    const cal = { url: server.url + CS, kind: "calendar" as const, supportsSync: false };
    await engine.sync(cal);
    empty = true;
    const error = (await engine.sync(cal).catch((e: unknown) => e)) as ServerError;
    expect(error.code).toBe("DAV_SUSPICIOUS_EMPTY");
    expect(s.dav.listObjects(cal.url)).toHaveLength(2);
    // The ctag was not advanced either: the next poll looks again.
    expect(s.dav.getCollection(cal.url)?.ctag).toContain("S=11");
  });

  it("fetches with GET what a multiget left out, and batches multigets", async () => {
    server = await startFakeServer((req) => {
      const kind = kindOf(req);
      if (kind === "propfind" && req.headers.depth === "0")
        return multistatus("protocol/cs-propfind-ctag-1.xml");
      if (kind === "propfind") return multistatus("protocol/cs-propfind-etags-1.xml");
      if (kind === "calendar-multiget") return multistatus("protocol/cs-multiget-partial.xml");
      if (kind === "get" && req.path.endsWith("/review.ics")) {
        return {
          status: 200,
          headers: { "Content-Type": "text/calendar", ETag: '"1001"' },
          body: fixture("objects/outlook-review.ics"),
        };
      }
      return { status: 404 };
    });
    store = openSqliteStore({ path: ":memory:" });
    const engine = new SyncEngine({
      client: createDavClient({ baseUrl: server.url }),
      repo: store.dav,
      account: "alice@example.org",
      kind: "calendar",
      multigetBatchSize: 1,
    });
    const diff = await engine.sync({ url: server.url + CS, kind: "calendar", supportsSync: false });
    expect(diff.added.map((o) => o.href).sort()).toEqual([`/${CS}review.ics`, `/${CS}trip.ics`]);
    const review = diff.added.find((o) => o.href.endsWith("review.ics"))!;
    expect(review.data).toBe(fixture("objects/outlook-review.ics"));
    expect(review.etag).toBe('"1001"');
    const multigets = server.requests.filter((r) => kindOf(r) === "calendar-multiget");
    expect(multigets).toHaveLength(2); // batch size 1
    expect(server.requests.filter((r) => r.method === "GET")).toHaveLength(1);
  });
});
