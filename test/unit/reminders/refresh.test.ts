/** refreshReminders: per-object refresh after a sync, calendar-wide recomputation as the horizon rolls. */
import { describe, expect, it } from "vitest";
import { calendarScope, objectScope, refreshReminders } from "../../../src/reminders/index.js";
import { CALENDAR_URL, USER, fixture } from "./support/calendars.js";
import { MemoryReminderSink } from "./support/memory-stores.js";

const object = (href: string, file: string) => ({ calendarUrl: CALENDAR_URL, href, data: fixture(file) });
const options = (now: string) => ({ userId: USER, now: new Date(now), userTimeZone: "Europe/Berlin" });

describe("refreshReminders", () => {
  it("rolls the horizon forward over unchanged objects and follows edits and deletions", async () => {
    const sink = new MemoryReminderSink();
    const calendar = [
      object("sam.ics", "weekly-exdate-moved.ics"),
      object("piano.ics", "cancelled-occurrence.ics"),
    ];

    // 10 Mar: 1:1 with Sam 13 Mar, 28 Mar, 3 Apr; piano 11, 25 Mar, 1, 8 Apr.
    const first = await refreshReminders(
      sink,
      calendarScope(CALENDAR_URL),
      calendar,
      options("2025-03-10T00:00:00Z"),
    );
    expect(first.diff.added).toHaveLength(7);
    expect(first.problems).toEqual([]);

    // Nine days later, nothing edited: 13 Mar (1:1) and 11 Mar (piano) fell out of the 24 h lookback; up
    // to the new horizon (18 Apr 00:00Z) 10 and 17 Apr (1:1, 14:00 CEST = 12:00Z, -15 min) and 15 Apr
    // (piano, 17:00 CEST = 15:00Z, -30 min) came in.
    const rolled = await refreshReminders(
      sink,
      calendarScope(CALENDAR_URL),
      calendar,
      options("2025-03-19T00:00:00Z"),
    );
    expect(rolled.diff.removed.map((r) => r.fireAt.toISOString()).sort()).toEqual([
      "2025-03-11T15:30:00.000Z",
      "2025-03-13T12:45:00.000Z",
    ]);
    expect(rolled.diff.added.map((r) => r.fireAt.toISOString()).sort()).toEqual([
      "2025-04-10T11:45:00.000Z",
      "2025-04-15T14:30:00.000Z",
      "2025-04-17T11:45:00.000Z",
    ]);
    expect(rolled.diff.changed).toEqual([]);

    // The 1:1 object is edited on the server (20 Mar restored, 3 Apr moved to 15:00): one object refreshed.
    const edited = await refreshReminders(
      sink,
      objectScope(CALENDAR_URL, "sam.ics"),
      [object("sam.ics", "weekly-exdate-moved-edited.ics")],
      options("2025-03-19T00:00:00Z"),
    );
    expect(edited.diff.added.map((r) => r.fireAt.toISOString())).toEqual(["2025-03-20T12:45:00.000Z"]);
    expect(edited.diff.changed.map((r) => r.fireAt.toISOString())).toEqual(["2025-04-03T12:45:00.000Z"]);
    expect(edited.diff.removed).toEqual([]);

    // The piano object is deleted on the server; the 1:1's reminders stay.
    const deleted = await refreshReminders(
      sink,
      objectScope(CALENDAR_URL, "piano.ics"),
      [],
      options("2025-03-19T00:00:00Z"),
    );
    expect(deleted.diff.removed).toHaveLength(4);
    expect([...sink.items.values()].every((r) => r.source.href === "sam.ics")).toBe(true);
    // 1:1: 20 Mar, 28 Mar (moved), 3, 10 and 17 Apr.
    expect(sink.items.size).toBe(5);
  });
});
