/**
 * Reminders of one UID (a master VEVENT/VTODO and its RECURRENCE-ID overrides) within the window.
 *
 * The master's occurrences are expanded only as far as its alarms need: an occurrence starting at s has
 * firings at s + delta with delta within the bounds of its relative triggers, so the expansion covers
 * starts in [windowStart - maxDelta, windowEnd - minDelta], widened by a few hours for nominal days
 * across DST changes and by the largest THISANDFUTURE shift.
 *
 * An absolute trigger on a recurring master fires once: it is reported against the series' first
 * instance (DTSTART), with no recurrence id. On an override it belongs to that override's instance,
 * unless the master or an earlier override (by RECURRENCE-ID) already fires an absolute alarm at that
 * instant: clients copy the master's VALARMs into every override they write (Thunderbird, Apple), and
 * an absolute trigger names one instant whichever instance carries it, so each fires once per UID.
 */
import type ICAL from "ical.js";
import type { Reminder } from "../../../contract/sinks.js";
import { type AlarmSpec, firings, readAlarms, relativeDeltaBounds } from "./alarms.js";
import { type IterationBudget, type Occurrence, exclusionTest, expandSeries } from "./expand.js";
import {
  type Instance,
  type Override,
  OverrideIndex,
  occurrenceInstance,
  overrideInstance,
} from "./instances.js";
import { reminderId } from "./reminder-id.js";
import { approxSpanMs, endOf, readSpan } from "./span.js";
import { type ZonedTime, readTime, recurrenceIdText } from "./time-values.js";
import type { ZoneTable } from "./zone-table.js";
import { HOUR_MS, toWall } from "./zone-model.js";

/** Widening of the expansion range for nominal days across DST changes (and a little more). */
const SLACK_MS = 3 * HOUR_MS;

export interface SeriesContext {
  calendarUrl: string;
  href: string;
  userId: string;
  windowStart: number;
  windowEnd: number;
  zones: ZoneTable;
  budget: IterationBudget;
  problems: string[];
  defaultAlarmMinutes: number | undefined;
}

export function remindersForSeries(
  uid: string,
  components: ICAL.Component[],
  ctx: SeriesContext,
): Reminder[] {
  const out: Reminder[] = [];
  const masters = components.filter((c) => !c.hasProperty("recurrence-id"));
  if (masters.length > 1)
    ctx.problems.push(`${uid}: ${masters.length} components without RECURRENCE-ID; using the first`);
  const master = masters[0];
  const overrides = components.flatMap((c) =>
    c.hasProperty("recurrence-id") ? readOverride(c, uid, ctx) : [],
  );
  const index = new OverrideIndex(overrides);
  // Instants of the absolute firings emitted so far (master first, then overrides in slot order).
  const absolute = new Set<number>();
  const alarmsOf = new Map<ICAL.Component, AlarmSpec[]>();
  const alarms = (c: ICAL.Component) => {
    let specs = alarmsOf.get(c);
    if (!specs) {
      specs = readAlarms(c, ctx.zones, ctx.problems, uid, ctx.defaultAlarmMinutes);
      alarmsOf.set(c, specs);
    }
    return specs;
  };

  const masterStart = master ? startOf(master, ctx.zones) : undefined;
  if (master && !masterStart && !inactive(master)) {
    if (master.name === "vtodo") undatedTodo(out, uid, master, alarms(master), ctx);
    else ctx.problems.push(`${uid}: VEVENT without DTSTART; skipped`);
  }
  if (master && masterStart && !inactive(master)) {
    const span = readSpan(master, masterStart, ctx.zones);
    const recurring = master.hasProperty("rrule") || master.hasProperty("rdate");
    // Series-level absolute alarms: once, against the first instance.
    const first: Instance = { item: master, start: masterStart, end: endOf(span, masterStart) };
    emit(
      out,
      uid,
      first,
      alarms(master).filter((a) => a.at !== undefined),
      ctx,
      absolute,
    );

    const relative = (c: ICAL.Component) => alarms(c).filter((a) => a.offset !== undefined);
    if (!recurring) {
      if (!index.bySlot.has(masterStart.instant)) {
        emit(out, uid, first, relative(master), ctx);
      }
    } else {
      const bounds = [relativeDeltaBounds(relative(master), approxSpanMs(span))];
      for (const r of index.ranges)
        bounds.push(relativeDeltaBounds(relative(r.component), approxSpanMs(r.span)));
      const present = bounds.filter((b): b is { min: number; max: number } => b !== undefined);
      if (present.length > 0) {
        const min = Math.min(...present.map((b) => b.min));
        const max = Math.max(...present.map((b) => b.max));
        const widen = SLACK_MS + index.maxShiftMs();
        const occurrences = expandSeries({
          component: master,
          uid,
          start: masterStart,
          rangeStart: ctx.windowStart - max - widen,
          rangeEnd: ctx.windowEnd - min + widen,
          budget: ctx.budget,
          zones: ctx.zones,
          problems: ctx.problems,
        });
        for (const occ of occurrences) {
          const instance = occurrenceInstance(master, span, occ.start, index, periodEndOf(occ));
          if (instance && !inactive(instance.item)) emit(out, uid, instance, relative(instance.item), ctx);
        }
      }
    }
  }

  const excluded = master && masterStart ? exclusionTest(master, masterStart, ctx.zones) : () => false;
  // In slot order, so that which override keeps a shared absolute alarm does not depend on the order
  // of the components in the file (its id carries that override's recurrence id).
  const bySlot = [...overrides].sort((a, b) => a.recurrenceId.instant - b.recurrenceId.instant);
  for (const o of bySlot) {
    if (o.cancelled || inactive(o.component) || excluded(o.recurrenceId)) continue;
    emit(out, uid, overrideInstance(o), alarms(o.component), ctx, absolute);
  }
  return out;
}

