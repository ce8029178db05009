/**
 * Bringing a ReminderSink in line with freshly computed reminders, one scope at a time: the reminders of
 * one calendar object after its sync, or of a whole calendar when the horizon rolls forward. Returns the
 * diff, which the caller hands to ReminderScheduler.update().
 *
 * The horizon only moves when objects are computed again: an unchanged weekly event gets its occurrence
 * five weeks out only from a recomputation. So besides per-object refreshes after each sync, recompute
 * every calendar from the stored objects at start and at least daily (refreshReminders with
 * calendarScope); both are cheap (bench/reminders.ts).
 */
import type { Reminder, ReminderSink } from "../contract/sinks.js";
import {
  type CalendarObjectInput,
  type ComputeRemindersOptions,
  computeReminders,
  diffReminders,
  type ReminderDiff,
} from "../dav/calendar/reminders/index.js";

export type ReminderScope = (reminder: Reminder) => boolean;

/** The reminders computed from one calendar object. */
export function objectScope(calendarUrl: string, href: string): ReminderScope {
  return (r) => r.source.calendarUrl === calendarUrl && r.source.href === href;
}

/** The reminders of one calendar collection. */
export function calendarScope(calendarUrl: string): ReminderScope {
  return (r) => r.source.calendarUrl === calendarUrl;
}

/**
 * Replaces the sink's reminders within `scope` by `next` (upsert added and changed, remove the rest).
 * `next` must lie within the scope. An object deleted on the server is `next = []`.
 */
export async function reconcileReminders(
  sink: ReminderSink,
  scope: ReminderScope,
  next: Reminder[],
): Promise<ReminderDiff> {
  const previous = (await sink.list()).filter(scope);
  const diff = diffReminders(previous, next);
  const upserts = [...diff.added, ...diff.changed];
  if (upserts.length > 0) await sink.upsert(upserts);
  if (diff.removed.length > 0) await sink.remove(diff.removed.map((r) => r.id));
  return diff;
}

export interface RefreshResult {
  diff: ReminderDiff;
  /** computeReminders' problems, per object href. */
  problems: { href: string; problem: string }[];
}

/**
 * Computes the reminders of `objects` (all the objects of the scope: one object, or every object of a
 * calendar) and reconciles the sink's `scope` with them.
 */
export async function refreshReminders(
  sink: ReminderSink,
  scope: ReminderScope,
  objects: CalendarObjectInput[],
  options: ComputeRemindersOptions,
): Promise<RefreshResult> {
  const next: Reminder[] = [];
  const problems: { href: string; problem: string }[] = [];
  for (const object of objects) {
    const result = computeReminders(object, options);
    next.push(...result.reminders);
    for (const problem of result.problems) problems.push({ href: object.href, problem });
  }
  return { diff: await reconcileReminders(sink, scope, next), problems };
}
