/**
 * iCalendar date and date-time values as instants in a zone, and RFC 5545 duration arithmetic.
 *
 * Which zone a value is in (RFC 5545 §3.3.4, §3.3.5):
 *   - "...Z" (UTC form): UTC;
 *   - a DATE (all-day): the user's zone, midnight; DATE values carry no zone;
 *   - TZID=...: the zone the table resolves;
 *   - neither (floating): the user's zone. Never the server's or this process' zone.
 */
import ICAL from "ical.js";
import type { ZoneTable } from "./zone-table.js";
import {
  DAY_MS,
  UTC_ZONE,
  type Zone,
  formatInstantBasic,
  formatWallDateBasic,
  toInstant,
  toWall,
} from "./zone-model.js";

/** A point in time together with the zone its value was written in (needed for nominal arithmetic). */
export interface ZonedTime {
  instant: number;
  /** Wall time in `zone` (see zone-model.ts for the encoding). */
  wall: number;
  zone: Zone;
  isDate: boolean;
}

/** The wall-time encoding of an ical.js Time's fields, ignoring its zone. */
export function wallOf(t: ICAL.Time): number {
  return t.isDate
    ? Date.UTC(t.year, t.month - 1, t.day)
    : Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

/** A floating ical.js Time for a wall time (what RecurIterator iterates in). */
export function floatingTime(wall: number, isDate: boolean): ICAL.Time {
  const d = new Date(wall);
  const date = { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
  return new ICAL.Time(
    isDate
      ? { ...date, isDate: true }
      : {
          ...date,
          hour: d.getUTCHours(),
          minute: d.getUTCMinutes(),
          second: d.getUTCSeconds(),
          isDate: false,
        },
    ICAL.Timezone.localTimezone,
  );
}

/** The zone a Time value is in, given the TZID parameter of its property. */
export function zoneOf(value: ICAL.Time, tzid: string | undefined, zones: ZoneTable): Zone {
  if (value.isDate) return zones.userZone;
  if (value.zone === ICAL.Timezone.utcTimezone) return UTC_ZONE;
  if (tzid) return zones.forTzid(tzid);
  return zones.userZone;
}

export function zonedFromWall(wall: number, zone: Zone, isDate: boolean): ZonedTime {
  return { instant: toInstant(zone, wall), wall, zone, isDate };
}

export function zoned(value: ICAL.Time, tzid: string | undefined, zones: ZoneTable): ZonedTime {
  return zonedFromWall(wallOf(value), zoneOf(value, tzid, zones), value.isDate);
}

export function tzidOf(prop: ICAL.Property): string | undefined {
  const tzid = prop.getFirstParameter("tzid");
  return typeof tzid === "string" && tzid.length > 0 ? tzid : undefined;
}

/** The first value of a DATE/DATE-TIME property as a ZonedTime; undefined when absent or not a time. */
export function readTime(comp: ICAL.Component, name: string, zones: ZoneTable): ZonedTime | undefined {
  const prop = comp.getFirstProperty(name);
  if (!prop) return undefined;
  const value = prop.getFirstValue();
  return value instanceof ICAL.Time ? zoned(value, tzidOf(prop), zones) : undefined;
}

/** Every value of every property `name` (EXDATE, RDATE): Times and the starts/ends of Periods. */
export function readTimeList(
  comp: ICAL.Component,
  name: string,
  zones: ZoneTable,
): { start: ZonedTime; end?: ZonedTime; duration?: ICAL.Duration }[] {
  const out: { start: ZonedTime; end?: ZonedTime; duration?: ICAL.Duration }[] = [];
  for (const prop of comp.getAllProperties(name)) {
    const tzid = tzidOf(prop);
    for (const value of prop.getValues()) {
      if (value instanceof ICAL.Time) {
        out.push({ start: zoned(value, tzid, zones) });
      } else if (value instanceof ICAL.Period) {
        const item: { start: ZonedTime; end?: ZonedTime; duration?: ICAL.Duration } = {
          start: zoned(value.start, tzid, zones),
        };
        if (value.end) item.end = zoned(value.end, tzid, zones);
        else if (value.duration) item.duration = value.duration;
        out.push(item);
      }
    }
  }
  return out;
}

/**
 * `instant` + `duration`, RFC 5545 §3.3.6: weeks and days are nominal (the same wall-clock time N days
 * later in `zone`, so "-P1D" before a 09:00 event is 09:00 the day before even across a DST change),
 * hours, minutes and seconds are exact.
 */
export function addDuration(instant: number, zone: Zone, duration: ICAL.Duration): number {
  const sign = duration.isNegative ? -1 : 1;
  const days = duration.weeks * 7 + duration.days;
  const exact = (duration.hours * 3600 + duration.minutes * 60 + duration.seconds) * 1000;
  let result = instant;
  if (days !== 0) result = toInstant(zone, toWall(zone, instant) + sign * days * DAY_MS);
  return result + sign * exact;
}

/** RECURRENCE-ID text of an occurrence: "20250310" for all-day, "20250310T080000Z" otherwise. */
export function recurrenceIdText(t: ZonedTime): string {
  return t.isDate ? formatWallDateBasic(t.wall) : formatInstantBasic(t.instant);
}
