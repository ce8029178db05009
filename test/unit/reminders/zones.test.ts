/**
 * Time zones: embedded VTIMEZONE across a DST change (and its gap), a bare IANA TZID across the
 * autumn overlap, floating times and all-day dates in the user's zone, and the zone model itself.
 */
import ICAL from "ical.js";
import { describe, expect, it } from "vitest";
import { ianaZone } from "../../../src/dav/calendar/reminders/iana-zone.js";
import { vtimezoneZone } from "../../../src/dav/calendar/reminders/vtimezone-zone.js";
import { WINDOWS_TO_IANA, windowsZoneToIana } from "../../../src/dav/calendar/reminders/windows-zones.js";
import { HOUR_MS, toInstant, type Zone } from "../../../src/dav/calendar/reminders/zone-model.js";
import { compute, fires, fixture } from "./support/calendars.js";

describe("America/New_York with its VTIMEZONE (DST starts Sun 9 Mar 2025 02:00 EST)", () => {
  // now 2025-03-06T00:00Z; the user is in Berlin, which must not matter for TZID times.
  const result = compute("new-york-vtimezone.ics", "2025-03-06T00:00:00Z", "Europe/Berlin");

  it("keeps 07:00 local on both sides of the change, and reads 02:30 in the gap as RFC 5545 says", () => {
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // 07:00 EST (-5) = 12:00Z, -10 min.
      "2025-03-06T11:50:00.000Z Morning run",
      "2025-03-07T11:50:00.000Z Morning run",
      // Night shift 02:30 EST = 07:30Z, alarm at the start.
      "2025-03-08T07:30:00.000Z Night shift handover",
      "2025-03-08T11:50:00.000Z Morning run",
      // 9 Mar 02:30 does not exist; RFC 5545 §3.3.5: the offset before the gap (EST) -> 07:30Z (03:30 EDT).
      "2025-03-09T07:30:00.000Z Night shift handover",
      // 07:00 EDT (-4) = 11:00Z, -10 min.
      "2025-03-09T10:50:00.000Z Morning run",
      // 10 Mar 02:30 EDT = 06:30Z.
      "2025-03-10T06:30:00.000Z Night shift handover",
      "2025-03-10T10:50:00.000Z Morning run",
      "2025-03-11T10:50:00.000Z Morning run",
      // COUNT=7: 6..12 March.
      "2025-03-12T10:50:00.000Z Morning run",
    ]);
  });
});

describe("TZID without VTIMEZONE (resolved as an IANA zone through Intl)", () => {
  it("follows New York across the autumn overlap and Berlin's, taking the first 01:30/02:30", () => {
    const result = compute("bare-tzid.ics", "2025-10-25T00:00:00Z", "Asia/Tokyo");
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // Berlin 26 Oct 02:30 happens twice (CEST, then CET); the first is 00:30Z; -10 min.
      "2025-10-26T00:20:00.000Z Backup window",
      // Berlin 27 Oct 09:00 CET = 08:00Z; -10 min.
      "2025-10-27T07:50:00.000Z Retro",
      // New York 01:30 EDT (-4) = 05:30Z, -10 min: 31 Oct, 1 Nov, and 2 Nov's first 01:30 (still EDT).
      "2025-10-31T05:20:00.000Z Late call with the NYC team",
      "2025-11-01T05:20:00.000Z Late call with the NYC team",
      "2025-11-02T05:20:00.000Z Late call with the NYC team",
      // 3 Nov 01:30 EST (-5) = 06:30Z.
      "2025-11-03T06:20:00.000Z Late call with the NYC team",
    ]);
  });
});

describe("floating time", () => {
  it("is read in the user's zone", () => {
    // DTSTART:20250315T110000 (no Z, no TZID), alarm -15 min.
    // Berlin: 11:00 CET = 10:00Z -> 09:45Z. New York: 11:00 EDT = 15:00Z -> 14:45Z.
    expect(fires(compute("floating-time.ics", "2025-03-10T00:00:00Z", "Europe/Berlin"))).toEqual([
      "2025-03-15T09:45:00.000Z Call with Mum",
    ]);
    expect(fires(compute("floating-time.ics", "2025-03-10T00:00:00Z", "America/New_York"))).toEqual([
      "2025-03-15T14:45:00.000Z Call with Mum",
    ]);
  });
});

describe("all-day events", () => {
  it("start at midnight in the user's zone (Berlin), with exact hours across the 23-hour day", () => {
    const result = compute("all-day.ics", "2025-03-20T00:00:00Z", "Europe/Berlin");
    expect(result.problems).toEqual([]);
    expect(fires(result)).toEqual([
      // 27 Mar 00:00 CET = 26 Mar 23:00Z; -PT15H = 26 Mar 08:00Z (09:00 the day before).
      "2025-03-26T08:00:00.000Z Company offsite",
      // Ends 29 Mar 00:00 CET = 28 Mar 23:00Z; RELATED=END -PT6H = 17:00Z.
      "2025-03-28T17:00:00.000Z Company offsite",
      // 30 Mar 00:00 CET = 29 Mar 23:00Z; PT9H is exact (RFC 5545 §3.3.6) = 30 Mar 08:00Z, 10:00 CEST.
      "2025-03-30T08:00:00.000Z Clocks go forward",
    ]);
    const offsite = result.reminders[0]!;
    expect(offsite.allDay).toBe(true);
    expect(offsite.eventStart.toISOString()).toBe("2025-03-26T23:00:00.000Z");
    expect(offsite.eventEnd?.toISOString()).toBe("2025-03-28T23:00:00.000Z");
    // The 23-hour day ends at 31 Mar 00:00 CEST = 30 Mar 22:00Z.
    expect(result.reminders[2]!.eventEnd?.toISOString()).toBe("2025-03-30T22:00:00.000Z");
  });

  it("move with the user's zone (New York)", () => {
    expect(fires(compute("all-day.ics", "2025-03-20T00:00:00Z", "America/New_York"))).toEqual([
      // 27 Mar 00:00 EDT = 04:00Z; -15 h = 26 Mar 13:00Z.
      "2025-03-26T13:00:00.000Z Company offsite",
      // 29 Mar 00:00 EDT = 04:00Z; -6 h = 28 Mar 22:00Z.
      "2025-03-28T22:00:00.000Z Company offsite",
      // 30 Mar 00:00 EDT = 04:00Z; +9 h.
      "2025-03-30T13:00:00.000Z Clocks go forward",
    ]);
  });
});

