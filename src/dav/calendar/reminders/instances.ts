/**
 * The instances of one UID: the master's occurrences with RECURRENCE-ID overrides applied (RFC 5545
 * §3.8.4.4), each with the component its data (title, alarms, status) comes from.
 *
 *   - An override replaces the occurrence whose original start equals its RECURRENCE-ID (compared as
 *     instants, so a UTC RECURRENCE-ID matches a TZID occurrence). It is an instance of its own at its own
 *     DTSTART, wherever it was moved to, even when the master is absent (an invitation to one occurrence)
 *     or its original slot lies outside the window. It is dropped when the master's EXDATE removes its
 *     slot (EXDATE wins, as in ical.js) or when it is STATUS:CANCELLED.
 *   - RANGE=THISANDFUTURE: every later occurrence (up to the next such override) takes that override's
 *     data, duration and shift (its DTSTART minus its RECURRENCE-ID, applied on the wall clock), and is
 *     cancelled with it. A plain override of one of those occurrences still wins.
 *   - Overrides keep only their own VALARMs: an override is a complete instance (RFC 5545 §3.8.4.4).
 */
import type ICAL from "ical.js";
import { type Span, endOf } from "./span.js";
import { type ZonedTime, zonedFromWall } from "./time-values.js";
import { toWall } from "./zone-model.js";

export interface Override {
  component: ICAL.Component;
  recurrenceId: ZonedTime;
  start: ZonedTime;
  span: Span;
  thisAndFuture: boolean;
  cancelled: boolean;
}

export interface Instance {
  /** Where title, description, location and alarms come from. */
  item: ICAL.Component;
  start: ZonedTime;
  end: number;
  /** The original slot (RECURRENCE-ID); undefined for the single instance of a non-recurring component. */
  slot?: ZonedTime;
}

/** Index of overrides by original slot, and the THISANDFUTURE ones in slot order. */
export class OverrideIndex {
  readonly bySlot = new Map<number, Override>();
  readonly ranges: Override[];

  constructor(overrides: Override[]) {
    for (const o of overrides) this.bySlot.set(o.recurrenceId.instant, o);
    this.ranges = overrides
      .filter((o) => o.thisAndFuture)
      .sort((a, b) => a.recurrenceId.instant - b.recurrenceId.instant);
  }

  /** The THISANDFUTURE override governing an occurrence originally at `instant`, if any. */
  rangeFor(instant: number): Override | undefined {
    let found: Override | undefined;
    for (const r of this.ranges) {
      if (r.recurrenceId.instant <= instant) found = r;
      else break;
    }
    return found;
  }

  /** Largest shift any THISANDFUTURE override applies, in ms (to widen the expansion range). */
  maxShiftMs(): number {
    let max = 0;
    for (const r of this.ranges) max = Math.max(max, Math.abs(r.start.instant - r.recurrenceId.instant));
    return max;
  }
}

/** A master occurrence (by its original start) as an instance, or undefined when overridden/cancelled. */
export function occurrenceInstance(
  master: ICAL.Component,
  masterSpan: Span,
  original: ZonedTime,
  index: OverrideIndex,
  periodEnd?: number,
): Instance | undefined {
  if (index.bySlot.has(original.instant)) return undefined;
  const range = index.rangeFor(original.instant);
  if (!range) {
    return { item: master, start: original, end: periodEnd ?? endOf(masterSpan, original), slot: original };
  }
  if (range.cancelled) return undefined;
  const start = shifted(original, range);
  return { item: range.component, start, end: endOf(range.span, start), slot: original };
}

/** The instance an override stands for. */
export function overrideInstance(o: Override): Instance {
  return {
    item: o.component,
    start: o.start,
    end: endOf(o.span, o.start),
    slot: o.recurrenceId,
  };
}

/** Moves an occurrence as a THISANDFUTURE override moved its own slot. */
function shifted(original: ZonedTime, range: Override): ZonedTime {
  const from = range.recurrenceId;
  const to = range.start;
  if (from.zone.id === to.zone.id || from.isDate) {
    // Wall-clock shift (as ical.js does): "from 10:00 to 11:00" stays 11:00 local across DST changes.
    const wall = toWall(to.zone, original.instant) + (to.wall - from.wall);
    return zonedFromWall(wall, to.zone, to.isDate);
  }
  const instant = original.instant + (to.instant - from.instant);
  return { instant, wall: toWall(to.zone, instant), zone: to.zone, isDate: to.isDate };
}
