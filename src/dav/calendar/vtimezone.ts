/**
 * A VTIMEZONE (RFC 5545 §3.6.5) generated from the IANA zone through Intl, so that the events we
 * write are self-contained: RFC 5545 §3.2.19 requires a VTIMEZONE for every TZID, and clients
 * (Thunderbird, Apple, our own reminder computation) read it instead of guessing. The observances are
 * the zone's real transitions, found by scanning the covered years; not RRULE-compressed, which is
 * valid and exact for the years covered.
 */
import ICAL from "ical.js";
import { offsetMinutes, wallAt } from "./zone.js";

interface Transition {
  /** First instant of the new offset. */
  at: number;
  from: number;
  to: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Offset changes of `zone` between the two instants, to the second. */
export function transitions(zone: string, fromMs: number, toMs: number): Transition[] {
  const out: Transition[] = [];
  let t = fromMs;
  let offset = offsetMinutes(t, zone);
  while (t < toMs) {
    const next = Math.min(t + DAY, toMs);
    const nextOffset = offsetMinutes(next, zone);
    if (nextOffset !== offset) {
      // Binary search for the first second with the new offset.
      let lo = t;
      let hi = next;
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (offsetMinutes(mid, zone) === offset) lo = mid;
        else hi = mid;
      }
      out.push({ at: hi, from: offset, to: nextOffset });
      offset = nextOffset;
    }
    t = next;
  }
  return out;
}

function utcOffset(minutes: number): ICAL.UtcOffset {
  const sign = minutes < 0 ? -1 : 1;
  const abs = Math.abs(minutes);
  return new ICAL.UtcOffset({ hours: Math.floor(abs / 60), minutes: abs % 60, factor: sign });
}

function shortName(instant: number, zone: string): string | undefined {
  const part = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" })
    .formatToParts(new Date(instant))
    .find((p) => p.type === "timeZoneName");
  // Intl falls back to "GMT+5:30" where a zone has no abbreviation; TZNAME is optional, so leave it out.
  return part && !/^(?:GMT|UTC)[+-]/.test(part.value) ? part.value : undefined;
}

/**
 * The VTIMEZONE of `zone` covering the years `fromYear`..`toYear` (inclusive), including the
 * observance in force when `fromYear` begins. A zone without transitions gets one STANDARD observance.
 */
export function buildVtimezone(zone: string, fromYear: number, toYear: number): ICAL.Component {
  const vtimezone = new ICAL.Component("vtimezone");
  vtimezone.addPropertyWithValue("tzid", zone);
  const start = Date.UTC(fromYear - 1, 0, 1);
  const end = Date.UTC(toYear + 1, 0, 1);
  const found = transitions(zone, start, end);
  if (found.length === 0) {
    const offset = offsetMinutes(Date.UTC(fromYear, 0, 1), zone);
    // Onset 1970-01-01T00:00 local time.
    const onset = Date.UTC(1970, 0, 1) - offset * 60_000;
    vtimezone.addSubcomponent(observance("standard", onset, offset, offset, zone, Date.UTC(fromYear, 0, 1)));
    return vtimezone;
  }
  // The smaller offset of a pair is standard time (true for all current zones but Europe/Dublin,
  // whose "negative DST" makes the label cosmetic: offsets, not labels, decide the times).
  const standard = Math.min(...found.flatMap((t) => [t.from, t.to]));
  for (const t of found) {
    const kind = t.to > standard ? "daylight" : "standard";
    vtimezone.addSubcomponent(observance(kind, t.at, t.from, t.to, zone, t.at));
  }
  return vtimezone;
}

function observance(
  kind: "standard" | "daylight",
  at: number,
  from: number,
  to: number,
  zone: string,
  nameAt: number,
): ICAL.Component {
  const c = new ICAL.Component(kind);
  // RFC 5545 §3.8.2.4: DTSTART of an observance is the local time before the onset (TZOFFSETFROM).
  const local = at + from * 60_000;
  const w = wallAt(local, "UTC");
  c.addPropertyWithValue(
    "dtstart",
    ICAL.Time.fromData({
      year: w.year,
      month: w.month,
      day: w.day,
      hour: w.hour,
      minute: w.minute,
      second: w.second,
    }),
  );
  c.addPropertyWithValue("tzoffsetfrom", utcOffset(from));
  c.addPropertyWithValue("tzoffsetto", utcOffset(to));
  const name = shortName(nameAt, zone);
  if (name) c.addPropertyWithValue("tzname", name);
  return c;
}
