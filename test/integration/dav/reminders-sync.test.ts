/**
 * Issue 5 on the stack's real Radicale and Xandikos: producer exports (Google, Apple, Outlook,
 * Thunderbird) and the recurrence, zone and alarm fixtures are uploaded, synced by the SyncEngine and
 * turned into reminders from what the SERVER returned. The fire instants must be exactly the ones the
 * unit tests work out by hand (test/unit/reminders/*.test.ts, same `now` and user zone per fixture):
 * the round trip through a real server keeps them. Then a moved and a deleted event are followed by an
 * incremental sync of at most two requests, a garbage sync token is recovered by a full sync with the
 * reminders unchanged, and a restart over a file-backed store fires nothing twice.
 *
 * Radicale enforces RFC 4791 §4.1 (one UID and one component type per resource) and answers 400 to a
 * multi-event export, so there the export is imported as a CalDAV client does, one resource per UID
 * (helpers.ts splitByUid); Xandikos stores each file as the producer wrote it.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Reminder } from "../../../src/contract/sinks.js";
import { deleteEvent } from "../../../src/dav/calendar/events.js";
import { computeReminders } from "../../../src/dav/calendar/reminders/index.js";
import type { DavClient } from "../../../src/dav/client.js";
import { normalizeHref } from "../../../src/dav/href.js";
import type { DavObject, SyncEngine } from "../../../src/dav/sync-engine.js";
import { objectScope, reconcileReminders } from "../../../src/reminders/index.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import { MemoryFiredRepo, MemoryReminderSink } from "../../unit/reminders/support/memory-stores.js";
import { MINUTE, harness } from "../../unit/reminders/support/scheduler-harness.js";
import {
  SERVERS,
  type SentRequest,
  makeCalendar,
  putRaw,
  recordingClient,
  removeCollection,
  splitByUid,
  storeAndEngine,
  uniqueName,
} from "./helpers.js";

const calendarFixture = (file: string): string =>
  readFileSync(new URL(`../../fixtures/calendars/${file}`, import.meta.url), "utf8");

const USER = "email:alice@example.test";
const MARCH = "2025-03-10T00:00:00Z";

/** A fixture, the clock and zone its unit test uses, and that test's expected "<instant> <title>" list. */
interface Case {
  file: string;
  /** Resource name when it differs from `file`. */
  name?: string;
  now: string;
  zone: string;
  fires: string[];
}

