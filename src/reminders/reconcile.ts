/**
 * Bringing a ReminderSink in line with freshly computed reminders, one scope at a time: the reminders of
 * one calendar object after its sync, or of a whole calendar when the horizon rolls forward. Returns the
 * diff, which the caller hands to ReminderScheduler.update().
 */
import type { Reminder, ReminderSink } from "../contract/sinks.js";
import { diffReminders, type ReminderDiff } from "../dav/calendar/reminders/diff.js";

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
