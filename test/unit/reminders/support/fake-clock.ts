/**
 * A clock for scheduler tests: a monotonic timeline that drives injected timers, and a wall clock
 * (`now()`) that normally moves with it but can jump on its own, as a real wall clock does on an NTP
 * step, a manual change or a resume from suspend (timers keep counting monotonic time).
 */
import type { SchedulerTimers } from "../../../../src/reminders/index.js";

interface Pending {
  at: number;
  callback: () => void;
}

export class FakeClock {
  private monotonic = 0;
  private wallOffset: number;
  private sequence = 0;
  private readonly pending = new Map<number, Pending>();
  /** Every delay ever passed to setTimeout (to check that no wait exceeds the cap). */
  readonly delays: number[] = [];
  /**
   * How long after its time each timer runs. Default 0 (on the dot); a real timer runs after its
   * time, never on it (Node: 1 ms or more, more under load).
   */
  timerLatenessMs = 0;

  constructor(startIso: string) {
    this.wallOffset = Date.parse(startIso);
  }

  readonly now = (): Date => new Date(this.wallOffset + this.monotonic);

  readonly timers: SchedulerTimers = {
    setTimeout: (callback, ms) => {
      const id = ++this.sequence;
      this.delays.push(ms);
      this.pending.set(id, { at: this.monotonic + Math.max(0, ms) + this.timerLatenessMs, callback });
      return id;
    },
    clearTimeout: (handle) => {
      this.pending.delete(handle as number);
    },
  };

  get pendingTimers(): number {
    return this.pending.size;
  }

  /** Moves both clocks forward by `ms`, running timers as they fall due (and the work they start). */
  async advance(ms: number): Promise<void> {
    const target = this.monotonic + ms;
    for (;;) {
      await settle();
      let nextId: number | undefined;
      let next: Pending | undefined;
      for (const [id, p] of this.pending) {
        if (p.at <= target && (!next || p.at < next.at || (p.at === next.at && id < nextId!))) {
          next = p;
          nextId = id;
        }
      }
      if (!next || nextId === undefined) break;
      this.pending.delete(nextId);
      this.monotonic = Math.max(this.monotonic, next.at);
      next.callback();
    }
    this.monotonic = target;
    await settle();
  }

  /** The wall clock jumps by `ms` (negative: backwards); timers are not affected. */
  jump(ms: number): void {
    this.wallOffset += ms;
  }
}

/** Lets promise chains started by a timer run to their next real wait. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
