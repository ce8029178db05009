/**
 * The one notion of a time zone the reminder core needs: the UTC offset in force at an instant. Every
 * source of zone rules (an embedded VTIMEZONE, an IANA zone through Intl, UTC) is reduced to that, and
 * wall-clock <-> instant conversion is written once on top of it, with RFC 5545 semantics for DST gaps
 * and overlaps (ical.js' own Timezone resolves both the other way round).
 *
 * Times are plain numbers: an *instant* is milliseconds since the epoch; a *wall* time is what a clock in
 * the zone shows, encoded as if it were UTC (`Date.UTC(y, m - 1, d, h, mi, s)`), so that nominal
 * arithmetic (add a day) is plain addition.
 */

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface Zone {
  /** IANA name, "UTC", or the TZID of an embedded VTIMEZONE. */
  readonly id: string;
  /** UTC offset in force at `instant`, in milliseconds east of UTC (wall = instant + offset). */
  offsetAt(instant: number): number;
}

export const UTC_ZONE: Zone = { id: "UTC", offsetAt: () => 0 };

/** The wall-clock time in `zone` at `instant`. */
export function toWall(zone: Zone, instant: number): number {
  return instant + zone.offsetAt(instant);
}

/**
 * The instant a wall-clock time names in `zone`. RFC 5545 §3.3.5: a time inside a DST gap (it does not
 * exist) "is interpreted using the UTC offset before the gap"; a time that occurs twice (overlap) is its
 * first occurrence. Assumes a zone changes its offset at most once within 48 hours, true of every zone.
 */
export function toInstant(zone: Zone, wall: number): number {
  // Offsets lie within ±14 h, so the instant sought is within a day of `wall` either way.
  const before = zone.offsetAt(wall - DAY_MS);
  const after = zone.offsetAt(wall + DAY_MS);
  if (before === after) return wall - before;
  const viaBefore = wall - before;
  const viaAfter = wall - after;
  const beforeValid = zone.offsetAt(viaBefore) === before;
  const afterValid = zone.offsetAt(viaAfter) === after;
  if (beforeValid && afterValid) return Math.min(viaBefore, viaAfter);
  if (beforeValid) return viaBefore;
  if (afterValid) return viaAfter;
  return viaBefore;
}

/** Midnight at the start of the wall day containing `wall`. */
export function startOfWallDay(wall: number): number {
  return Math.floor(wall / DAY_MS) * DAY_MS;
}

/** "20250310T090000Z" for an instant; "20250310" for a wall date (the form RECURRENCE-ID values take). */
export function formatInstantBasic(instant: number): string {
  const d = new Date(instant);
  return `${datePart(d)}T${pad2(d.getUTCHours())}${pad2(d.getUTCMinutes())}${pad2(d.getUTCSeconds())}Z`;
}

export function formatWallDateBasic(wall: number): string {
  return datePart(new Date(wall));
}

function datePart(d: Date): string {
  return `${String(d.getUTCFullYear()).padStart(4, "0")}${pad2(d.getUTCMonth() + 1)}${pad2(d.getUTCDate())}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
