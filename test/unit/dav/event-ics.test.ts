/** The pure iCalendar builder of the agent's events, and the zone helpers under it. */
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import { EventInputError, buildEventIcs, patchEventIcs } from "../../../src/dav/calendar/event-ics.js";
import { buildVtimezone, transitions } from "../../../src/dav/calendar/vtimezone.js";
import { instantOf, offsetMinutes, parseWallTime } from "../../../src/dav/calendar/zone.js";
import { fixture } from "./support/fake-server.js";

const NOW = new Date("2025-03-01T12:00:00Z");

/** Instants of DTSTART/DTEND read by ical.js through the object's own VTIMEZONE (a fresh service each time). */
function instants(data: string): { start: string; end: string } {
  const vcalendar = new ICAL.Component(ICAL.parse(data));
  ICAL.TimezoneService.reset();
  for (const tz of vcalendar.getAllSubcomponents("vtimezone")) ICAL.TimezoneService.register(tz);
  const vevent = vcalendar.getFirstSubcomponent("vevent")!;
  const read = (name: string) => (vevent.getFirstPropertyValue(name) as ICAL.Time).toJSDate().toISOString();
  return { start: read("dtstart"), end: read("dtend") };
}

describe("zones", () => {
  it("converts wall times to instants across DST, gaps use the offset before them", () => {
    expect(offsetMinutes(Date.parse("2025-07-01T12:00:00Z"), "Europe/Berlin")).toBe(120);
    expect(offsetMinutes(Date.parse("2025-01-01T12:00:00Z"), "America/New_York")).toBe(-300);
    const wall = parseWallTime("2025-03-30T02:30")!; // does not exist in Berlin
    expect(new Date(instantOf(wall, "Europe/Berlin")).toISOString()).toBe("2025-03-30T01:30:00.000Z");
    const overlap = parseWallTime("2025-10-26T02:30")!; // exists twice: the first one
    expect(new Date(instantOf(overlap, "Europe/Berlin")).toISOString()).toBe("2025-10-26T00:30:00.000Z");
    expect(parseWallTime("2025-02-30T10:00")).toBeUndefined();
  });

  it("finds the real transitions of a year", () => {
    const found = transitions("America/New_York", Date.UTC(2025, 0, 1), Date.UTC(2026, 0, 1));
    expect(found.map((t) => [new Date(t.at).toISOString(), t.from, t.to])).toEqual([
      ["2025-03-09T07:00:00.000Z", -300, -240],
      ["2025-11-02T06:00:00.000Z", -240, -300],
    ]);
    const tz = buildVtimezone("Australia/Lord_Howe", 2025, 2025).toString();
    expect(tz).toContain("TZOFFSETTO:+1030");
    expect(tz).toContain("TZOFFSETTO:+1100");
  });
});

