import type { Reminder, ReminderSink } from "../contract/sinks.js";
import type { Logger } from "../log/index.js";
import type { FiredRepo } from "../store/types.js";

export interface FireContext {
  /** True when the reminder goes off more than `lateAfterMs` after its time (restart, sleep, clock jump). */
  late: boolean;
  /** How long after its fire instant the reminder goes off, in ms (0 or more). */
  delayMs: number;
  /** Aborted by stop(); a long delivery should give up on it. */
  signal: AbortSignal;
}

/**
 * Delivers one reminder (e.g. emails the user, emits a `reminder` event). Called at most once per
 * (reminder id, fire instant) across restarts; see ReminderScheduler for why at most once. A throw is
 * retried in this process (`retryAttempts`, `retryDelayMs`), never after a restart.
 */
export type FireReminder = (reminder: Reminder, context: FireContext) => void | Promise<void>;

/** Timer functions (injected so tests drive time). Handles are opaque. */
export interface SchedulerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ReminderSchedulerOptions {
  /** Where the current reminder set lives; read on start() and reload(). */
  sink: ReminderSink;
  /** Durable fired marks, keyed by (id, fire instant). */
  fired: FiredRepo;
  fire: FireReminder;
  /** Wall clock. Default `() => new Date()`. Re-read on every wake-up, so jumps are noticed. */
  now?: () => Date;
  /** Default: the global setTimeout/clearTimeout. */
  timers?: SchedulerTimers;
  /**
   * How late a missed reminder may still fire, in ms. Default 900 000 (15 minutes); 0: only on time
   * (within WAKE_UP_TOLERANCE_MS, 5 s, which is always added: a timer wakes after its time). Older
   * ones are dropped, counted in `stats().dropped` and logged; they are not marked fired.
   */
  graceMs?: number;
  /** Delay after which a firing counts as late (`late: true`), in ms. Default 60 000. */
  lateAfterMs?: number;
  /**
   * Longest single wait, in ms. Default 60 000. The scheduler never sets a timer of weeks: it wakes at
   * least this often and re-evaluates against `now()`, which is what survives wall-clock jumps, suspend
   * and timer drift. Must be >= 1.
   */
  maxWaitMs?: number;
  /** Deliveries attempted per reminder in this process when `fire` throws. Default 3; 1 = no retry. */
  retryAttempts?: number;
  /** Wait between those attempts, in ms. Default 30 000. */
  retryDelayMs?: number;
  /** Default: a silent logger. */
  logger?: Logger;
}

export interface SchedulerStats {
  /** Delivered (fire resolved), on time or late. */
  fired: number;
  /** Of those, late. */
  late: number;
  /** Missed by more than the grace window and not delivered. */
  dropped: number;
  /** Found already marked (fired by an earlier run or another instance). */
  alreadyFired: number;
  /** Deliveries that failed on every attempt (the mark stays: at most once). */
  failed: number;
}
