/** Calendar objects -> reminders: the pure core (no clock, no I/O). */
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
