/**
 * The poll loop on a real server: discovery restricted to one calendar by the include filter, the
 * initial diff before start() resolves, a change another client makes arriving on its own, and
 * stop() ending the loop.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DavClient } from "../../../src/dav/client.js";
import { DavPoller } from "../../../src/dav/poller.js";
import { type SyncDiff, SyncEngine } from "../../../src/dav/sync-engine.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import {
  SERVERS,
  fixture,
  makeCalendar,
  putRaw,
  recordingClient,
  removeCollection,
  uniqueName,
} from "./helpers.js";

describe.each(SERVERS)("DavPoller on $name", (server) => {
  let client: DavClient;
  let calendarUrl: string;
  let store: StateStore;
  const displayName = uniqueName("EC Poller");

  beforeAll(async () => {
    ({ client } = recordingClient(server));
    calendarUrl = await makeCalendar(client, uniqueName("ec-poll"), displayName);
    await putRaw(client, `${calendarUrl}review.ics`, fixture("objects/outlook-review.ics"), "text/calendar");
    store = openSqliteStore({ path: ":memory:" });
  });

  afterAll(async () => {
    await removeCollection(client, calendarUrl);
    store.close();
  });

  it("delivers the initial diff, then a change made by another client, until stopped", async () => {
    const diffs: SyncDiff[] = [];
    const errors: unknown[] = [];
    const engine = new SyncEngine({ client, repo: store.dav, account: "alice", kind: "calendar" });
    const poller = new DavPoller({
      account: "alice",
      sources: [{ kind: "calendar", client, engine, filter: { include: [displayName] } }],
      onDiff: (d) => void diffs.push(d),
      onError: (e) => void errors.push(e),
      intervalMs: 200,
    });
    try {
      await poller.start();
      expect(errors).toEqual([]);
      expect(diffs).toHaveLength(1);
      expect(diffs[0]!.collectionUrl).toBe(calendarUrl);
      expect(diffs[0]!.added.map((o) => o.href.split("/").pop())).toEqual(["review.ics"]);

      await putRaw(
        client,
        `${calendarUrl}trip.ics`,
        fixture("objects/google-allday-trip.ics"),
        "text/calendar",
      );
      const started = Date.now();
      while (diffs.length < 2 && Date.now() - started < 10_000) await new Promise((r) => setTimeout(r, 50));
      expect(diffs).toHaveLength(2);
      expect(diffs[1]!.mode).toBe("incremental");
      expect(diffs[1]!.added.map((o) => o.href.split("/").pop())).toEqual(["trip.ics"]);
    } finally {
      await poller.stop();
    }
    expect(poller.running).toBe(false);
    expect(store.dav.listCollections("alice").map((c) => c.url)).toEqual([calendarUrl]);
  });
});
