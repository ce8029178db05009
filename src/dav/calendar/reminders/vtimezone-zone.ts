/**
 * An embedded VTIMEZONE as a `Zone`. Each STANDARD/DAYLIGHT observance is expanded into onset instants
 * (RFC 5545 §3.6.5: DTSTART and RDATE are local times in the offset in force before the onset,
 * TZOFFSETFROM; UNTIL is UTC), and the offset at an instant is a binary search over them.
 *
 * We expand ourselves rather than use ical.js' Timezone: its lookup works on local times and resolves DST
 * gaps and overlaps against RFC 5545, and its expansion has no bound (a VTIMEZONE with FREQ=SECONDLY
 * would run for hours). Expansions are cached by the VTIMEZONE's content, so a thousand objects that
 * embed the same Europe/Berlin definition expand it once; the cache is a function of the text only.
 */
import ICAL from "ical.js";
import { floatingTime } from "./time-values.js";
import type { Zone } from "./zone-model.js";

/** Onsets expanded per observance at most; Outlook's yearly rules from 1601 need about 430. */
const MAX_ONSETS_PER_OBSERVANCE = 2_000;
/** Years beyond the one asked for that an expansion covers, so most lookups never re-expand. */
const EXTRA_YEARS = 5;

interface Observance {
  offsetFrom: number;
  offsetTo: number;
  /** Onset as a wall time in the TZOFFSETFROM offset. */
  startWall: number;
  rrule?: ICAL.Recur;
  untilInstant?: number;
  rdates: number[];
}

interface Onset {
  at: number;
  offset: number;
}

export class VTimezoneZone implements Zone {
  readonly id: string;
  /** Set when an observance hit the onset cap; reported by the caller as a problem. */
  truncated = false;
  private readonly observances: Observance[];
  private readonly initialOffset: number;
  private onsets: Onset[] = [];
  private coveredUntilYear = Number.NEGATIVE_INFINITY;

  constructor(id: string, observances: Observance[]) {
    this.id = id;
    this.observances = observances;
    const earliest = [...observances].sort((a, b) => a.startWall - b.startWall)[0];
    this.initialOffset = earliest ? earliest.offsetFrom : 0;
  }

  get empty(): boolean {
    return this.observances.length === 0;
  }

  offsetAt(instant: number): number {
    const year = new Date(instant).getUTCFullYear();
    if (year > this.coveredUntilYear) this.expand(year + EXTRA_YEARS);
    const onsets = this.onsets;
    let lo = 0;
    let hi = onsets.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (onsets[mid]!.at <= instant) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found < 0 ? this.initialOffset : onsets[found]!.offset;
  }

  private expand(untilYear: number): void {
    const limit = Date.UTC(untilYear + 1, 0, 1);
    const onsets: Onset[] = [];
    for (const obs of this.observances) {
      const push = (wall: number) => onsets.push({ at: wall - obs.offsetFrom, offset: obs.offsetTo });
      push(obs.startWall);
      for (const rdate of obs.rdates) push(rdate);
      if (!obs.rrule) continue;
      const rule = obs.rrule.clone();
      rule.until = null;
      const iterator = rule.iterator(floatingTime(obs.startWall, false));
      for (let n = 0; ; n++) {
        if (n >= MAX_ONSETS_PER_OBSERVANCE) {
          this.truncated = true;
          break;
        }
        const next = iterator.next();
        if (!next) break;
        const wall = Date.UTC(next.year, next.month - 1, next.day, next.hour, next.minute, next.second);
        const at = wall - obs.offsetFrom;
        if (at >= limit || (obs.untilInstant !== undefined && at > obs.untilInstant)) break;
        if (wall !== obs.startWall) push(wall);
      }
    }
    onsets.sort((a, b) => a.at - b.at);
    this.onsets = onsets;
    this.coveredUntilYear = untilYear;
  }
}

function timeWall(t: ICAL.Time): number {
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
}

function offsetMs(prop: ICAL.Property | null): number | undefined {
  const value = prop?.getFirstValue();
  return value instanceof ICAL.UtcOffset ? value.toSeconds() * 1000 : undefined;
}

function readObservance(comp: ICAL.Component): Observance | undefined {
  const offsetFrom = offsetMs(comp.getFirstProperty("tzoffsetfrom"));
  const offsetTo = offsetMs(comp.getFirstProperty("tzoffsetto"));
  const dtstart = comp.getFirstPropertyValue("dtstart");
  if (offsetFrom === undefined || offsetTo === undefined || !(dtstart instanceof ICAL.Time)) return undefined;
  const obs: Observance = { offsetFrom, offsetTo, startWall: timeWall(dtstart), rdates: [] };
  const rrule = comp.getFirstPropertyValue("rrule");
  if (rrule instanceof ICAL.Recur) {
    obs.rrule = rrule;
    if (rrule.until) {
      const untilWall = timeWall(rrule.until);
      // UNTIL in a VTIMEZONE is UTC (RFC 5545 §3.6.5); a floating one is read in the "from" offset.
      obs.untilInstant = rrule.until.zone === ICAL.Timezone.utcTimezone ? untilWall : untilWall - offsetFrom;
    }
  }
  for (const prop of comp.getAllProperties("rdate")) {
    for (const value of prop.getValues()) {
      if (value instanceof ICAL.Time) obs.rdates.push(timeWall(value));
      else if (value instanceof ICAL.Period) obs.rdates.push(timeWall(value.start));
    }
  }
  return obs;
}

const cache = new Map<string, VTimezoneZone>();

/**
 * The zone an embedded VTIMEZONE defines, or undefined when it has no usable observance (then the
 * caller falls back to resolving the TZID by name). `truncated` turns true once an expansion was cut at
 * the cap (the zone is then wrong after the last onset kept; the caller reports it).
 */
export function vtimezoneZone(component: ICAL.Component, tzid: string): VTimezoneZone | undefined {
  const key = `${tzid}\n${JSON.stringify(component.jCal)}`;
  let zone = cache.get(key);
  if (!zone) {
    const observances: Observance[] = [];
    for (const sub of component.getAllSubcomponents()) {
      if (sub.name !== "standard" && sub.name !== "daylight") continue;
      const obs = readObservance(sub);
      if (obs) observances.push(obs);
    }
    zone = new VTimezoneZone(tzid, observances);
    if (cache.size >= 256) cache.clear();
    cache.set(key, zone);
  }
  return zone.empty ? undefined : zone;
}
