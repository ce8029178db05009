/**
 * Pure iCalendar building for the agent's events (ical.js): a new VCALENDAR with one VEVENT, or a
 * patch of an existing object that keeps everything we do not touch (attendees, RRULE, X- props).
 *
 * Times: a timed event is written with `TZID=<IANA zone>` and a generated VTIMEZONE for the years it
 * spans (vtimezone.ts), so any client reads the same instant; all-day events are DATE values
 * (floating by nature, read in the user's zone), DTEND exclusive (RFC 5545 §3.6.1).
 */
import ICAL from "ical.js";
import { buildVtimezone } from "./vtimezone.js";
import { type WallTime, addDays, instantOf, isValidZone, parseWallTime, wallAt } from "./zone.js";

export interface EventInput {
  /** SUMMARY. Required, non-empty. */
  title: string;
  /**
   * Start: a wall-clock time in `timeZone` ("2025-03-10T09:00", seconds optional), an instant with
   * an offset ("2025-03-10T08:00:00Z", "...+01:00") or a Date (converted to `timeZone`). All-day
   * events: a date "2025-03-10".
   */
  start: string | Date;
  /** End, same forms; after start. All-day: the last day or the day after (exclusive); default one day. */
  end?: string | Date;
  /** IANA zone, e.g. "Europe/Berlin". Required. */
  timeZone: string;
  /** DATE values instead of DATE-TIMEs. Default false. */
  allDay?: boolean;
  /** One DISPLAY alarm this many minutes before the start (0 = at the start); 0..40320 (four weeks). */
  alarmMinutesBefore?: number;
  description?: string;
  location?: string;
}

/** Fields to change in an existing event; `null` removes description, location or the alarms. */
export type EventPatch = Partial<Omit<EventInput, "description" | "location" | "alarmMinutesBefore">> & {
  description?: string | null;
  location?: string | null;
  alarmMinutesBefore?: number | null;
};

export class EventInputError extends Error {}

export const PRODID = "-//email-channel//CalDAV write path//EN";
const MAX_ALARM_MINUTES = 40_320;
const UTC_ZONES = /^(?:Etc\/)?(?:UTC|UCT|GMT|Zulu|Universal)$/i;

interface Span {
  start: WallTime;
  end: WallTime;
  allDay: boolean;
}

/** Builds a complete VCALENDAR for a new event. */
export function buildEventIcs(input: EventInput, options: { uid: string; now: Date }): string {
  validateText(input);
  const span = resolveSpan(input.start, input.end, input.timeZone, input.allDay ?? false);
  const vcalendar = new ICAL.Component("vcalendar");
  vcalendar.addPropertyWithValue("prodid", PRODID);
  vcalendar.addPropertyWithValue("version", "2.0");
  vcalendar.addPropertyWithValue("calscale", "GREGORIAN");
  const vevent = new ICAL.Component("vevent");
  vevent.addPropertyWithValue("uid", options.uid);
  const stamp = ICAL.Time.fromJSDate(options.now, true);
  vevent.addPropertyWithValue("dtstamp", stamp);
  vevent.addPropertyWithValue("created", stamp.clone());
  vevent.addPropertyWithValue("last-modified", stamp.clone());
  vevent.addPropertyWithValue("sequence", 0);
  vevent.addPropertyWithValue("summary", input.title);
  setSpan(vcalendar, vevent, span, input.timeZone);
  if (input.description) vevent.addPropertyWithValue("description", input.description);
  if (input.location) vevent.addPropertyWithValue("location", input.location);
  if (input.alarmMinutesBefore !== undefined)
    vevent.addSubcomponent(alarm(input.alarmMinutesBefore, input.title));
  vcalendar.addSubcomponent(vevent);
  return vcalendar.toString() + "\r\n";
}