const SAM = "1:1 with Sam";
// biome-ignore format: a table, one fixture per entry, copied from the unit tests named above each group
const CASES: Case[] = [
  // test/unit/reminders/producers.test.ts
  { file: "google-export.ics", now: "2025-03-09T12:00:00Z", zone: "Europe/Berlin", fires: [
    "2025-03-09T08:30:00.000Z Team standup", "2025-03-10T08:20:00.000Z Team standup",
    "2025-03-12T14:30:00.000Z Dentist", "2025-03-16T08:30:00.000Z Team standup",
    "2025-03-17T08:20:00.000Z Team standup", "2025-03-19T08:00:00.000Z Mum's birthday",
    "2025-03-23T08:30:00.000Z Team standup", "2025-03-24T08:20:00.000Z Team standup",
    "2025-03-30T07:30:00.000Z Team standup", "2025-03-31T07:20:00.000Z Team standup",
    "2025-04-06T07:30:00.000Z Team standup", "2025-04-07T07:20:00.000Z Team standup",
  ] },
  { file: "apple-icloud.ics", now: "2025-03-12T00:00:00Z", zone: "America/Los_Angeles", fires: [
    "2025-03-15T01:00:00.000Z Dinner with Jo",
    "2025-03-17T16:00:00.000Z Passport renewal appointment window opens",
    "2025-03-21T22:50:00.000Z Weekly review", "2025-03-28T22:50:00.000Z Weekly review",
    "2025-04-04T22:50:00.000Z Weekly review",
  ] },
  { file: "outlook-exchange.ics", now: MARCH, zone: "Europe/Berlin", fires: [
    "2025-03-11T07:45:00.000Z Migration project sync",
    "2025-03-12T13:45:00.000Z Call with the New York office",
    "2025-03-18T07:45:00.000Z Migration project sync", "2025-03-25T07:45:00.000Z Migration project sync",
  ] },
  { file: "thunderbird-lightning.ics", now: MARCH, zone: "Europe/Berlin", fires: [
    "2025-03-21T15:00:00.000Z Submit expense report", "2025-03-26T12:00:00.000Z Quarterly review",
  ] },
  // recurrence.test.ts
  { file: "weekly-exdate-moved.ics", now: MARCH, zone: "Europe/Berlin", fires: [
    `2025-03-13T12:45:00.000Z ${SAM}`, `2025-03-28T14:55:00.000Z ${SAM} (moved)`, `2025-04-03T11:45:00.000Z ${SAM}`,
  ] },
  // zones.test.ts
  { file: "new-york-vtimezone.ics", now: "2025-03-06T00:00:00Z", zone: "Europe/Berlin", fires: [
    "2025-03-06T11:50:00.000Z Morning run", "2025-03-07T11:50:00.000Z Morning run",
    "2025-03-08T07:30:00.000Z Night shift handover", "2025-03-08T11:50:00.000Z Morning run",
    "2025-03-09T07:30:00.000Z Night shift handover", "2025-03-09T10:50:00.000Z Morning run",
    "2025-03-10T06:30:00.000Z Night shift handover", "2025-03-10T10:50:00.000Z Morning run",
    "2025-03-11T10:50:00.000Z Morning run", "2025-03-12T10:50:00.000Z Morning run",
  ] },
  { file: "bare-tzid.ics", now: "2025-10-25T00:00:00Z", zone: "Asia/Tokyo", fires: [
    "2025-10-26T00:20:00.000Z Backup window", "2025-10-27T07:50:00.000Z Retro",
    "2025-10-31T05:20:00.000Z Late call with the NYC team", "2025-11-01T05:20:00.000Z Late call with the NYC team",
    "2025-11-02T05:20:00.000Z Late call with the NYC team", "2025-11-03T06:20:00.000Z Late call with the NYC team",
  ] },
  { file: "all-day.ics", now: "2025-03-20T00:00:00Z", zone: "Europe/Berlin", fires: [
    "2025-03-26T08:00:00.000Z Company offsite", "2025-03-28T17:00:00.000Z Company offsite",
    "2025-03-30T08:00:00.000Z Clocks go forward",
  ] },
  // alarms.test.ts; stored under a name without ".ics", as Stalwart names JMAP-created objects.
  { file: "alarm-related-end.ics", name: "alarm-related-end", now: MARCH, zone: "Europe/Berlin", fires: [
    "2025-03-14T15:25:00.000Z Sprint demo", "2025-03-14T15:40:00.000Z Sprint demo",
  ] },
  { file: "absolute-alarm.ics", now: MARCH, zone: "Europe/Berlin", fires: [
    "2025-03-12T16:30:00.000Z Yoga", "2025-03-12T16:30:00.000Z Yoga", "2025-03-19T16:30:00.000Z Yoga",
    "2025-03-24T08:00:00.000Z Tax return due", "2025-03-26T16:30:00.000Z Yoga", "2025-04-02T15:30:00.000Z Yoga",
  ] },
];
const WEEKLY = CASES.find((c) => c.file === "weekly-exdate-moved.ics")!;
const DEMO = CASES.find((c) => c.file === "alarm-related-end.ics")!;

const byInstant = (a: Reminder, b: Reminder) =>
  a.fireAt.getTime() - b.fireAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const fires = (reminders: Reminder[]) => reminders.map((r) => `${r.fireAt.toISOString()} ${r.title}`);