/** The end an RDATE PERIOD gives its occurrence, if it came from one. */
function periodEndOf(occ: Occurrence): number | undefined {
  if (occ.periodEnd !== undefined) return occ.periodEnd;
  if (occ.periodDuration) return endOf({ kind: "nominal", duration: occ.periodDuration }, occ.start);
  return undefined;
}

/** An undated to-do has nothing to be relative to; its absolute alarms fire, each its own "start". */
function undatedTodo(
  out: Reminder[],
  uid: string,
  todo: ICAL.Component,
  specs: AlarmSpec[],
  ctx: SeriesContext,
) {
  for (const spec of specs) {
    if (spec.at === undefined) continue;
    const zone = ctx.zones.userZone;
    const start: ZonedTime = { instant: spec.at, wall: toWall(zone, spec.at), zone, isDate: false };
    emit(out, uid, { item: todo, start, end: spec.at }, [spec], ctx);
  }
}

/** Start anchor: DTSTART; for a VTODO without one, DUE (RFC 5545 allows either alone). */
function startOf(comp: ICAL.Component, zones: ZoneTable): ZonedTime | undefined {
  return (
    readTime(comp, "dtstart", zones) ?? (comp.name === "vtodo" ? readTime(comp, "due", zones) : undefined)
  );
}

/** Cancelled components, and to-dos already done, give no reminders. */
function inactive(comp: ICAL.Component): boolean {
  const status = String(comp.getFirstPropertyValue("status") ?? "").toUpperCase();
  if (status === "CANCELLED") return true;
  return comp.name === "vtodo" && (status === "COMPLETED" || comp.hasProperty("completed"));
}

function readOverride(comp: ICAL.Component, uid: string, ctx: SeriesContext): Override[] {
  const recurrenceId = readTime(comp, "recurrence-id", ctx.zones);
  if (!recurrenceId) {
    ctx.problems.push(`${uid}: unreadable RECURRENCE-ID; override skipped`);
    return [];
  }
  // Producers omit DTSTART on some cancelled overrides; the slot is then the start.
  const start = startOf(comp, ctx.zones) ?? recurrenceId;
  const range = comp.getFirstProperty("recurrence-id")?.getFirstParameter("range");
  return [
    {
      component: comp,
      recurrenceId,
      start,
      span: readSpan(comp, start, ctx.zones),
      thisAndFuture: String(range ?? "").toUpperCase() === "THISANDFUTURE",
      cancelled: String(comp.getFirstPropertyValue("status") ?? "").toUpperCase() === "CANCELLED",
    },
  ];
}

function text(comp: ICAL.Component, name: string): string | undefined {
  const value = comp.getFirstPropertyValue(name);
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  return trimmed.length > 0 ? trimmed : undefined;
}

/**
 * Pushes the reminders of these alarms of one instance. `absolute`: instants of absolute firings other
 * components of the UID already gave; such a firing is skipped here, and this component's own are
 * added to it afterwards (two absolute alarms of one component at one instant both stay).
 */
function emit(
  out: Reminder[],
  uid: string,
  instance: Instance,
  specs: AlarmSpec[],
  ctx: SeriesContext,
  absolute?: Set<number>,
): void {
  const { item, start, end, slot } = instance;
  let recurrenceId: string | undefined;
  const own: number[] = [];
  for (const spec of specs) {
    for (const firing of firings(spec, start, end)) {
      if (firing.at < ctx.windowStart || firing.at > ctx.windowEnd) continue;
      if (spec.at !== undefined && absolute) {
        if (absolute.has(firing.at)) continue;
        own.push(firing.at);
      }
      // Formatted only for instances that give a reminder (most expanded occurrences do not).
      if (slot && recurrenceId === undefined) recurrenceId = recurrenceIdText(slot);
      const reminder: Reminder = {
        id: reminderId({
          calendarUrl: ctx.calendarUrl,
          uid,
          recurrenceId,
          alarm: spec.key,
          repeat: firing.repeatIndex,
        }),
        userId: ctx.userId,
        title: text(item, "summary") ?? "(no title)",
        fireAt: new Date(firing.at),
        eventStart: new Date(start.instant),
        eventEnd: new Date(end),
        allDay: start.isDate,
        component: item.name === "vtodo" ? "VTODO" : "VEVENT",
        source: { calendarUrl: ctx.calendarUrl, href: ctx.href, uid },
      };
      const description = text(item, "description");
      if (description !== undefined) reminder.description = description;
      const location = text(item, "location");
      if (location !== undefined) reminder.location = location;
      if (recurrenceId !== undefined) reminder.source.recurrenceId = recurrenceId;
      out.push(reminder);
    }
  }
  for (const at of own) absolute?.add(at);
}