/** Applies a patch to an existing object's master VEVENT; bumps SEQUENCE, DTSTAMP and LAST-MODIFIED. */
export function patchEventIcs(
  data: string,
  patch: EventPatch,
  options: { now: Date; defaultZone: string },
): string {
  let vcalendar: ICAL.Component;
  try {
    vcalendar = new ICAL.Component(ICAL.parse(data));
  } catch (cause) {
    throw new EventInputError(`the stored event cannot be parsed: ${(cause as Error).message}`, { cause });
  }
  const vevent = vcalendar.getAllSubcomponents("vevent").find((e) => !e.hasProperty("recurrence-id"));
  if (!vevent) throw new EventInputError("the object holds no VEVENT master");
  if (patch.title !== undefined) {
    if (patch.title.trim() === "") throw new EventInputError("title must not be empty");
    vevent.updatePropertyWithValue("summary", patch.title);
  }
  for (const field of ["description", "location"] as const) {
    const value = patch[field];
    if (value === null) vevent.removeAllProperties(field);
    else if (value !== undefined) vevent.updatePropertyWithValue(field, value);
  }
  const timing =
    patch.start !== undefined ||
    patch.end !== undefined ||
    patch.timeZone !== undefined ||
    patch.allDay !== undefined;
  if (timing) {
    const oldStart = vevent.getFirstProperty("dtstart");
    const zone =
      patch.timeZone ?? (oldStart?.getParameter("tzid") as string | undefined) ?? options.defaultZone;
    const oldStartTime = oldStart?.getFirstValue() as ICAL.Time | undefined;
    const allDay = patch.allDay ?? oldStartTime?.isDate ?? false;
    const start = patch.start ?? (oldStartTime ? icalToInput(oldStartTime, allDay) : undefined);
    if (start === undefined) throw new EventInputError("the event has no start; give one");
    let end = patch.end;
    if (end === undefined && patch.start !== undefined && oldStartTime) {
      // Moving the start keeps the event's length (wall-clock duration).
      const oldEnd = vevent.getFirstPropertyValue("dtend") as ICAL.Time | null;
      if (oldEnd) {
        const moved = parseWallish(start, zone, allDay);
        const seconds = oldEnd.subtractDate(oldStartTime).toSeconds();
        end = allDay
          ? formatDate(addDays(moved, Math.round(seconds / 86_400)))
          : new Date(instantOf(moved, zone) + seconds * 1000);
      }
    } else if (end === undefined) {
      const oldEnd = vevent.getFirstPropertyValue("dtend") as ICAL.Time | null;
      if (oldEnd) end = icalToInput(oldEnd, allDay);
    }
    setSpan(vcalendar, vevent, resolveSpan(start, end, zone, allDay), zone);
  }
  if (patch.alarmMinutesBefore !== undefined) {
    for (const a of vevent.getAllSubcomponents("valarm")) vevent.removeSubcomponent(a);
    if (patch.alarmMinutesBefore !== null) {
      const title = (vevent.getFirstPropertyValue("summary") as string | null) ?? "";
      vevent.addSubcomponent(alarm(patch.alarmMinutesBefore, title));
    }
  }
  const stamp = ICAL.Time.fromJSDate(options.now, true);
  vevent.updatePropertyWithValue("dtstamp", stamp);
  vevent.updatePropertyWithValue("last-modified", stamp.clone());
  const sequence = Number(vevent.getFirstPropertyValue("sequence") ?? 0);
  vevent.updatePropertyWithValue("sequence", Number.isFinite(sequence) ? sequence + 1 : 1);
  return vcalendar.toString() + "\r\n";
}

/** The UID of the master VEVENT of an object. */
export function eventUid(data: string): string | undefined {
  const vcalendar = new ICAL.Component(ICAL.parse(data));
  const uid = vcalendar.getFirstSubcomponent("vevent")?.getFirstPropertyValue("uid");
  return typeof uid === "string" ? uid : undefined;
}

function validateText(input: EventInput): void {
  if (typeof input.title !== "string" || input.title.trim() === "")
    throw new EventInputError("title must not be empty");
}

function resolveSpan(
  start: string | Date,
  end: string | Date | undefined,
  zone: string,
  allDay: boolean,
): Span {
  if (!isValidZone(zone))
    throw new EventInputError(`unknown time zone ${JSON.stringify(zone)} (expected an IANA name)`);
  const s = parseWallish(start, zone, allDay);
  if (allDay) {
    let e = end === undefined ? addDays(s, 1) : parseWallish(end, zone, true);
    // An all-day end equal to the start day means "that one day": make it exclusive.
    if (compareWall(e, s) === 0) e = addDays(s, 1);
    if (compareWall(e, s) < 0) throw new EventInputError("end must not be before start");
    return { start: s, end: e, allDay };
  }
  if (end === undefined) throw new EventInputError("end is required for a timed event");
  const e = parseWallish(end, zone, false);
  if (instantOf(e, zone) <= instantOf(s, zone)) throw new EventInputError("end must be after start");
  return { start: s, end: e, allDay };
}

