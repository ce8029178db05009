/**
 * Calendars as real producers export them. Every expected instant is worked out by hand in the comment
 * above it (offsets: Berlin CET +1 until 2025-03-30 01:00Z, CEST +2 after; New York EST -5 until
 * 2025-03-09 07:00Z, EDT -4 after; Los Angeles PST -8 until 2025-03-09 10:00Z, PDT -7 after).
 */
import { describe, expect, it } from "vitest";
import { CALENDAR_URL, compute, fires, USER } from "./support/calendars.js";

describe("Google Calendar export", () => {
  // now 2025-03-09T12:00Z, 30-day horizon, 24 h lookback: window 2025-03-08T12:00Z .. 2025-04-08T12:00Z.
  const result = compute("google-export.ics", "2025-03-09T12:00:00Z", "Europe/Berlin");

  it("expands the weekly standup, the UTC one-off and the yearly all-day birthday", () => {
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // EMAIL alarm -P1D (nominal day) before Mon 10 Mar 09:30 CET: Sun 9 Mar 09:30 CET = 08:30Z.
      "2025-03-09T08:30:00.000Z Team standup",
      // DISPLAY -P0DT0H10M0S before 09:30 CET = 08:30Z: 08:20Z.
      "2025-03-10T08:20:00.000Z Team standup",
      // DTSTART 15:00Z, -30 min.
      "2025-03-12T14:30:00.000Z Dentist",
      "2025-03-16T08:30:00.000Z Team standup",
      "2025-03-17T08:20:00.000Z Team standup",
      // All-day 20 Mar starts at 00:00 CET = 19 Mar 23:00Z; -15 h = 19 Mar 08:00Z (09:00 the day before).
      "2025-03-19T08:00:00.000Z Mum's birthday",
      "2025-03-23T08:30:00.000Z Team standup",
      "2025-03-24T08:20:00.000Z Team standup",
      // Mon 31 Mar 09:30 CEST = 07:30Z; the day before is Sun 30 Mar 09:30 CEST = 07:30Z (after the switch).
      "2025-03-30T07:30:00.000Z Team standup",
      "2025-03-31T07:20:00.000Z Team standup",
      "2025-04-06T07:30:00.000Z Team standup",
      "2025-04-07T07:20:00.000Z Team standup",
    ]);
  });

  it("fills every field of a reminder", () => {
    const standup = result.reminders.find((r) => r.fireAt.toISOString() === "2025-03-10T08:20:00.000Z")!;
    expect(standup).toMatchObject({
      userId: USER,
      title: "Team standup",
      location: "Room 2.14 / Google Meet",
      description: "Daily sync of the platform team.\nAgenda: https://docs.example.com/standup",
      allDay: false,
      component: "VEVENT",
      source: {
        calendarUrl: CALENDAR_URL,
        href: "google-export.ics",
        uid: "5t1q7kq0v2h8c6m4l3j9p0a1bd@google.com",
        recurrenceId: "20250310T083000Z",
      },
    });
    expect(standup.eventStart.toISOString()).toBe("2025-03-10T08:30:00.000Z");
    expect(standup.eventEnd?.toISOString()).toBe("2025-03-10T09:00:00.000Z");
    // Google writes "DESCRIPTION:" empty on the dentist: no description rather than "".
    const dentist = result.reminders.find((r) => r.title === "Dentist")!;
    expect(dentist.description).toBeUndefined();
    expect(dentist.source.recurrenceId).toBeUndefined();
    const birthday = result.reminders.find((r) => r.allDay)!;
    expect(birthday.source.recurrenceId).toBe("20250320");
    expect(birthday.eventEnd?.toISOString()).toBe("2025-03-20T23:00:00.000Z");
  });
});