describe("buildEventIcs", () => {
  it("writes a timed event with TZID, a VTIMEZONE that gives the right instants, and an alarm", () => {
    const data = buildEventIcs(
      {
        title: "Dentist",
        start: "2025-03-18T10:30",
        end: "2025-03-18T11:15",
        timeZone: "America/New_York",
        alarmMinutesBefore: 30,
        location: "350 5th Ave, New York",
        description: "Bring the insurance card",
      },
      { uid: "0d4f6a9e-1b2c-4d3e-8f5a-6b7c8d9e0f1a", now: NOW },
    );
    expect(data.endsWith("END:VCALENDAR\r\n")).toBe(true);
    expect(data.split("\r\n").every((line) => line.length <= 75)).toBe(true);
    expect(data).toContain("DTSTART;TZID=America/New_York:20250318T103000");
    expect(data).toContain("DTSTAMP:20250301T120000Z");
    expect(data).toContain("LOCATION:350 5th Ave\\, New York");
    expect(data).toContain("TRIGGER:-PT30M");
    expect(instants(data)).toEqual({ start: "2025-03-18T14:30:00.000Z", end: "2025-03-18T15:15:00.000Z" });
  });

  it("takes instants and Dates and writes them as wall time in the zone", () => {
    const data = buildEventIcs(
      {
        title: "Call",
        start: "2025-07-01T08:00:00Z",
        end: new Date("2025-07-01T09:00:00Z"),
        timeZone: "Europe/Berlin",
      },
      { uid: "u", now: NOW },
    );
    expect(data).toContain("DTSTART;TZID=Europe/Berlin:20250701T100000");
    expect(data).toContain("DTEND;TZID=Europe/Berlin:20250701T110000");
    expect(instants(data).start).toBe("2025-07-01T08:00:00.000Z");
  });

  it("writes UTC times with Z and no VTIMEZONE", () => {
    const data = buildEventIcs(
      { title: "Call", start: "2025-07-01T08:00", end: "2025-07-01T08:30", timeZone: "Etc/UTC" },
      { uid: "u", now: NOW },
    );
    expect(data).toContain("DTSTART:20250701T080000Z");
    expect(data).toContain("DTEND:20250701T083000Z");
    expect(data).not.toContain("VTIMEZONE");
    expect(data).not.toContain("TZID");
  });

  it("writes all-day events as DATE values with an exclusive end", () => {
    const one = buildEventIcs(
      { title: "Holiday", start: "2025-05-01", timeZone: "Europe/Berlin", allDay: true },
      { uid: "u", now: NOW },
    );
    expect(one).toContain("DTSTART;VALUE=DATE:20250501");
    expect(one).toContain("DTEND;VALUE=DATE:20250502");
    expect(one).not.toContain("VTIMEZONE");
  });

  it("rejects what it cannot write", () => {
    const base = {
      title: "x",
      start: "2025-03-18T10:30",
      end: "2025-03-18T11:30",
      timeZone: "Europe/Berlin",
    };
    const opts = { uid: "u", now: NOW };
    expect(() => buildEventIcs({ ...base, title: " " }, opts)).toThrow(EventInputError);
    expect(() => buildEventIcs({ ...base, timeZone: "Europe/Atlantis" }, opts)).toThrow(/unknown time zone/);
    expect(() => buildEventIcs({ ...base, end: "2025-03-18T10:00" }, opts)).toThrow(/after start/);
    expect(() => buildEventIcs({ ...base, end: undefined }, opts)).toThrow(/end is required/);
    expect(() => buildEventIcs({ ...base, start: "tomorrow" }, opts)).toThrow(/unreadable/);
    expect(() => buildEventIcs({ ...base, alarmMinutesBefore: -5 }, opts)).toThrow(/alarmMinutesBefore/);
  });
});

describe("patchEventIcs", () => {
  it("changes only what it is given on a Thunderbird event, keeping RRULE, EXDATE and X- properties", () => {
    const original = fixture("objects/thunderbird-weekly-standup.ics");
    const patched = patchEventIcs(
      original,
      { title: "Team stand-up (new room)", location: "Room 3.01", alarmMinutesBefore: 5 },
      { now: NOW, defaultZone: "UTC" },
    );
    expect(patched).toContain("SUMMARY:Team stand-up (new room)");
    expect(patched).toContain("LOCATION:Room 3.01");
    expect(patched).toContain("RRULE:FREQ=WEEKLY;BYDAY=MO");
    expect(patched).toContain("EXDATE;TZID=Europe/Berlin:20250120T093000");
    expect(patched).toContain("X-MOZ-GENERATION:2");
    expect(patched).toContain("DTSTART;TZID=Europe/Berlin:20250113T093000");
    expect(patched).toContain("SEQUENCE:2");
    expect(patched).toContain("TRIGGER:-PT5M");
    expect(patched).not.toContain("-PT10M");
    expect(patched.match(/BEGIN:VTIMEZONE/g)).toHaveLength(1);
  });

  it("moves the start keeping the length, and removes fields set to null", () => {
    const original = fixture("objects/apple-dentist.ics");
    const patched = patchEventIcs(
      original,
      { start: "2025-03-20T09:00", location: null, alarmMinutesBefore: null },
      { now: NOW, defaultZone: "UTC" },
    );
    expect(patched).toContain("DTSTART;TZID=America/New_York:20250320T090000");
    expect(patched).toContain("DTEND;TZID=America/New_York:20250320T100000");
    expect(patched).not.toContain("LOCATION");
    expect(patched).not.toContain("BEGIN:VALARM");
    expect(patched).toContain("X-APPLE-TRAVEL-ADVISORY-BEHAVIOR:AUTOMATIC");
  });

  it("moves an all-day event by days", () => {
    const patched = patchEventIcs(
      fixture("objects/google-allday-trip.ics"),
      { start: "2025-04-19" },
      { now: NOW, defaultZone: "Europe/Berlin" },
    );
    expect(patched).toContain("DTSTART;VALUE=DATE:20250419");
    expect(patched).toContain("DTEND;VALUE=DATE:20250422");
  });
});
