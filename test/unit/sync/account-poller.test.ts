/** An account's DAV poller as the calendar and contacts feeds build it, on a loopback fake server. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type AccountConfig, Secret } from "../../../src/config/resolved.js";
import type { DavPoller, SyncDiff } from "../../../src/dav/index.js";
import { normalizeCollectionUrl } from "../../../src/dav/href.js";
import { silentLogger } from "../../../src/log/index.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import { accountPoller } from "../../../src/sync/account-poller.js";
import { type FakeServer, kindOf, sentToken, startFakeServer } from "../dav/support/fake-server.js";
import { sabreLike } from "../dav/support/sabre-like.js";

const WORK = "dav/calendars/alice%40example.org/work/";

let server: FakeServer | undefined;
let store: StateStore | undefined;
let poller: DavPoller | undefined;
let dir: string | undefined;
afterEach(async () => {
  await poller?.stop();
  await server?.close();
  store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  poller = server = store = dir = undefined;
});

const account: AccountConfig = {
  address: "alice@example.org",
  imap: { username: "alice@example.org", password: new Secret("pw") },
  smtp: { username: "alice@example.org", password: new Secret("pw") },
  mailboxes: ["INBOX"],
};

function poll(s: StateStore, diffs: SyncDiff[]): DavPoller {
  poller = accountPoller({
    kind: "calendar",
    baseUrl: `${server!.url}dav/`,
    account,
    store: s,
    logger: silentLogger(),
    intervalMs: 60_000,
    tls: { rejectUnauthorized: true },
    onDiff: (d) => void diffs.push(d),
  });
  return poller;
}

describe("accountPoller", () => {
  it("commits a sync's objects and its token together: a save failing midway leaves nothing, the restart refetches all", async () => {
    server = await startFakeServer(sabreLike({}));
    dir = mkdtempSync(join(tmpdir(), "account-poller-"));
    const path = join(dir, "state.db");
    const key = normalizeCollectionUrl(server.url + WORK);

    store = openSqliteStore({ path });
    const putObject = store.dav.putObject.bind(store.dav);
    let puts = 0;
    store.dav.putObject = (o) => {
      if (++puts === 2) throw Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
      putObject(o);
    };
    const diffs: SyncDiff[] = [];
    await poll(store, diffs).start();
    expect(diffs).toEqual([]);
    // The first object of the three was written before the failure; it must not outlive it.
    expect(store.dav.listObjects(key)).toEqual([]);
    expect(store.dav.getCollection(key)?.syncToken).toBeUndefined();
    await poller!.stop();
    store.close();

    // The restart syncs from scratch and hands every object on, so each gets its reminders.
    server.requests.length = 0;
    store = openSqliteStore({ path });
    await poll(store, diffs).start();
    const syncs = server.requests.filter((r) => kindOf(r) === "sync-collection");
    expect(sentToken(syncs[0]!)).toBe("");
    expect(diffs).toHaveLength(1);
    expect(diffs[0]!.added).toHaveLength(3);
    expect(store.dav.listObjects(key)).toHaveLength(3);
    expect(store.dav.getCollection(key)?.syncToken).toBe("http://sabre.io/ns/sync/102");
  });
});
