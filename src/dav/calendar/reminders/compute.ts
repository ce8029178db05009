/**
 * computeReminders: one CalDAV calendar object (or a whole exported calendar) -> the reminders that fire
 * within [now - lookbackMinutes, now + horizonDays]. Pure: a function of the object text, the options
 * and `options.now`; it never reads the process clock or zone, and never throws on bad data (what it
 * could not use is listed in `problems`). It throws only on invalid options (InputError).
 */
import ICAL from "ical.js";
import type { Reminder } from "../../../contract/sinks.js";
import type { IterationBudget } from "./expand.js";
import { type ComputeRemindersOptions, resolveOptions } from "./options.js";
import { remindersForSeries } from "./series.js";
import { ZoneTable } from "./zone-table.js";

/** A calendar object as the sync engine hands it over. */
export interface CalendarObjectInput {
  calendarUrl: string;
  href: string;
  /** The iCalendar text (RFC 5545). */
  data: string;
}

export interface ComputeRemindersResult {
  /** Sorted by fire instant, then id. */
  reminders: Reminder[];
  /** Human-readable notes on what was skipped, capped or guessed (unknown TZID, budget exhausted...). */
  problems: string[];
}

export function computeReminders(
  object: CalendarObjectInput,
  options: ComputeRemindersOptions,
): ComputeRemindersResult {
  const opts = resolveOptions(options);
  const problems: string[] = [];
  let roots: ICAL.Component[];
  try {
    const parsed = ICAL.parse(object.data) as unknown[];
    // ICAL.parse returns one jCal array, or an array of them when the text holds several VCALENDARs.
    const list = typeof parsed[0] === "string" ? [parsed] : parsed;
    roots = list.map((jcal) => new ICAL.Component(jcal as unknown[]));
  } catch (error) {
    return { reminders: [], problems: [`unparseable iCalendar: ${(error as Error).message}`] };
  }

  const budget: IterationBudget = { remaining: opts.maxIterations, exhausted: false };
  const reminders: Reminder[] = [];
  for (const root of roots) {
    if (root.name !== "vcalendar") {
      problems.push(`top-level ${root.name.toUpperCase()} is not a VCALENDAR; ignored`);
      continue;
    }
    const zones = new ZoneTable(root, opts.userZone, problems);
    const groups = new Map<string, ICAL.Component[]>();
    let anonymous = 0;
    for (const comp of root.getAllSubcomponents()) {
      if (comp.name !== "vevent" && comp.name !== "vtodo") continue;
      let uid = comp.getFirstPropertyValue("uid");
      if (typeof uid !== "string" || uid.length === 0) {
        uid = `${object.href}#${anonymous++}`;
        problems.push(`${comp.name.toUpperCase()} without UID; identified as ${uid}`);
      }
      const key = `${comp.name}\u001f${uid}`;
      const group = groups.get(key);
      if (group) group.push(comp);
      else groups.set(key, [comp]);
    }
    for (const [key, components] of groups) {
      const uid = key.slice(key.indexOf("\u001f") + 1);
      try {
        reminders.push(
          ...remindersForSeries(uid, components, {
            calendarUrl: object.calendarUrl,
            href: object.href,
            userId: opts.userId,
            windowStart: opts.windowStart,
            windowEnd: opts.windowEnd,
            zones,
            budget,
            problems,
            defaultAlarmMinutes: opts.defaultAlarmMinutes,
          }),
        );
      } catch (error) {
        // ical.js parses values lazily and throws on a malformed one (DTSTART:2025031): skip the UID.
        problems.push(`${uid}: skipped, unreadable value: ${(error as Error).message}`);
      }
    }
    zones.reportTruncated();
  }
  if (budget.exhausted) {
    problems.push(
      `iteration budget of ${opts.maxIterations} exhausted (while expanding ${budget.exhaustedBy}): later occurrences were not computed`,
    );
  }
  reminders.sort(
    (a, b) => a.fireAt.getTime() - b.fireAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  return { reminders, problems };
}
