/**
 * Recurrence sets: EXDATE, moved and cancelled occurrences, RANGE=THISANDFUTURE, the iteration budget
 * and rules ical.js would spin on. Berlin is CET (+1) until 2025-03-30 01:00Z and CEST (+2) after.
 */
import { describe, expect, it } from "vitest";
import { compute, fires } from "./support/calendars.js";

// now 2025-03-10T00:00Z: window 2025-03-09T00:00Z .. 2025-04-09T00:00Z.
const NOW = "2025-03-10T00:00:00Z";

describe("weekly event with an EXDATE and one moved occurrence", () => {
  const result = compute("weekly-exdate-moved.ics", NOW, "Europe/Berlin");

  it("drops the excluded Thursday and fires the moved one at its new time with its own alarm", () => {
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // Thu 13 Mar 14:00 CET = 13:00Z, -15 min. (Thu 6 Mar fired before the window.)
      "2025-03-13T12:45:00.000Z 1:1 with Sam",
      // Thu 20 Mar: EXDATE. Thu 27 Mar moved to Fri 28 Mar 16:00 CET = 15:00Z; its own alarm is -5 min.
      "2025-03-28T14:55:00.000Z 1:1 with Sam (moved)",
      // Thu 3 Apr 14:00 CEST = 12:00Z, -15 min. Thu 10 Apr is past the window.
      "2025-04-03T11:45:00.000Z 1:1 with Sam",
    ]);
  });

  it("identifies the moved occurrence by its original slot", () => {
    const moved = result.reminders[1]!;
    // RECURRENCE-ID 27 Mar 14:00 CET = 13:00Z.
    expect(moved.source.recurrenceId).toBe("20250327T130000Z");
    expect(moved.eventStart.toISOString()).toBe("2025-03-28T15:00:00.000Z");
  });
});

describe("RANGE=THISANDFUTURE", () => {
  it("moves, renames and re-alarms every occurrence from the override on", () => {
    const result = compute("this-and-future.ics", NOW, "Europe/Berlin");
    expect(result.problems).toEqual([]);
    expect(
      result.reminders.map((r) => [r.fireAt.toISOString(), r.title, r.source.recurrenceId, r.location]),
    ).toEqual([
      // Fri 14 Mar 12:00 CET = 11:00Z, master alarm -10 min.
      ["2025-03-14T10:50:00.000Z", "Team lunch", "20250314T110000Z", "Canteen"],
      // The override itself: 21 Mar 12:30 CET = 11:30Z, its alarm -20 min.
      ["2025-03-21T11:10:00.000Z", "Team lunch (new place)", "20250321T110000Z", "Trattoria Da Luigi"],
      // 28 Mar: 12:00 shifted by the override's +30 min on the wall clock = 12:30 CET = 11:30Z, -20 min.
      ["2025-03-28T11:10:00.000Z", "Team lunch (new place)", "20250328T110000Z", "Trattoria Da Luigi"],
      // 4 Apr: 12:30 CEST = 10:30Z, -20 min; the slot (recurrence id) is the original 12:00 CEST = 10:00Z.
      ["2025-04-04T10:10:00.000Z", "Team lunch (new place)", "20250404T100000Z", "Trattoria Da Luigi"],
    ]);
    // The derived occurrences take the override's one-hour duration.
    expect(result.reminders[3]!.eventEnd?.toISOString()).toBe("2025-04-04T11:30:00.000Z");
  });
});

describe("cancelled occurrence (STATUS:CANCELLED override, as Google CalDAV writes it)", () => {
  it("skips the cancelled Tuesday only", () => {
    const result = compute("cancelled-occurrence.ics", NOW, "Europe/Berlin");
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // Tuesdays 17:00, -30 min: 16:30 CET = 15:30Z; 18 Mar cancelled; 16:30 CEST = 14:30Z from 1 Apr.
      "2025-03-11T15:30:00.000Z Piano lesson",
      "2025-03-25T15:30:00.000Z Piano lesson",
      "2025-04-01T14:30:00.000Z Piano lesson",
      "2025-04-08T14:30:00.000Z Piano lesson",
    ]);
  });
});