/** A start/end input as wall time in `zone` (dates for all-day). */
function parseWallish(value: string | Date, zone: string, allDay: boolean): WallTime {
  let wall: WallTime | undefined;
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new EventInputError("invalid Date");
    wall = wallAt(value.getTime(), zone);
  } else if (/(?:Z|[+-]\d{2}:?\d{2})$/i.test(value.trim()) && value.includes("T")) {
    const at = Date.parse(value);
    if (Number.isNaN(at)) throw new EventInputError(`unreadable time ${JSON.stringify(value)}`);
    wall = wallAt(at, zone);
  } else {
    wall = parseWallTime(value);
    if (!wall)
      throw new EventInputError(`unreadable time ${JSON.stringify(value)} (expected 2025-03-10T09:00)`);
  }
  return allDay ? { ...wall, hour: 0, minute: 0, second: 0 } : wall;
}

function compareWall(a: WallTime, b: WallTime): number {
  const k = (w: WallTime) => Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return k(a) - k(b);
}

function formatDate(w: WallTime): string {
  return `${w.year}-${String(w.month).padStart(2, "0")}-${String(w.day).padStart(2, "0")}`;
}

/** An existing DTSTART/DTEND as input again (wall string in its own zone, or its instant when UTC). */
function icalToInput(t: ICAL.Time, allDay: boolean): string | Date {
  if (allDay || t.isDate)
    return formatDate({ year: t.year, month: t.month, day: t.day, hour: 0, minute: 0, second: 0 });
  if (t.zone?.tzid === "UTC") return t.toJSDate();
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${t.year}-${pad(t.month)}-${pad(t.day)}T${pad(t.hour)}:${pad(t.minute)}:${pad(t.second)}`;
}

function setSpan(vcalendar: ICAL.Component, vevent: ICAL.Component, span: Span, zone: string): void {
  vevent.removeAllProperties("dtstart");
  vevent.removeAllProperties("dtend");
  vevent.removeAllProperties("duration");
  // UTC needs no VTIMEZONE: RFC 5545 §3.3.5 form #2, "20250318T103000Z".
  const utc = !span.allDay && UTC_ZONES.test(zone);
  const toTime = (w: WallTime) =>
    ICAL.Time.fromData(
      span.allDay
        ? { year: w.year, month: w.month, day: w.day, isDate: true }
        : {
            year: w.year,
            month: w.month,
            day: w.day,
            hour: w.hour,
            minute: w.minute,
            second: w.second,
            isDate: false,
          },
      utc ? ICAL.Timezone.utcTimezone : undefined,
    );
  for (const [name, wall] of [
    ["dtstart", span.start],
    ["dtend", span.end],
  ] as const) {
    const prop = new ICAL.Property(name, vevent);
    prop.setValue(toTime(wall));
    if (!span.allDay && !utc) prop.setParameter("tzid", zone);
    vevent.addProperty(prop);
  }
  if (span.allDay || utc) return;
  const present = vcalendar
    .getAllSubcomponents("vtimezone")
    .some((tz) => tz.getFirstPropertyValue("tzid") === zone);
  if (!present) {
    const vtimezone = buildVtimezone(zone, span.start.year, span.end.year);
    // VTIMEZONEs conventionally precede the components that use them.
    const rest = vcalendar.getAllSubcomponents();
    for (const c of rest) vcalendar.removeSubcomponent(c);
    vcalendar.addSubcomponent(vtimezone);
    for (const c of rest) vcalendar.addSubcomponent(c);
  }
}

function alarm(minutesBefore: number, title: string): ICAL.Component {
  if (!Number.isInteger(minutesBefore) || minutesBefore < 0 || minutesBefore > MAX_ALARM_MINUTES) {
    throw new EventInputError(`alarmMinutesBefore must be an integer 0..${MAX_ALARM_MINUTES}`);
  }
  const valarm = new ICAL.Component("valarm");
  valarm.addPropertyWithValue("action", "DISPLAY");
  valarm.addPropertyWithValue("description", title || "Reminder");
  const trigger = ICAL.Duration.fromSeconds(-minutesBefore * 60);
  valarm.addPropertyWithValue("trigger", trigger);
  return valarm;
}
