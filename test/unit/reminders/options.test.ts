/** Options: validation, the window (horizon, lookback), problems on bad data instead of throws. */
import { describe, expect, it } from "vitest";
import { computeReminders } from "../../../src/dav/calendar/reminders/index.js";
import { InputError } from "../../../src/errors/index.js";
import { CALENDAR_URL, USER, compute, fires, fixture } from "./support/calendars.js";

const base = { userId: USER, now: new Date("2025-03-10T00:00:00Z"), userTimeZone: "Europe/Berlin" };
const object = { calendarUrl: CALENDAR_URL, href: "a.ics", data: fixture("floating-time.ics") };

describe("options", () => {
  it.each([
    [{ userTimeZone: "Berlin" }, "userTimeZone"],
    [{ now: new Date("nope") }, "now"],
    [{ horizonDays: 0 }, "horizonDays"],
    [{ lookbackMinutes: -1 }, "lookbackMinutes"],
    [{ maxIterations: 0 }, "maxIterations"],
    [{ defaultAlarmMinutes: -5 }, "defaultAlarmMinutes"],
    [{ userId: "" }, "userId"],
  ])("rejects %o naming the option", (bad, option) => {
    let error: unknown;
    try {
      computeReminders(object, { ...base, ...bad });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).code).toBe("REMINDER_OPTIONS_INVALID");
    expect((error as InputError).message).toContain(option);
  });

  it("limits reminders to the horizon", () => {
    // The standup's reminders up to 8 Apr with 30 days; with 7 days only up to 16 Mar 12:00Z.
    const week = compute("google-export.ics", "2025-03-09T12:00:00Z", "Europe/Berlin", { horizonDays: 7 });
    expect(fires(week)).toEqual([
      "2025-03-09T08:30:00.000Z Team standup",
      "2025-03-10T08:20:00.000Z Team standup",
      "2025-03-12T14:30:00.000Z Dentist",
      "2025-03-16T08:30:00.000Z Team standup",
    ]);
  });

  it("keeps a just-missed reminder within the lookback (default 24 h) and drops older ones", () => {
    // The call's alarm fires at 15 Mar 09:45Z. At 10:30Z it is 45 min old.
    const now = "2025-03-15T10:30:00Z";
    expect(fires(compute("floating-time.ics", now, "Europe/Berlin"))).toEqual([
      "2025-03-15T09:45:00.000Z Call with Mum",
    ]);
    expect(compute("floating-time.ics", now, "Europe/Berlin", { lookbackMinutes: 30 }).reminders).toEqual([]);
  });

  it("skips malformed values with a problem and keeps the rest of the object", () => {
    const result = compute("malformed-values.ics", "2025-03-10T00:00:00Z", "UTC");
    expect(fires(result)).toEqual([
      "2025-03-11T09:50:00.000Z Good event",
      // The unreadable alarm is skipped; the -PT5M one fires; the -PT1M one once (REPEAT without DURATION).
      "2025-03-12T09:55:00.000Z One bad alarm",
      "2025-03-12T09:59:00.000Z One bad alarm",
    ]);
    expect(result.problems).toEqual([
      'truncated-1@example.com: skipped, unreadable value: invalid date-time value: "2025-03-1T::"',
      'bad-alarm-1@example.com: VALARM 0 unreadable: invalid duration value: Not enough duration components in "15 minutes before"',
      "bad-alarm-1@example.com: VALARM 2 has REPEAT without a positive DURATION; repetitions ignored",
    ]);
  });

  it("records unparseable data as a problem rather than throwing", () => {
    const result = computeReminders({ ...object, data: "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" }, base);
    expect(result.reminders).toEqual([]);
    expect(result.problems[0]).toMatch(/^unparseable iCalendar: /);
  });
});
