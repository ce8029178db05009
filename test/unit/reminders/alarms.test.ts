/** VALARM: RELATED=END, absolute triggers, REPEAT/DURATION, VTODO with DUE, default lead time. */
import { describe, expect, it } from "vitest";
import { reminderId } from "../../../src/dav/calendar/reminders/index.js";
import { CALENDAR_URL, compute, fires } from "./support/calendars.js";

// now 2025-03-10T00:00Z: window 2025-03-09T00:00Z .. 2025-04-09T00:00Z. Berlin CET (+1) until 30 Mar.
const NOW = "2025-03-10T00:00:00Z";

describe("alarms relative to the end (Evolution)", () => {
  it("anchors RELATED=END at DTEND, before and after", () => {
    const result = compute("alarm-related-end.ics", NOW, "Europe/Berlin");
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // Ends 14 Mar 16:30 CET = 15:30Z: -PT5M = 15:25Z, PT10M = 15:40Z.
      "2025-03-14T15:25:00.000Z Sprint demo",
      "2025-03-14T15:40:00.000Z Sprint demo",
    ]);
    // Evolution's "/freeassociation.sourceforge.net/Europe/Berlin" TZID resolves through its VTIMEZONE.
    expect(result.reminders[0]!.eventStart.toISOString()).toBe("2025-03-14T14:00:00.000Z");
  });
});

describe("absolute alarms (Thunderbird)", () => {
  const result = compute("absolute-alarm.ics", NOW, "Europe/Berlin");

  it("fire at their instant; on a recurring event once, beside the per-occurrence alarm", () => {
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // Absolute 20250312T163000Z on the Yoga series: once.
      "2025-03-12T16:30:00.000Z Yoga",
      // Wednesdays 18:00 CET = 17:00Z, -30 min = 16:30Z (same instant on 12 Mar, another reminder).
      "2025-03-12T16:30:00.000Z Yoga",
      "2025-03-19T16:30:00.000Z Yoga",
      // Absolute 20250324T080000Z on the all-day tax deadline.
      "2025-03-24T08:00:00.000Z Tax return due",
      "2025-03-26T16:30:00.000Z Yoga",
      // 2 Apr 18:00 CEST = 16:00Z, -30 min.
      "2025-04-02T15:30:00.000Z Yoga",
    ]);
  });

  it("report a series-level absolute alarm against the first instance, without recurrence id", () => {
    const [absolute, relative] = result.reminders;
    expect(absolute!.source.recurrenceId).toBeUndefined();
    // DTSTART Wed 5 Mar 18:00 CET = 17:00Z.
    expect(absolute!.eventStart.toISOString()).toBe("2025-03-05T17:00:00.000Z");
    expect(relative!.source.recurrenceId).toBe("20250312T170000Z");
    expect(absolute!.id).not.toBe(relative!.id);
  });
});

describe("absolute alarms copied into overrides (Thunderbird)", () => {
  // Thunderbird copies the master's VALARMs into each RECURRENCE-ID override it writes.
  const result = compute("absolute-alarm-overrides.ics", NOW, "Europe/Berlin");

  it("fire once per UID, not once more for each override that carries a copy", () => {
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // Absolute 20250312T163000Z: on the master and copied into both overrides, one reminder.
      "2025-03-12T16:30:00.000Z Yoga",
      // The 12 Mar occurrence's -30 min (same instant, another alarm).
      "2025-03-12T16:30:00.000Z Yoga",
      // 19 Mar moved to 19:00 CET = 18:00Z, -30 min.
      "2025-03-19T17:30:00.000Z Yoga",
      // An absolute alarm only the 26 Mar override has is its own.
      "2025-03-25T07:00:00.000Z Yoga in the park",
      "2025-03-26T16:30:00.000Z Yoga in the park",
      "2025-04-02T15:30:00.000Z Yoga",
    ]);
    expect(new Set(result.reminders.map((r) => r.id)).size).toBe(result.reminders.length);
  });

  it("keep the series-level id the master alone gives, so a mark already fired still counts", () => {
    const uid = result.reminders[0]!.source.uid;
    const at = (iso: string) => result.reminders.filter((r) => r.fireAt.toISOString() === iso);
    expect(
      at("2025-03-12T16:30:00.000Z")
        .map((r) => r.id)
        .sort(),
    ).toEqual(
      [
        // VALARM 1 (absolute) of the series, no recurrence id: the id the master alone gives.
        reminderId({ calendarUrl: CALENDAR_URL, uid, alarm: "1", repeat: 0 }),
        // VALARM 0 (-PT30M) of the 12 Mar occurrence.
        reminderId({
          calendarUrl: CALENDAR_URL,
          uid,
          recurrenceId: "20250312T170000Z",
          alarm: "0",
          repeat: 0,
        }),
      ].sort(),
    );
    expect(at("2025-03-25T07:00:00.000Z")[0]!.source.recurrenceId).toBe("20250326T170000Z");
  });
});

describe("absolute alarms of overrides without their master (invited to two instances)", () => {
  it("fire once, for the earliest instance whatever the order of the components in the file", () => {
    const result = compute("absolute-alarm-orphan-overrides.ics", NOW, "Europe/Berlin");
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual(["2025-03-12T16:30:00.000Z Yoga workshop (part 1)"]);
    expect(result.reminders[0]!.source.recurrenceId).toBe("20250319T170000Z");
  });
});

describe("REPEAT + DURATION (Evolution)", () => {
  it("makes each repetition its own reminder", () => {
    const result = compute("repeat-duration.ics", NOW, "Europe/Berlin");
    // 11 Mar 08:00 CET = 07:00Z; -PT15M = 06:45Z, then REPEAT:2 every PT5M.
    expect(fires(result)).toEqual([
      "2025-03-11T06:45:00.000Z Take medication",
      "2025-03-11T06:50:00.000Z Take medication",
      "2025-03-11T06:55:00.000Z Take medication",
    ]);
    expect(new Set(result.reminders.map((r) => r.id)).size).toBe(3);
  });
});

describe("VTODO with DUE (Nextcloud Tasks)", () => {
  it("anchors END at DUE, START at DUE when there is no DTSTART, and skips completed tasks", () => {
    const result = compute("vtodo-due.ics", NOW, "Europe/Berlin");
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // Undated task with an absolute alarm.
      "2025-03-12T08:00:00.000Z Call the bank",
      // DUE 20 Mar 10:00 CET = 09:00Z; -P1D relative to the start (= DUE, no DTSTART): 19 Mar 09:00Z.
      "2025-03-19T09:00:00.000Z Renew car insurance",
      // RELATED=END -PT1H: 08:00Z.
      "2025-03-20T08:00:00.000Z Renew car insurance",
      // "Return library books" is COMPLETED: no reminder.
    ]);
    expect(result.reminders.every((r) => r.component === "VTODO")).toBe(true);
    expect(result.reminders[1]!.description).toBe("Compare the two offers first.");
  });
});

describe("default lead time", () => {
  it("is off by default and applies only where no VALARM exists", () => {
    // The floating event has its own -15 min alarm: the default changes nothing there.
    const withAlarm = compute("floating-time.ics", NOW, "Europe/Berlin", { defaultAlarmMinutes: 60 });
    expect(fires(withAlarm)).toEqual(["2025-03-15T09:45:00.000Z Call with Mum"]);
    // The cancelled-occurrence override has no VALARM but is cancelled: still nothing extra.
    const cancelled = compute("cancelled-occurrence.ics", NOW, "Europe/Berlin", { defaultAlarmMinutes: 60 });
    expect(cancelled.reminders).toHaveLength(4);
  });
});