describe.each(SERVERS)("reminders from $name", (server) => {
  let client: DavClient;
  let sent: SentRequest[];
  let store: StateStore;
  let calendarUrl: string;
  let engine: SyncEngine;
  const sink = new MemoryReminderSink();
  /** Normalised href -> the fixture its resource came from. */
  const caseOf = new Map<string, Case>();
  const hrefsOf = (c: Case) => [...caseOf].filter(([, v]) => v === c).map(([href]) => href);
  const held = (c: Case) =>
    [...sink.items.values()].filter((r) => caseOf.get(r.source.href) === c).sort(byInstant);

  /** Reminders of the server's copy of an object, computed with its fixture's clock and zone. */
  function remindersOf(object: DavObject): Reminder[] {
    const c = caseOf.get(object.href)!;
    const result = computeReminders(
      { calendarUrl, href: object.href, data: object.data },
      { userId: USER, now: new Date(c.now), userTimeZone: c.zone },
    );
    expect(result.problems, object.href).toEqual([]);
    return result.reminders;
  }

  beforeAll(async () => {
    ({ client, sent } = recordingClient(server));
    calendarUrl = await makeCalendar(client, uniqueName("ec-reminders"), "EC reminders test");
    ({ store, engine } = storeAndEngine(client, "calendar", { transactional: true }));
    for (const c of CASES) {
      const text = calendarFixture(c.file);
      const split = server.name === "radicale" ? splitByUid(text) : [];
      const resources =
        split.length > 1
          ? split.map((r, i) => ({ name: c.file.replace(/\.ics$/, `-${i + 1}.ics`), data: r.data }))
          : [{ name: c.name ?? c.file, data: text }];
      for (const { name, data } of resources) {
        await putRaw(client, `${calendarUrl}${name}`, data, "text/calendar");
        caseOf.set(normalizeHref(`${calendarUrl}${name}`, calendarUrl), c);
      }
    }
  });

  afterAll(async () => {
    await removeCollection(client, calendarUrl);
    store.close();
  });

  it("computes, from the server's copies, the instants the unit tests work out by hand", async () => {
    const diff = await engine.sync(calendarUrl);
    expect(diff.mode).toBe("full");
    expect(diff.added.map((o) => o.href).sort()).toEqual([...caseOf.keys()].sort());
    expect(hrefsOf(DEMO)).toEqual([normalizeHref(`${calendarUrl}alarm-related-end`, calendarUrl)]);
    for (const object of diff.added) {
      await reconcileReminders(sink, objectScope(calendarUrl, object.href), remindersOf(object));
    }
    for (const c of CASES) expect(fires(held(c)), c.file).toEqual(c.fires);
    expect(sink.items.size).toBe(CASES.reduce((n, c) => n + c.fires.length, 0));
    expect([...sink.items.values()].every((r) => r.source.calendarUrl === calendarUrl)).toBe(true);
  });

  it("follows a moved and a deleted event with one incremental sync of at most two requests", async () => {
    const [weekly] = hrefsOf(WEEKLY) as [string];
    const [demo] = hrefsOf(DEMO) as [string];
    const demoIds = held(DEMO).map((r) => r.id);
    const thirdApril = held(WEEKLY).find((r) => r.fireAt.toISOString().startsWith("2025-04-03"))!;
    const others = [...sink.items.values()].filter((r) => r.source.href !== weekly && r.source.href !== demo);

    // Another client (the iPhone that wrote the series) restores 20 March and moves 3 April to 15:00.
    await putRaw(
      client,
      client.resolve(weekly),
      calendarFixture("weekly-exdate-moved-edited.ics"),
      "text/calendar",
    );
    // The agent deletes the sprint demo with the ETag the sync stored.
    const stored = store.dav.getObject(calendarUrl, demo)!;
    expect(await deleteEvent(client, { href: demo, etag: stored.etag! })).toBe(true);

    sent.length = 0;
    const diff = await engine.sync(calendarUrl);
    expect(diff.mode).toBe("incremental");
    expect(diff.added).toEqual([]);
    expect(diff.changed.map((o) => o.href)).toEqual([weekly]);
    expect(diff.removed).toEqual([demo]);
    expect(sent.length).toBeLessThanOrEqual(2);
    expect(diff.requests).toBe(sent.length);

    const moved = await reconcileReminders(
      sink,
      objectScope(calendarUrl, weekly),
      remindersOf(diff.changed[0]!),
    );
    const gone = await reconcileReminders(sink, objectScope(calendarUrl, demo), []);
    // 20 Mar 14:00 CET = 13:00Z, -15 min; 3 Apr 15:00 CEST = 13:00Z, -15 min (was 14:00 CEST, 11:45Z).
    expect(fires(moved.added)).toEqual([`2025-03-20T12:45:00.000Z ${SAM}`]);
    expect(fires(moved.changed)).toEqual([`2025-04-03T12:45:00.000Z ${SAM}`]);
    expect(moved.changed[0]!.id).toBe(thirdApril.id); // the same occurrence, at its new instant
    expect(moved.removed).toEqual([]);
    expect(gone.removed.map((r) => r.id).sort()).toEqual([...demoIds].sort());
    expect(fires(held(WEEKLY))).toEqual([
      `2025-03-13T12:45:00.000Z ${SAM}`,
      `2025-03-20T12:45:00.000Z ${SAM}`,
      `2025-03-28T14:55:00.000Z ${SAM} (moved)`,
      `2025-04-03T12:45:00.000Z ${SAM}`,
    ]);
    expect(held(DEMO)).toEqual([]);
    expect([...sink.items.values()].filter((r) => r.source.href !== weekly)).toEqual(others);
  });

  it("recovers from a garbage sync token with a full sync, the reminders unchanged", async () => {
    const before = [...sink.items.values()].sort(byInstant);
    const state = store.dav.getCollection(calendarUrl)!;
    store.dav.putCollection({ ...state, syncToken: "garbage-token-not-from-this-server" });

    const diff = await engine.sync(calendarUrl);
    expect(diff.tokenReset).toBe(true);
    expect(diff.mode).toBe("full");
    expect([diff.added, diff.changed, diff.removed]).toEqual([[], [], []]);
    // Recomputed from every object the engine now holds: nothing to add, change or remove.
    const objects = engine.objects(calendarUrl);
    expect(objects.map((o) => o.href).sort()).toEqual(
      [...caseOf.keys()].filter((h) => caseOf.get(h) !== DEMO).sort(),
    );
    for (const object of objects) {
      const again = await reconcileReminders(
        sink,
        objectScope(calendarUrl, object.href),
        remindersOf(object),
      );
      expect([again.added, again.changed, again.removed], object.href).toEqual([[], [], []]);
    }
    expect([...sink.items.values()].sort(byInstant)).toEqual(before);
    expect(store.dav.getCollection(calendarUrl)!.syncToken).not.toBe("garbage-token-not-from-this-server");
    expect((await engine.sync(calendarUrl)).mode).toBe("incremental");
  });

  it("fires a due reminder once; a scheduler over the reopened store does not fire it again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ec-reminders-"));
    const path = join(dir, "state.db");
    try {
      const series = held(WEEKLY);
      const due = series[0]!; // 13 Mar 12:45Z, computed from the server's copy
      let file = openSqliteStore({ path });
      await file.reminders.upsert(series);

      const first = harness("2025-03-13T12:40:00.000Z", { sink: file.reminders, fired: file.fired });
      await first.scheduler.start();
      await first.clock.advance(10 * MINUTE);
      await first.scheduler.stop();
      file.close();
      expect(first.deliveries).toEqual([
        { id: due.id, at: "2025-03-13T12:45:00.000Z", late: false, delayMs: 0 },
      ]);

      // Restarted five minutes later, well inside the 15-minute grace window.
      file = openSqliteStore({ path });
      expect((await file.reminders.list()).sort(byInstant)).toEqual(series);
      const second = harness("2025-03-13T12:50:00.000Z", { sink: file.reminders, fired: file.fired });
      await second.scheduler.start();
      await second.clock.advance(10 * MINUTE);
      await second.scheduler.stop();
      expect(second.deliveries).toEqual([]);
      expect(second.scheduler.stats()).toMatchObject({ fired: 0, alreadyFired: 1, dropped: 0 });

      // Control: without the persisted mark the same restart would deliver it (late).
      const unmarked = harness("2025-03-13T12:50:00.000Z", {
        sink: file.reminders,
        fired: new MemoryFiredRepo(),
      });
      await unmarked.scheduler.start();
      await unmarked.clock.advance(MINUTE);
      await unmarked.scheduler.stop();
      file.close();
      expect(unmarked.deliveries.map((d) => [d.id, d.late])).toEqual([[due.id, true]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
