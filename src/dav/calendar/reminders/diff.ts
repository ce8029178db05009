/**
 * diffReminders: what changed between two reminder sets (usually the previous and the new reminders of
 * one calendar object, or of a whole calendar). Matched by id; a reminder is `changed` when any field
 * differs (fire instant, times, text, source), so a moved event shows up as changed, not removed+added.
 */
import type { Reminder } from "../../../contract/sinks.js";

export interface ReminderDiff {
  added: Reminder[];
  changed: Reminder[];
  /** The previous versions of reminders that are gone. */
  removed: Reminder[];
}

export function diffReminders(previous: Reminder[], next: Reminder[]): ReminderDiff {
  const before = new Map(previous.map((r) => [r.id, r]));
  const added: Reminder[] = [];
  const changed: Reminder[] = [];
  const seen = new Set<string>();
  for (const r of next) {
    seen.add(r.id);
    const old = before.get(r.id);
    if (!old) added.push(r);
    else if (!sameReminder(old, r)) changed.push(r);
  }
  const removed = previous.filter((r) => !seen.has(r.id));
  return { added, changed, removed };
}

/** Field-by-field equality (Dates by instant). */
export function sameReminder(a: Reminder, b: Reminder): boolean {
  return (
    a.id === b.id &&
    a.userId === b.userId &&
    a.title === b.title &&
    a.description === b.description &&
    a.location === b.location &&
    time(a.fireAt) === time(b.fireAt) &&
    time(a.eventStart) === time(b.eventStart) &&
    time(a.eventEnd) === time(b.eventEnd) &&
    (a.allDay ?? false) === (b.allDay ?? false) &&
    a.component === b.component &&
    a.source.calendarUrl === b.source.calendarUrl &&
    a.source.href === b.source.href &&
    a.source.uid === b.source.uid &&
    a.source.recurrenceId === b.source.recurrenceId
  );
}

function time(d: Date | undefined): number | undefined {
  return d === undefined ? undefined : new Date(d).getTime();
}
