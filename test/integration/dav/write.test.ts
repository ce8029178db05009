/**
 * The conditional write path and the agent's event helpers on the real servers: a stale If-Match is
 * refused with the server's current version (never overwritten), If-None-Match protects existing
 * names, and created/updated/deleted events round-trip through the sync engine.
 */
import ICAL from "ical.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEvent, deleteEvent, updateEvent } from "../../../src/dav/calendar/events.js";
import type { DavClient } from "../../../src/dav/client.js";
import { SyncEngine } from "../../../src/dav/sync-engine.js";
import { DavConflictError, deleteObject, putObject, putObjectAt } from "../../../src/dav/write.js";
import { InputError } from "../../../src/errors/index.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import { SERVERS, fixture, makeCalendar, recordingClient, removeCollection, uniqueName } from "./helpers.js";

/** The instant of the master VEVENT's DTSTART, read through the object's own VTIMEZONE. */
function startInstant(data: string): Date {
  const vcalendar = new ICAL.Component(ICAL.parse(data));
  const vtimezone = vcalendar.getFirstSubcomponent("vtimezone");
  if (vtimezone) ICAL.TimezoneService.register(vtimezone);
  const vevent = vcalendar.getFirstSubcomponent("vevent")!;
  return (vevent.getFirstPropertyValue("dtstart") as ICAL.Time).toJSDate();
}

describe.each(SERVERS)("write path on $name", (server) => {
  let client: DavClient;
  let calendarUrl: string;
  let store: StateStore;
  let engine: SyncEngine;

  beforeAll(async () => {
    ({ client } = recordingClient(server));
    calendarUrl = await makeCalendar(client, uniqueName("ec-write"), "EC write test");
    store = openSqliteStore({ path: ":memory:" });
    engine = new SyncEngine({ client, repo: store.dav, account: "alice", kind: "calendar" });
  });

  afterAll(async () => {
    await removeCollection(client, calendarUrl);
    store.close();
  });

  it("refuses a stale If-Match with a conflict carrying the server's version, and overwrites nothing", async () => {
    const v1 = fixture("objects/outlook-review.ics");
    const created = await putObject(client, calendarUrl, "review.ics", v1, { ifNoneMatch: true });
    expect(created.etag).toBeTruthy();
    const v2 = v1.replace("SUMMARY:Q2 roadmap review", "SUMMARY:Q2 roadmap review (agenda attached)");
    const updated = await putObjectAt(client, created.url, v2, { ifMatch: created.etag! });
    expect(updated.etag).toBeTruthy();
    expect(updated.etag).not.toBe(created.etag);

    const v3 = v1.replace("SUMMARY:Q2 roadmap review", "SUMMARY:stale edit");
    const error = await putObjectAt(client, created.url, v3, { ifMatch: created.etag! }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DavConflictError);
    const conflict = error as DavConflictError;
    expect(conflict.status).toBe(412);
    expect(conflict.current?.data).toContain("(agenda attached)");
    expect(conflict.current?.etag).toBe(updated.etag);
    // The server still holds v2.
    const diff = await engine.sync(calendarUrl);
    const held = [...diff.added, ...diff.changed].find((o) => o.href === created.href);
    expect(held?.data).toContain("(agenda attached)");
    expect(held?.data).not.toContain("stale edit");
  });

  it("If-None-Match: * never replaces an existing object", async () => {
    const error = await putObject(
      client,
      calendarUrl,
      "review.ics",
      fixture("objects/google-allday-trip.ics"),
      {
        ifNoneMatch: true,
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DavConflictError);
    expect((error as DavConflictError).current?.data).toContain("Q2 roadmap review");
  });

  it("deletes only the version it knows", async () => {
    const created = await putObject(
      client,
      calendarUrl,
      "trip.ics",
      fixture("objects/google-allday-trip.ics"),
      { ifNoneMatch: true },
    );
    const changed = await putObjectAt(
      client,
      created.url,
      fixture("objects/google-allday-trip.ics").replace("SEQUENCE:0", "SEQUENCE:1"),
      { ifMatch: created.etag! },
    );
    const stale = await deleteObject(client, created.url, created.etag!).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(DavConflictError);
    expect((stale as DavConflictError).current?.data).toContain("SEQUENCE:1");
    expect(await deleteObject(client, created.url, changed.etag!)).toBe(true);
    // Gone already: the outcome the caller wanted, reported as false.
    expect(await deleteObject(client, created.url, changed.etag!)).toBe(false);
  });

  it("creates, moves and deletes an agent's event in America/New_York, seen by the sync engine", async () => {
    await engine.sync(calendarUrl);
    const created = await createEvent(client, calendarUrl, {
      title: "Dentist",
      start: "2025-03-18T10:30",
      end: "2025-03-18T11:15",
      timeZone: "America/New_York",
      alarmMinutesBefore: 30,
      description: "Bring the insurance card",
      location: "350 5th Ave, New York",
    });
    expect(created.etag).toBeTruthy();
    expect(created.href.endsWith(`/${created.uid}.ics`)).toBe(true);

    const added = await engine.sync(calendarUrl);
    expect(added.added.map((o) => o.href)).toEqual([created.href]);
    const stored = added.added[0]!.data;
    expect(stored).toContain(`UID:${created.uid}`);
    expect(stored).toMatch(/DTSTART;TZID=America\/New_York:20250318T103000/);
    expect(stored).toContain("TRIGGER:-PT30M");
    // EDT (UTC-4) since 9 March 2025: 10:30 in New York is 14:30Z.
    expect(startInstant(stored).toISOString()).toBe("2025-03-18T14:30:00.000Z");

    const moved = await updateEvent(
      client,
      { href: created.href, etag: created.etag! },
      { start: "2025-03-19T09:00", title: "Dentist (moved)" },
    );
    const changed = await engine.sync(calendarUrl);
    expect(changed.changed.map((o) => o.href)).toEqual([created.href]);
    const data = changed.changed[0]!.data;
    expect(data).toContain("SUMMARY:Dentist (moved)");
    expect(data).toMatch(/DTEND;TZID=America\/New_York:20250319T094500/); // the 45 minutes are kept
    expect(data).toContain("SEQUENCE:1");
    expect(data).toContain("Bring the insurance card");

    // An update based on the first version is refused.
    const stale = await updateEvent(
      client,
      { href: created.href, etag: created.etag!, data: created.data },
      { title: "stale" },
    ).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(DavConflictError);

    expect(await deleteEvent(client, { href: created.href, etag: moved.etag! })).toBe(true);
    const removed = await engine.sync(calendarUrl);
    expect(removed.removed).toEqual([created.href]);
  });

  it("creates an all-day event with DATE values and an exclusive end", async () => {
    const created = await createEvent(client, calendarUrl, {
      title: "Trip to Lisbon",
      start: "2025-04-12",
      end: "2025-04-15",
      allDay: true,
      timeZone: "Europe/Berlin",
    });
    const diff = await engine.sync(calendarUrl);
    const data = diff.added.find((o) => o.href === created.href)!.data;
    expect(data).toContain("DTSTART;VALUE=DATE:20250412");
    expect(data).toContain("DTEND;VALUE=DATE:20250415");
    expect(data).not.toContain("BEGIN:VTIMEZONE");
  });

  it("rejects bad input before any request", async () => {
    const error = await createEvent(client, calendarUrl, {
      title: "x",
      start: "2025-03-18T10:30",
      end: "2025-03-18T09:30",
      timeZone: "Mars/Olympus",
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe("DAV_EVENT_INVALID");
  });
});
