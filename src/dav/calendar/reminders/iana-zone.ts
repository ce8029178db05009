/**
 * IANA zones through Intl (Node ships full ICU), as a `Zone`. ical.js knows no zone by name, so a TZID
 * without a VTIMEZONE, floating times and all-day dates are resolved here.
 *
 * Intl is slow per call (a formatToParts is microseconds), and a calendar sync converts thousands of
 * times, so offsets are cached per UTC day: the offset at both ends of the day is asked once; when they
 * differ, the change instant inside the day is found by bisection to the second. This assumes no zone
 * changes its offset twice within one UTC day, which holds for every tzdb zone. The cache is
 * deterministic (a function of the zone and the day only), so it does not make the core impure.
 */
import { DAY_MS, type Zone } from "./zone-model.js";

interface DayOffsets {
  /** Offset at the start of the UTC day. */
  start: number;
  /** Offset from `changeAt` on (equal to `start` when the day has no change). */
  end: number;
  changeAt: number;
}

/** Days kept per zone before the cache is cleared (about 27 years of days: never reached in practice). */
const MAX_CACHED_DAYS = 10_000;

class IanaZone implements Zone {
  readonly id: string;
  private readonly format: Intl.DateTimeFormat;
  private readonly days = new Map<number, DayOffsets>();
  /** The day asked last (conversions ask about the same day two to four times in a row). */
  private lastDay = Number.NaN;
  private lastEntry: DayOffsets | undefined;

  constructor(id: string, format: Intl.DateTimeFormat) {
    this.id = id;
    this.format = format;
  }

  offsetAt(instant: number): number {
    const day = Math.floor(instant / DAY_MS);
    let entry = day === this.lastDay ? this.lastEntry : this.days.get(day);
    if (!entry) {
      entry = this.computeDay(day);
      if (this.days.size >= MAX_CACHED_DAYS) this.days.clear();
      this.days.set(day, entry);
    }
    this.lastDay = day;
    this.lastEntry = entry;
    return instant < entry.changeAt ? entry.start : entry.end;
  }

  private computeDay(day: number): DayOffsets {
    const from = day * DAY_MS;
    const to = from + DAY_MS - 1000;
    const start = this.intlOffset(from);
    const end = this.intlOffset(to);
    if (start === end) return { start, end, changeAt: from };
    // Bisect (whole seconds) for the first second with the new offset.
    let lo = from;
    let hi = to;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (this.intlOffset(mid) === start) lo = mid;
      else hi = mid;
    }
    return { start, end, changeAt: hi };
  }

  private intlOffset(instant: number): number {
    let year = 0;
    let month = 0;
    let dayOfMonth = 0;
    let hour = 0;
    let minute = 0;
    let second = 0;
    for (const part of this.format.formatToParts(instant)) {
      switch (part.type) {
        case "year":
          year = Number(part.value);
          break;
        case "month":
          month = Number(part.value);
          break;
        case "day":
          dayOfMonth = Number(part.value);
          break;
        case "hour":
          hour = Number(part.value) % 24;
          break;
        case "minute":
          minute = Number(part.value);
          break;
        case "second":
          second = Number(part.value);
          break;
      }
    }
    const wall = Date.UTC(year, month - 1, dayOfMonth, hour, minute, second);
    return wall - Math.floor(instant / 1000) * 1000;
  }
}

const zones = new Map<string, IanaZone | null>();

/** The zone for an IANA name, or undefined when Intl does not know the name. Cached per name. */
export function ianaZone(name: string): Zone | undefined {
  const cached = zones.get(name);
  if (cached !== undefined) return cached ?? undefined;
  let zone: IanaZone | null = null;
  if (name.length > 0 && name.trim() === name) {
    try {
      const format = new Intl.DateTimeFormat("en-US", {
        timeZone: name,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
      zone = new IanaZone(format.resolvedOptions().timeZone, format);
    } catch {
      zone = null;
    }
  }
  // Unknown names are remembered too (as null); a flood of distinct garbage TZIDs cannot grow this forever.
  if (zones.size >= 1_000) zones.clear();
  zones.set(name, zone);
  return zone ?? undefined;
}
