/**
 * ReminderScheduler: holds the current reminder set and fires each reminder once, at its time.
 *
 * Once, across restarts — the mark comes first (at most once). Before `fire` runs, the scheduler
 * writes the fired mark for (id, fire instant) through the FiredRepo (a synchronous SQLite commit in the
 * embedded store); if the mark already exists, the reminder is not fired. The other order (fire, then
 * mark) is at least once: a crash between the two delivers the reminder again after the restart, and a
 * reminder that arrives twice is exactly what "fires once" rules out. The price of this order is that a
 * crash between the mark and the delivery loses that one reminder. The window is kept small by what
 * `fire` should do: hand the reminder to something durable right away (the channel enqueues an email in
 * the outbox, itself a synchronous commit, which retries delivery across restarts), so mark + enqueue
 * behave as exactly once. A `fire` that throws is retried in this process (`retryAttempts`), never
 * after a restart.
 *
 * Time: no timer is longer than `maxWaitMs` (default 60 s). Each wake-up re-reads `now()` and fires
 * what is due, so a wall-clock jump forward fires what was skipped (late, within `graceMs`; older ones
 * are dropped and counted), a jump backward never refires (marks and the in-memory `settled` set), and
 * a reminder weeks away costs one cheap scan a minute rather than a 3-week setTimeout (which Node caps
 * at 24.8 days and which drifts across suspend).
 *
 * Lifecycle: start() loads the set from the sink and resolves once scheduling runs; stop() clears the
 * timer, aborts in-flight deliveries through their signal, waits for them, and resolves with no timer
 * left. Both are idempotent. update(diff) applies a sync's changes.
 */
import type { Reminder } from "../contract/sinks.js";
import type { ReminderDiff } from "../dav/calendar/reminders/diff.js";
import { silentLogger, type Logger } from "../log/index.js";
import type { FiredRepo } from "../store/types.js";
import type { FireReminder, ReminderSchedulerOptions, SchedulerStats, SchedulerTimers } from "./types.js";

export const DEFAULT_GRACE_MS = 15 * 60_000;
export const DEFAULT_LATE_AFTER_MS = 60_000;
export const DEFAULT_MAX_WAIT_MS = 60_000;
export const DEFAULT_RETRY_ATTEMPTS = 3;
export const DEFAULT_RETRY_DELAY_MS = 30_000;
/**
 * A delay this small is the timer's own wake-up, not a miss: a timer runs after its time, never on
 * it (Node: 1 ms or more, seconds under load or a long GC pause), so without it a grace of 0 would
 * drop every reminder. Added to `graceMs`; a grace of 0 therefore means "on time or not at all".
 */
export const WAKE_UP_TOLERANCE_MS = 5_000;

const defaultTimers: SchedulerTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface Retry {
  reminder: Reminder;
  attempts: number;
  nextAt: number;
}

const keyOf = (r: Reminder) => `${r.id}@${r.fireAt.getTime()}`;

export class ReminderScheduler {
  private readonly options: ReminderSchedulerOptions;
  private readonly fired: FiredRepo;
  private readonly fire: FireReminder;
  private readonly now: () => Date;
  private readonly timers: SchedulerTimers;
  private readonly graceMs: number;
  private readonly lateAfterMs: number;
  private readonly maxWaitMs: number;
  private readonly retryAttempts: number;
  private readonly retryDelayMs: number;
  private readonly log: Logger;

  private readonly reminders = new Map<string, Reminder>();
  /** Keys (id@fireAt) handled in this process: fired, dropped or found marked. */
  private readonly settled = new Set<string>();
  private readonly retries = new Map<string, Retry>();
  private readonly counters: SchedulerStats = { fired: 0, late: 0, dropped: 0, alreadyFired: 0, failed: 0 };

  private state: "idle" | "starting" | "running" | "stopping" = "idle";
  private starting?: Promise<void>;
  private stopping?: Promise<void>;
  private timer: unknown;
  private abort = new AbortController();
  private evaluation?: Promise<void>;
  private rerun = false;

  constructor(options: ReminderSchedulerOptions) {
    this.options = options;
    this.fired = options.fired;
    this.fire = options.fire;
    this.now = options.now ?? (() => new Date());
    this.timers = options.timers ?? defaultTimers;
    this.graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.lateAfterMs = options.lateAfterMs ?? DEFAULT_LATE_AFTER_MS;
    this.maxWaitMs = Math.max(1, options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS);
    this.retryAttempts = Math.max(1, options.retryAttempts ?? DEFAULT_RETRY_ATTEMPTS);
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    this.log = (options.logger ?? silentLogger()).child({ stage: "reminders" });
  }

  /** Loads the reminder set from the sink and starts firing. Idempotent; rejects when the sink fails. */
  start(): Promise<void> {
    if (this.state === "running") return Promise.resolve();
    if (this.state === "starting" && this.starting) return this.starting;
    if (this.stopping) return this.stopping.then(() => this.start());
    this.state = "starting";
    this.abort = new AbortController();
    this.starting = (async () => {
      try {
        this.replaceAll(await this.options.sink.list());
      } catch (error) {
        if (this.state === "starting") this.state = "idle";
        throw error;
      }
      if (this.state !== "starting") return;
      this.state = "running";
      this.log.info({ reminders: this.reminders.size }, "reminder scheduler started");
      this.wake();
    })();
    return this.starting;
  }

