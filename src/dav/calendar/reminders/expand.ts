/**
 * The recurrence set of one master component (RFC 5545 §3.8.5): DTSTART, every RRULE, every RDATE, minus
 * every EXDATE, limited to occurrences that start inside [rangeStart, rangeEnd] and to an iteration budget.
 *
 * Rules are iterated by ical.js in *floating* wall-clock time (what RFC 5545 means: "every day at 09:00"
 * is 09:00 local on both sides of a DST change), and each occurrence is then placed in the event's zone
 * by our zone model. UNTIL, which RFC 5545 writes in UTC, is turned into the same wall clock first, so it
 * is compared in one frame (ical.js would compare a floating time against UTC and drop or keep the last
 * occurrence by the zone's offset).
 */
import ICAL from "ical.js";
import { refuseRule } from "./rule-guards.js";
import { type ZonedTime, floatingTime, readTimeList, wallOf, zonedFromWall } from "./time-values.js";
import type { ZoneTable } from "./zone-table.js";
import { DAY_MS, startOfWallDay, toWall } from "./zone-model.js";

/** Shared by every rule of one calendar object; `exhausted` is set when a rule was cut short. */
export interface IterationBudget {
  remaining: number;
  exhausted: boolean;
  /** UID of the series that ran out (for the problem message). */
  exhaustedBy?: string;
}

export interface Occurrence {
  start: ZonedTime;
  /** End instant when the occurrence came from an RDATE PERIOD. */
  periodEnd?: number;
  /** Duration when the occurrence came from an RDATE PERIOD written as start/duration. */
  periodDuration?: ICAL.Duration;
}

export interface ExpandInput {
  component: ICAL.Component;
  uid: string;
  start: ZonedTime;
  rangeStart: number;
  rangeEnd: number;
  budget: IterationBudget;
  zones: ZoneTable;
  problems: string[];
}

const UNIT_MS: Readonly<Record<string, number>> = {
  SECONDLY: 1000,
  MINUTELY: 60_000,
  HOURLY: 3_600_000,
  DAILY: DAY_MS,
  WEEKLY: 7 * DAY_MS,
};

/** Occurrences of the series starting inside the range, in start order, without duplicates. */
export function expandSeries(input: ExpandInput): Occurrence[] {
  const { component, start, rangeStart, rangeEnd, budget } = input;
  const found = new Map<number, Occurrence>();
  const add = (occ: Occurrence) => {
    const at = occ.start.instant;
    if (at < rangeStart || at > rangeEnd || found.has(at)) return;
    found.set(at, occ);
  };
  // RFC 5545 §3.8.5.3: DTSTART is always the first instance, whether or not the rule matches it.
  add({ start });

  for (const prop of component.getAllProperties("rrule")) {
    const rule = prop.getFirstValue();
    if (!(rule instanceof ICAL.Recur)) continue;
    const refusal = refuseRule(rule);
    if (refusal) {
      input.problems.push(`${input.uid}: RRULE refused: ${refusal}`);
      continue;
    }
    iterateRule(rule, input, add);
  }

  for (const rdate of readTimeList(component, "rdate", input.zones)) {
    if (!spend(budget, input.uid)) break;
    const occ: Occurrence = { start: rdate.start };
    if (rdate.end) occ.periodEnd = rdate.end.instant;
    if (rdate.duration) occ.periodDuration = rdate.duration;
    add(occ);
  }

  const excluded = exclusionTest(component, start, input.zones);
  return [...found.values()]
    .filter((o) => !excluded(o.start))
    .sort((a, b) => a.start.instant - b.start.instant);
}

/** Does the series' EXDATE list remove the instance that starts (originally) at `t`? */
export function exclusionTest(
  component: ICAL.Component,
  start: ZonedTime,
  zones: ZoneTable,
): (t: ZonedTime) => boolean {
  const instants = new Set<number>();
  const days = new Set<number>();
  for (const { start: ex } of readTimeList(component, "exdate", zones)) {
    if (ex.isDate === start.isDate) instants.add(ex.instant);
    // A DATE EXDATE against DATE-TIME occurrences (or the reverse) removes the whole day, as ical.js does.
    else days.add(startOfWallDay(ex.isDate ? ex.wall : toWall(start.zone, ex.instant)));
  }
  if (instants.size === 0 && days.size === 0) return () => false;
  return (t) => instants.has(t.instant) || days.has(startOfWallDay(toWall(start.zone, t.instant)));
}

function spend(budget: IterationBudget, uid: string): boolean {
  if (budget.remaining <= 0) {
    if (!budget.exhausted) budget.exhaustedBy = uid;
    budget.exhausted = true;
    return false;
  }
  budget.remaining--;
  return true;
}

function iterateRule(recur: ICAL.Recur, input: ExpandInput, add: (occ: Occurrence) => void): void {
  const { start, rangeStart, rangeEnd, budget, problems, uid } = input;
  const rule = recur.clone();
  if (rule.until) rule.until = floatingTime(untilWall(rule.until, start), start.isDate && rule.until.isDate);

  // Fast-forward: a rule with a fixed period and no COUNT can start at any multiple of its period
  // without changing its pattern (BYxxx filters are absolute; the week alignment of WEEKLY;INTERVAL=n
  // is kept by whole multiples of n weeks). The new start lies at least two days before the range, so
  // the synthetic first instance ical.js yields for it is never kept.
  let iterationStart = start.wall;
  const unit = UNIT_MS[rule.freq];
  if (unit !== undefined && !rule.count) {
    const period = Math.max(1, rule.interval || 1) * unit;
    const gap = toWall(start.zone, rangeStart) - 2 * DAY_MS - start.wall;
    if (gap > period) iterationStart += Math.floor(gap / period) * period;
  }

  let iterator: ICAL.RecurIterator;
  try {
    iterator = rule.iterator(floatingTime(iterationStart, start.isDate));
  } catch (error) {
    problems.push(`${uid}: RRULE ${recur.toString()} cannot be expanded: ${(error as Error).message}`);
    return;
  }
  for (;;) {
    if (!spend(budget, uid)) return;
    let next: ICAL.Time | null;
    try {
      next = iterator.next();
    } catch (error) {
      problems.push(`${uid}: RRULE ${recur.toString()} failed while expanding: ${(error as Error).message}`);
      return;
    }
    if (!next) return;
    const occ = zonedFromWall(wallOf(next), start.zone, start.isDate);
    if (occ.instant > rangeEnd) return;
    add({ start: occ });
  }
}

/** UNTIL as a wall time in the series' own clock. */
function untilWall(until: ICAL.Time, start: ZonedTime): number {
  const wall = wallOf(until);
  if (until.isDate) {
    // A DATE UNTIL on a DATE-TIME series (old Outlook, some Lightning versions): the whole day counts.
    return start.isDate ? wall : wall + DAY_MS - 1000;
  }
  if (until.zone === ICAL.Timezone.utcTimezone) return toWall(start.zone, wall);
  return wall;
}