describe("zone model", () => {
  const utc = (s: string) => Date.parse(s);
  const wall = (s: string) => Date.parse(`${s}Z`);

  it("converts New York and Berlin wall times with RFC 5545 gap and overlap rules (Intl)", () => {
    const ny = ianaZone("America/New_York")!;
    const berlin = ianaZone("Europe/Berlin")!;
    expect(toInstant(ny, wall("2025-03-09T01:59:59"))).toBe(utc("2025-03-09T06:59:59Z"));
    expect(toInstant(ny, wall("2025-03-09T02:30:00"))).toBe(utc("2025-03-09T07:30:00Z")); // gap
    expect(toInstant(ny, wall("2025-03-09T03:00:00"))).toBe(utc("2025-03-09T07:00:00Z"));
    expect(toInstant(ny, wall("2025-11-02T01:30:00"))).toBe(utc("2025-11-02T05:30:00Z")); // overlap: EDT
    expect(toInstant(ny, wall("2025-11-02T02:00:00"))).toBe(utc("2025-11-02T07:00:00Z"));
    expect(toInstant(berlin, wall("2025-03-30T02:30:00"))).toBe(utc("2025-03-30T01:30:00Z")); // gap: CET
    expect(toInstant(berlin, wall("2025-10-26T02:30:00"))).toBe(utc("2025-10-26T00:30:00Z")); // overlap: CEST
    expect(ianaZone("Mars/Olympus_Mons")).toBeUndefined();
  });

  it("agrees with Intl for embedded VTIMEZONEs (Google's Berlin, Outlook's 1601 Eastern) hour by hour", () => {
    const zoneFrom = (file: string, tzid: string): Zone => {
      const root = new ICAL.Component(ICAL.parse(fixture(file)));
      const comp = root
        .getAllSubcomponents("vtimezone")
        .find((c) => c.getFirstPropertyValue("tzid") === tzid)!;
      return vtimezoneZone(comp, tzid)!;
    };
    const pairs: [Zone, Zone][] = [
      [zoneFrom("google-export.ics", "Europe/Berlin"), ianaZone("Europe/Berlin")!],
      [zoneFrom("outlook-exchange.ics", "Eastern Standard Time"), ianaZone("America/New_York")!],
      [zoneFrom("outlook-exchange.ics", "W. Europe Standard Time"), ianaZone("Europe/Berlin")!],
    ];
    for (const [embedded, intl] of pairs) {
      let mismatches = 0;
      for (let t = utc("2024-01-01T00:00:00Z"); t < utc("2027-01-01T00:00:00Z"); t += HOUR_MS) {
        if (embedded.offsetAt(t) !== intl.offsetAt(t)) mismatches++;
      }
      expect(mismatches).toBe(0);
    }
    // And the change instant itself, to the second: Berlin goes to CEST at 2025-03-30T01:00:00Z.
    const berlin = pairs[0]![0];
    expect(berlin.offsetAt(utc("2025-03-30T00:59:59Z"))).toBe(HOUR_MS);
    expect(berlin.offsetAt(utc("2025-03-30T01:00:00Z"))).toBe(2 * HOUR_MS);
    expect(ianaZone("Europe/Berlin")!.offsetAt(utc("2025-03-30T01:00:00Z"))).toBe(2 * HOUR_MS);
    expect(ianaZone("Europe/Berlin")!.offsetAt(utc("2025-03-30T00:59:59Z"))).toBe(HOUR_MS);
  });

  it("maps Windows zone names to zones Intl knows", () => {
    expect(windowsZoneToIana("W. Europe Standard Time")).toBe("Europe/Berlin");
    expect(windowsZoneToIana("Eastern Standard Time")).toBe("America/New_York");
    expect(windowsZoneToIana("Customized Time Zone")).toBeUndefined();
    // Every mapped name resolves and has the offset its Windows name promises in January 2025.
    const expectations: [string, number][] = [
      ["GMT Standard Time", 0],
      ["Romance Standard Time", 1],
      ["India Standard Time", 5.5],
      ["Tokyo Standard Time", 9],
      ["AUS Eastern Standard Time", 11],
      ["Pacific Standard Time", -8],
      ["Nepal Standard Time", 5.75],
    ];
    for (const [name, hours] of expectations) {
      const zone = ianaZone(windowsZoneToIana(name)!)!;
      expect(zone.offsetAt(utc("2025-01-15T12:00:00Z"))).toBe(hours * HOUR_MS);
    }
    const unknown = Object.entries(WINDOWS_TO_IANA).filter(([, iana]) => ianaZone(iana) === undefined);
    expect(unknown).toEqual([]);
  });
});
