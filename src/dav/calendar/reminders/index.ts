/**
 * Calendar objects -> reminders: the pure core (no clock of its own, no I/O), on ical.js 2.2.1.
 *
 *   computeReminders({ calendarUrl, href, data }, { userId, now, userTimeZone, horizonDays = 30,
 *     lookbackMinutes = 1440, maxIterations = 10_000, defaultAlarmMinutes? })
 *     -> { reminders, problems }
 *   diffReminders(previous, next) -> { added, changed, removed }
 *
 * Decisions, each documented where it is made:
 *   - window: reminders firing in [now - lookback, now + horizon] (options.ts);
 *   - recurrences expanded in floating wall-clock time by ical.js, placed by our zone model; UNTIL
 *     converted to that clock; rules ical.js would spin on are refused (expand.ts, rule-guards.ts);
 *   - zones: embedded VTIMEZONE > UTC alias > IANA name > Windows name > prefixed IANA name > the
 *     user's zone with a problem; floating and all-day in the user's zone; DST gaps and overlaps per
 *     RFC 5545 §3.3.5 (zone-table.ts, zone-model.ts, windows-zones.ts);
 *   - overrides replace their slot, THISANDFUTURE carries on, EXDATE wins, overrides keep only their own
 *     alarms (instances.ts); an absolute alarm fires once per UID, copies of it in overrides
 *     included (series.ts);
 *   - ids: "rem_" + SHA-256 of calendarUrl, UID, recurrence id, alarm index, repeat index (reminder-id.ts).
 */
export { computeReminders } from "./compute.js";
export type { CalendarObjectInput, ComputeRemindersResult } from "./compute.js";
export { diffReminders, sameReminder } from "./diff.js";
export type { ReminderDiff } from "./diff.js";
export {
  DEFAULT_HORIZON_DAYS,
  DEFAULT_LOOKBACK_MINUTES,
  DEFAULT_MAX_ITERATIONS,
} from "./options.js";
export type { ComputeRemindersOptions } from "./options.js";
export { reminderId, reminderKeyMaterial } from "./reminder-id.js";
export type { ReminderKey } from "./reminder-id.js";
export { windowsZoneToIana } from "./windows-zones.js";
