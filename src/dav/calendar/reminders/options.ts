import { InputError } from "../../../errors/index.js";
import { ianaZone } from "./iana-zone.js";
import { DAY_MS, MINUTE_MS, type Zone } from "./zone-model.js";

/** Options of `computeReminders`. */
export interface ComputeRemindersOptions {
  /** `"email:<monitored account>"`, stamped on every reminder. Required. */
  userId: string;
  /** The clock reading the window is measured from. Required: the core reads no clock of its own. */
  now: Date;
  /**
   * How far ahead reminders are produced: those firing up to `now + horizonDays` (occurrences are
   * expanded as far as their alarms need). Default 30 days; must be > 0 and <= 3660. Later reminders
   * appear when the object is computed again (re-run at least daily so the horizon rolls forward).
   */
  horizonDays?: number;
  /**
   * How far back reminders are still produced: those firing from `now - lookbackMinutes` on, so a
   * reminder missed while the process was down still reaches the scheduler, which fires it late within
   * its grace window or drops and counts it. Default 1440 (24 hours); must be >= 0.
   */
  lookbackMinutes?: number;
  /**
   * Budget of recurrence iterations for one calendar object (every RRULE step and RDATE counts). When it
   * runs out, expansion stops, the reminders found so far are kept and a problem is recorded. Default
   * 10 000; must be >= 1.
   */
  maxIterations?: number;
  /**
   * The user's IANA zone: floating times, all-day (DATE) events and unknown TZIDs are read in it.
   * Required; never the server's or this process' zone.
   */
  userTimeZone: string;
  /**
   * Lead time in minutes of a reminder for components without any VALARM. Default: off (undefined),
   * such components give no reminder. 0 means at the start. Must be >= 0.
   */
  defaultAlarmMinutes?: number;
}

export const DEFAULT_HORIZON_DAYS = 30;
export const DEFAULT_LOOKBACK_MINUTES = 24 * 60;
export const DEFAULT_MAX_ITERATIONS = 10_000;

export interface ResolvedOptions {
  userId: string;
  now: number;
  windowStart: number;
  windowEnd: number;
  maxIterations: number;
  userZone: Zone;
  defaultAlarmMinutes: number | undefined;
}

function invalid(option: string, expected: string, value: unknown): InputError {
  return new InputError(`computeReminders: option ${option} must be ${expected}`, {
    code: "REMINDER_OPTIONS_INVALID",
    stage: "caldav",
    details: { option, value: String(value) },
  });
}

/** Validates and fills defaults; throws InputError (code REMINDER_OPTIONS_INVALID) naming the option. */
export function resolveOptions(options: ComputeRemindersOptions): ResolvedOptions {
  const now = options.now instanceof Date ? options.now.getTime() : Number.NaN;
  if (!Number.isFinite(now)) throw invalid("now", "a valid Date", options.now);
  if (typeof options.userId !== "string" || options.userId.length === 0) {
    throw invalid("userId", "a non-empty string", options.userId);
  }
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  if (!(horizonDays > 0 && horizonDays <= 3660)) throw invalid("horizonDays", "> 0 and <= 3660", horizonDays);
  const lookback = options.lookbackMinutes ?? DEFAULT_LOOKBACK_MINUTES;
  if (!(lookback >= 0 && Number.isFinite(lookback))) throw invalid("lookbackMinutes", ">= 0", lookback);
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  if (!(maxIterations >= 1 && Number.isFinite(maxIterations)))
    throw invalid("maxIterations", ">= 1", maxIterations);
  const userZone = ianaZone(options.userTimeZone);
  if (!userZone)
    throw invalid("userTimeZone", "an IANA zone name such as Europe/Berlin", options.userTimeZone);
  const lead = options.defaultAlarmMinutes;
  if (lead !== undefined && !(lead >= 0 && Number.isFinite(lead)))
    throw invalid("defaultAlarmMinutes", ">= 0", lead);
  return {
    userId: options.userId,
    now,
    windowStart: now - lookback * MINUTE_MS,
    windowEnd: now + horizonDays * DAY_MS,
    maxIterations: Math.floor(maxIterations),
    userZone,
    defaultAlarmMinutes: lead,
  };
}
