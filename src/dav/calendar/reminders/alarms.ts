/**
 * VALARM -> fire instants (RFC 5545 §3.6.6, §3.8.6.3; RFC 9074).
 *
 * - ACTION DISPLAY, EMAIL and AUDIO all count. ACTION:NONE (RFC 9074 §7; Apple writes one with
 *   `TRIGGER;VALUE=DATE-TIME:19760401T005545Z` when the user removed the default alarm) and anything
 *   else never fire, but keep their position, so alarm indexes (part of reminder ids) stay stable.
 * - TRIGGER is a duration relative to the start (default) or, with RELATED=END, to the end (DTEND of an
 *   event, DUE of a to-do), or an absolute DATE-TIME.
 * - REPEAT n with DURATION d adds n more firings at d, 2d, ... after the first; each is its own
 *   reminder. REPEAT is capped at MAX_REPEAT (recorded as a problem).
 * - ACKNOWLEDGED (RFC 9074 §6): firings at or before that instant were already acknowledged by the user
 *   in another client and are skipped.
 */
import ICAL from "ical.js";
import { addDuration, type ZonedTime, tzidOf, zoned } from "./time-values.js";
import type { ZoneTable } from "./zone-table.js";

/** Repetitions of one alarm honoured at most (real producers write 1-5). */
export const MAX_REPEAT = 100;

const FIRING_ACTIONS = new Set(["DISPLAY", "EMAIL", "AUDIO"]);

export interface AlarmSpec {
  /** Position among the component's VALARMs ("0", "1", ...) or "default" for the configured lead time. */
  key: string;
  /** Absolute trigger instant. */
  at?: number;
  /** Relative trigger. */
  offset?: ICAL.Duration;
  related: "START" | "END";
  repeat: number;
  interval?: ICAL.Duration;
  acknowledged?: number;
}

export interface Firing {
  at: number;
  repeatIndex: number;
}

/**
 * The firing alarms of a component. Without any VALARM (not even ACTION:NONE, which is the user saying
 * "no alarm") and with `defaultAlarmMinutes` set, one synthetic alarm that many minutes before the start.
 */
export function readAlarms(
  comp: ICAL.Component,
  zones: ZoneTable,
  problems: string[],
  label: string,
  defaultAlarmMinutes: number | undefined,
): AlarmSpec[] {
  const valarms = comp.getAllSubcomponents("valarm");
  if (valarms.length === 0) {
    if (defaultAlarmMinutes === undefined) return [];
    return [
      {
        key: "default",
        offset: ICAL.Duration.fromSeconds(-defaultAlarmMinutes * 60),
        related: "START",
        repeat: 0,
      },
    ];
  }
  const specs: AlarmSpec[] = [];
  valarms.forEach((valarm, index) => {
    try {
      const spec = readAlarm(valarm, index, zones, problems, label);
      if (spec) specs.push(spec);
    } catch (error) {
      problems.push(`${label}: VALARM ${index} unreadable: ${(error as Error).message}`);
    }
  });
  return specs;
}

function readAlarm(
  valarm: ICAL.Component,
  index: number,
  zones: ZoneTable,
  problems: string[],
  label: string,
): AlarmSpec | undefined {
  const action = String(valarm.getFirstPropertyValue("action") ?? "").toUpperCase();
  if (!FIRING_ACTIONS.has(action)) return;
  const trigger = valarm.getFirstProperty("trigger");
  const value = trigger?.getFirstValue();
  if (!trigger || !(value instanceof ICAL.Duration || value instanceof ICAL.Time)) {
    problems.push(`${label}: VALARM ${index} has no usable TRIGGER`);
    return;
  }
  const related =
    String(trigger.getFirstParameter("related") ?? "START").toUpperCase() === "END" ? "END" : "START";
  const spec: AlarmSpec = { key: String(index), related, repeat: 0 };
  if (value instanceof ICAL.Duration) spec.offset = value;
  else spec.at = zoned(value, tzidOf(trigger), zones).instant;
  const repeat = Number(valarm.getFirstPropertyValue("repeat") ?? 0);
  const interval = valarm.getFirstPropertyValue("duration");
  if (repeat > 0) {
    if (interval instanceof ICAL.Duration && interval.toSeconds() > 0) {
      if (repeat > MAX_REPEAT)
        problems.push(`${label}: VALARM ${index} REPEAT=${repeat} capped at ${MAX_REPEAT}`);
      spec.repeat = Math.min(Math.floor(repeat), MAX_REPEAT);
      spec.interval = interval;
    } else {
      problems.push(`${label}: VALARM ${index} has REPEAT without a positive DURATION; repetitions ignored`);
    }
  }
  const acknowledged = readAcknowledged(valarm);
  if (acknowledged !== undefined) spec.acknowledged = acknowledged;
  return spec;
}

/** ACKNOWLEDGED is UTC (RFC 9074 §6); ical.js 2.2.1 does not know the property and hands us its text. */
function readAcknowledged(valarm: ICAL.Component): number | undefined {
  const value = valarm.getFirstPropertyValue("acknowledged");
  const text = value instanceof ICAL.Time ? value.toICALString() : typeof value === "string" ? value : "";
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, sec);
}

/** Fire instants of one alarm for one instance (start and end already placed in time). */
export function firings(spec: AlarmSpec, start: ZonedTime, end: number): Firing[] {
  let base: number;
  if (spec.at !== undefined) base = spec.at;
  else if (spec.offset)
    base = addDuration(spec.related === "END" ? end : start.instant, start.zone, spec.offset);
  else return [];
  const out: Firing[] = [{ at: base, repeatIndex: 0 }];
  let at = base;
  for (let i = 1; i <= spec.repeat && spec.interval; i++) {
    at = addDuration(at, start.zone, spec.interval);
    out.push({ at, repeatIndex: i });
  }
  return spec.acknowledged === undefined ? out : out.filter((f) => f.at > spec.acknowledged!);
}

/**
 * Bounds of (fire instant - instance start) over the relative alarms, given the instance length; days
 * counted as 24 h, so callers widen by a few hours. Undefined when no relative alarm exists.
 */
export function relativeDeltaBounds(
  specs: AlarmSpec[],
  spanMs: number,
): { min: number; max: number } | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const spec of specs) {
    if (!spec.offset) continue;
    const first = spec.offset.toSeconds() * 1000 + (spec.related === "END" ? spanMs : 0);
    const last = first + (spec.interval ? spec.interval.toSeconds() * 1000 * spec.repeat : 0);
    min = Math.min(min, first);
    max = Math.max(max, last);
  }
  return min === Number.POSITIVE_INFINITY ? undefined : { min, max };
}
