/** Reminders shell: the scheduler that fires them once, and sink reconciliation. */
export {
  DEFAULT_GRACE_MS,
  DEFAULT_LATE_AFTER_MS,
  DEFAULT_MAX_WAIT_MS,
  DEFAULT_RETRY_ATTEMPTS,
  DEFAULT_RETRY_DELAY_MS,
  ReminderScheduler,
} from "./scheduler.js";
export { calendarScope, objectScope, reconcileReminders, refreshReminders } from "./reconcile.js";
export type { RefreshResult, ReminderScope } from "./reconcile.js";
export type {
  FireContext,
  FireReminder,
  ReminderSchedulerOptions,
  SchedulerStats,
  SchedulerTimers,
} from "./types.js";