describe("Apple Calendar (iCloud) export", () => {
  // now 2025-03-12T00:00Z: window 2025-03-11T00:00Z .. 2025-04-11T00:00Z.
  it("handles AUDIO alarms, ACTION:NONE placeholders, ACKNOWLEDGED and all-day -PT15H", () => {
    const result = compute("apple-icloud.ics", "2025-03-12T00:00:00Z", "America/Los_Angeles");
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // Weekly review Fri 14 Mar 16:00 PDT = 23:00Z, -10 min = 22:50Z, but ACKNOWLEDGED:20250314T225100Z
      // says the user dismissed it on another device: skipped. 19:00 PDT Fri 14 Mar = 02:00Z on the
      // 15th, -1 h (the ACTION:NONE alarm of 1976 never fires).
      "2025-03-15T01:00:00.000Z Dinner with Jo",
      // All-day 18 Mar: 00:00 PDT = 07:00Z; -PT15H = 17 Mar 16:00Z (09:00 PDT the day before).
      "2025-03-17T16:00:00.000Z Passport renewal appointment window opens",
      "2025-03-21T22:50:00.000Z Weekly review",
      "2025-03-28T22:50:00.000Z Weekly review",
      // Fri 11 Apr 22:50Z is past the window end (11 Apr 00:00Z).
      "2025-04-04T22:50:00.000Z Weekly review",
    ]);
  });

  it("gives a default alarm only to events with no VALARM at all, not to Apple's ACTION:NONE", () => {
    const result = compute("apple-icloud.ics", "2025-03-12T00:00:00Z", "America/Los_Angeles", {
      defaultAlarmMinutes: 10,
    });
    // Call the plumber 13 Mar 08:00 PDT = 15:00Z, 10 min before. "Gym" has only ACTION:NONE: nothing.
    expect(fires(result).filter((f) => !f.includes("Weekly review"))).toEqual([
      "2025-03-13T14:50:00.000Z Call the plumber",
      "2025-03-15T01:00:00.000Z Dinner with Jo",
      "2025-03-17T16:00:00.000Z Passport renewal appointment window opens",
    ]);
  });
});

describe("Outlook / Exchange export", () => {
  // now 2025-03-10T00:00Z: window 2025-03-09T00:00Z .. 2025-04-09T00:00Z.
  it("reads Windows-named VTIMEZONEs starting in 1601 and keeps the UNTIL occurrence", () => {
    const result = compute("outlook-exchange.ics", "2025-03-10T00:00:00Z", "Europe/Berlin");
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // Tuesdays 09:00 "W. Europe Standard Time" (CET) = 08:00Z, -15 min.
      "2025-03-11T07:45:00.000Z Migration project sync",
      // "Eastern Standard Time" 12 Mar 10:00, already daylight time (-4) = 14:00Z, -15 min.
      "2025-03-12T13:45:00.000Z Call with the New York office",
      "2025-03-18T07:45:00.000Z Migration project sync",
      // UNTIL=20250325T080000Z is exactly this occurrence (09:00 CET): inclusive.
      "2025-03-25T07:45:00.000Z Migration project sync",
    ]);
  });

  it("maps bare Windows zone names and reports an unknown TZID (read in the user's zone)", () => {
    // Invitations stored without their VTIMEZONE. "Customized Time Zone" is what Outlook writes for a
    // zone it cannot name.
    const result = compute("windows-tzid-no-vtimezone.ics", "2025-03-10T00:00:00Z", "Europe/Berlin");
    expect(fires(result)).toEqual([
      // Eastern Standard Time -> America/New_York: 12 Mar 09:00 EDT = 13:00Z, -15 min.
      "2025-03-12T12:45:00.000Z Vendor call (New York)",
      // Unknown zone, read in Europe/Berlin: 13 Mar 10:00 CET = 09:00Z, -15 min.
      "2025-03-13T08:45:00.000Z Site visit",
      // W. Europe Standard Time -> Europe/Berlin: 31 Mar 10:00 CEST = 08:00Z, -15 min.
      "2025-03-31T07:45:00.000Z Q2 planning",
    ]);
    expect(result.problems).toEqual([
      `unknown TZID "Customized Time Zone": read in the user's zone Europe/Berlin`,
    ]);
  });
});

describe("Thunderbird / Lightning export", () => {
  it("fires the event alarm and the to-do's alarm relative to DUE, and skips completed to-dos", () => {
    const result = compute("thunderbird-lightning.ics", "2025-03-10T00:00:00Z", "Europe/Berlin");
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // VTODO DUE 21 Mar 17:00 CET = 16:00Z; RELATED=END -PT1H = 15:00Z.
      "2025-03-21T15:00:00.000Z Submit expense report",
      // 26 Mar 14:00 CET = 13:00Z; -PT1H.
      "2025-03-26T12:00:00.000Z Quarterly review",
    ]);
    const todo = result.reminders[0]!;
    expect(todo.component).toBe("VTODO");
    // DTSTART 14 Mar 09:00 CET = 08:00Z is the start; DUE the end.
    expect(todo.eventStart.toISOString()).toBe("2025-03-14T08:00:00.000Z");
    expect(todo.eventEnd?.toISOString()).toBe("2025-03-21T16:00:00.000Z");
  });
});
