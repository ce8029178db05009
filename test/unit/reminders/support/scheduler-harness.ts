/** Builds a ReminderScheduler on a FakeClock and records every delivery. */
import type { Reminder, ReminderSink } from "../../../../src/contract/sinks.js";
import {
  type FireContext,
  ReminderScheduler,
  type ReminderSchedulerOptions,
} from "../../../../src/reminders/index.js";
import type { FiredRepo } from "../../../../src/store/types.js";
import { FakeClock } from "./fake-clock.js";
import { MemoryFiredRepo, MemoryReminderSink } from "./memory-stores.js";

export interface Delivery {
  id: string;
  /** The wall clock when fire() was called. */
  at: string;
  late: boolean;
  delayMs: number;
}

export function reminder(id: string, fireAt: string, title = id): Reminder {
  const at = new Date(fireAt);
  return {
    id,
    userId: "email:alice@example.com",
    title,
    fireAt: at,
    eventStart: new Date(at.getTime() + 15 * 60_000),
    component: "VEVENT",
    source: { calendarUrl: "https://dav.example.com/cal/", href: `${id}.ics`, uid: id },
  };
}

export function harness(
  start: string,
  options: {
    reminders?: Reminder[];
    sink?: ReminderSink;
    fired?: FiredRepo;
    clock?: FakeClock;
    fire?: (r: Reminder, context: FireContext) => void | Promise<void>;
  } & Partial<ReminderSchedulerOptions> = {},
) {
  const clock = options.clock ?? new FakeClock(start);
  const sink = options.sink ?? new MemoryReminderSink(options.reminders ?? []);
  const fired = options.fired ?? new MemoryFiredRepo();
  const deliveries: Delivery[] = [];
  const scheduler = new ReminderScheduler({
    ...options,
    sink,
    fired,
    now: clock.now,
    timers: clock.timers,
    fire: async (r, context) => {
      deliveries.push({
        id: r.id,
        at: clock.now().toISOString(),
        late: context.late,
        delayMs: context.delayMs,
      });
      await options.fire?.(r, context);
    },
  });
  return { clock, sink, fired, scheduler, deliveries };
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