describe("iteration budget", () => {
  // FREQ=SECONDLY;COUNT=100000 from 2025-03-10T09:00:00Z, alarm at the start.
  it("stops at maxIterations (default 10 000) and says so", () => {
    const result = compute("budget-secondly.ics", "2025-03-10T09:00:00Z", "UTC");
    // 10 000 steps give the occurrences 09:00:00 .. 09:00:00 + 9 999 s = 11:46:39.
    expect(result.reminders).toHaveLength(10_000);
    expect(result.reminders[0]!.fireAt.toISOString()).toBe("2025-03-10T09:00:00.000Z");
    expect(result.reminders.at(-1)!.fireAt.toISOString()).toBe("2025-03-10T11:46:39.000Z");
    expect(result.problems).toEqual([
      "iteration budget of 10000 exhausted (while expanding e6f8a0b2-c4d6-4e8f-9a0b-2c4d6e8f0a2b): later occurrences were not computed",
    ]);
  });

  it("honours a smaller budget", () => {
    const result = compute("budget-secondly.ics", "2025-03-10T09:00:00Z", "UTC", { maxIterations: 250 });
    expect(result.reminders).toHaveLength(250);
    // 09:00:00 + 249 s = 09:04:09.
    expect(result.reminders.at(-1)!.fireAt.toISOString()).toBe("2025-03-10T09:04:09.000Z");
    expect(result.problems).toHaveLength(1);
  });

  it("is not touched by a short series", () => {
    const result = compute("weekly-exdate-moved.ics", NOW, "Europe/Berlin", { maxIterations: 40 });
    expect(result.problems).toEqual([]);
    expect(result.reminders).toHaveLength(3);
  });
});

describe("rules ical.js would spin on", () => {
  it("refuses them with a problem and keeps DTSTART as the only instance", () => {
    const result = compute("impossible-rules.ics", NOW, "UTC");
    expect(fires(result)).toEqual([
      "2025-03-10T09:00:00.000Z Every 30th of February",
      "2025-03-11T09:00:00.000Z Second Monday of every day",
      "2025-03-12T09:00:00.000Z Every minute in February",
    ]);
    expect(result.problems).toEqual([
      "f7a9b1c3-d5e7-4f9a-8b1c-3d5e7f9a1b3c: RRULE refused: BYMONTHDAY=30 never falls in BYMONTH=2",
      "a8b0c2d4-e6f8-4a0b-9c2d-4e6f8a0b2c4d: RRULE refused: an ordinal BYDAY (2MO) is not allowed with FREQ=DAILY",
      "b9c1d3e5-f7a9-4b1c-8d3e-5f7a9b1c3d5e: RRULE refused: FREQ=MINUTELY with BYMONTH is not supported (ical.js steps through every minute)",
    ]);
  });
});

describe("long-running series", () => {
  it("reaches today from a DTSTART years back without spending the budget (fast-forward)", () => {
    // The standup has run weekly since 3 Mar 2025; asked about March 2035 with a budget of 40 steps
    // (the yearly birthday in the same file takes 16 of them, 2020..2035), the weekly rule starts near the
    // window instead of walking 520 weeks.
    const result = compute("google-export.ics", "2035-03-05T12:00:00Z", "Europe/Berlin", {
      maxIterations: 40,
    });
    const standup = fires(result).filter((f) => f.endsWith("Team standup"));
    // Window from Sun 4 Mar 2035 12:00Z. Mon 5 Mar 2035 09:30 CET = 08:30Z: DISPLAY at 08:20Z (its EMAIL
    // alarm, Sun 08:30Z, is before the window); Mon 12 Mar: EMAIL Sun 11 Mar 08:30Z, DISPLAY 08:20Z.
    expect(standup.slice(0, 3)).toEqual([
      "2035-03-05T08:20:00.000Z Team standup",
      "2035-03-11T08:30:00.000Z Team standup",
      "2035-03-12T08:20:00.000Z Team standup",
    ]);
    expect(result.problems).toEqual([]);
  });
});