  /** Stops: no timer left, in-flight deliveries aborted and awaited. Idempotent. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.state === "idle") return Promise.resolve();
    this.state = "stopping";
    this.clearTimer();
    this.abort.abort();
    const starting = this.starting;
    this.stopping = (async () => {
      await starting?.catch(() => undefined);
      await this.evaluation;
      this.clearTimer();
      if (this.retries.size > 0) {
        this.log.warn(
          { abandoned: this.retries.size },
          "stopping with failed deliveries pending retry; they stay marked",
        );
        this.retries.clear();
      }
      this.state = "idle";
      this.stopping = undefined;
      this.log.info(this.stats(), "reminder scheduler stopped");
    })();
    return this.stopping;
  }

  /** Applies a sync's diff to the held set and re-evaluates at once. */
  update(diff: ReminderDiff): void {
    for (const r of diff.removed) this.reminders.delete(r.id);
    for (const r of [...diff.added, ...diff.changed]) this.reminders.set(r.id, r);
    this.prune();
    if (this.state === "running") this.wake();
  }

  /** Re-reads the whole set from the sink (e.g. after a horizon roll) and re-evaluates. */
  async reload(): Promise<void> {
    this.replaceAll(await this.options.sink.list());
    if (this.state === "running") this.wake();
  }

  stats(): SchedulerStats {
    return { ...this.counters };
  }

  /** Number of reminders held. */
  get size(): number {
    return this.reminders.size;
  }

  private replaceAll(list: Reminder[]): void {
    this.reminders.clear();
    for (const r of list) this.reminders.set(r.id, r);
    this.prune();
  }

  /** Forgets settled keys and retries of reminders no longer held (a moved reminder has a new key). */
  private prune(): void {
    const live = new Set<string>();
    for (const r of this.reminders.values()) live.add(keyOf(r));
    for (const key of this.settled) if (!live.has(key)) this.settled.delete(key);
    for (const key of this.retries.keys()) if (!live.has(key)) this.retries.delete(key);
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private wake(): void {
    this.arm(0);
  }

  private arm(ms: number): void {
    this.clearTimer();
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.evaluate();
    }, ms);
  }

  private evaluate(): void {
    if (this.state !== "running") return;
    if (this.evaluation) {
      this.rerun = true;
      return;
    }
    this.evaluation = (async () => {
      do {
        this.rerun = false;
        try {
          await this.runDue();
        } catch (error) {
          this.log.error({ err: error }, "reminder evaluation failed");
        }
      } while (this.rerun && this.state === "running");
    })().finally(() => {
      this.evaluation = undefined;
      if (this.state === "running") this.scheduleNext();
    });
  }

  private scheduleNext(): void {
    const nowMs = this.now().getTime();
    let next = Number.POSITIVE_INFINITY;
    for (const r of this.reminders.values()) {
      const at = r.fireAt.getTime();
      if (at > nowMs && at < next && !this.settled.has(keyOf(r))) next = at;
    }
    for (const retry of this.retries.values()) next = Math.min(next, retry.nextAt);
    this.arm(Math.min(this.maxWaitMs, Math.max(0, next - nowMs)));
  }

  private async runDue(): Promise<void> {
    const nowMs = this.now().getTime();
    const due = [...this.reminders.values()]
      .filter((r) => r.fireAt.getTime() <= nowMs && !this.settled.has(keyOf(r)))
      .sort((a, b) => a.fireAt.getTime() - b.fireAt.getTime() || (a.id < b.id ? -1 : 1));
    for (const r of due) {
      if (this.state !== "running") return;
      if (this.reminders.get(r.id) !== r) continue; // changed or removed meanwhile
      await this.handleDue(r, nowMs);
    }
    for (const [key, retry] of [...this.retries]) {
      if (this.state !== "running") return;
      if (retry.nextAt > this.now().getTime()) continue;
      this.retries.delete(key);
      if (this.reminders.get(retry.reminder.id) !== retry.reminder) continue;
      await this.deliver(retry.reminder, retry.attempts + 1);
    }
  }

  private async handleDue(r: Reminder, nowMs: number): Promise<void> {
    const key = keyOf(r);
    const delayMs = nowMs - r.fireAt.getTime();
    if (delayMs > this.graceMs + WAKE_UP_TOLERANCE_MS) {
      this.settled.add(key);
      if (!this.fired.wasFired(r.id, r.fireAt)) {
        this.counters.dropped++;
        this.log.warn(
          { id: r.id, fireAt: r.fireAt.toISOString(), delayMs },
          "reminder missed beyond the grace window; dropped",
        );
      }
      return;
    }
    let marked: boolean;
    try {
      marked = this.fired.markFired(r.id, r.fireAt);
    } catch (error) {
      // Not settled: the next wake-up tries again (while still within the grace window).
      this.log.error({ err: error, id: r.id }, "cannot record the fired mark; reminder held back");
      return;
    }
    this.settled.add(key);
    if (!marked) {
      this.counters.alreadyFired++;
      return;
    }
    await this.deliver(r, 1);
  }

  private async deliver(r: Reminder, attempt: number): Promise<void> {
    const delayMs = Math.max(0, this.now().getTime() - r.fireAt.getTime());
    const late = delayMs > this.lateAfterMs;
    try {
      await this.fire(r, { late, delayMs, signal: this.abort.signal });
      this.counters.fired++;
      if (late) this.counters.late++;
      this.log.info({ id: r.id, fireAt: r.fireAt.toISOString(), late, delayMs }, "reminder fired");
    } catch (error) {
      if (attempt < this.retryAttempts && this.state === "running") {
        this.retries.set(keyOf(r), {
          reminder: r,
          attempts: attempt,
          nextAt: this.now().getTime() + this.retryDelayMs,
        });
        this.log.warn({ err: error, id: r.id, attempt }, "reminder delivery failed; will retry");
      } else {
        this.counters.failed++;
        this.log.error(
          { err: error, id: r.id, attempt },
          "reminder delivery failed; giving up (marked fired)",
        );
      }
    }
  }
}
