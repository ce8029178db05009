/** ReminderScheduler on a fake clock: timing, grace, clock jumps, updates, lifecycle, at-most-once. */
import { describe, expect, it } from "vitest";
import { MemoryReminderSink } from "./support/memory-stores.js";
import { DAY, HOUR, MINUTE, harness, reminder } from "./support/scheduler-harness.js";

const T0 = "2025-03-10T08:00:00.000Z";

describe("firing on time", () => {
  it("fires each reminder once at its instant, in order, never early", async () => {
    const { clock, scheduler, deliveries, fired } = harness(T0, {
      reminders: [reminder("b", "2025-03-10T08:01:30.000Z"), reminder("a", "2025-03-10T08:00:30.000Z")],
    });
    await scheduler.start();
    await clock.advance(29_999);
    expect(deliveries).toEqual([]);
    await clock.advance(1);
    expect(deliveries).toEqual([{ id: "a", at: "2025-03-10T08:00:30.000Z", late: false, delayMs: 0 }]);
    await clock.advance(MINUTE);
    expect(deliveries.map((d) => [d.id, d.at])).toEqual([
      ["a", "2025-03-10T08:00:30.000Z"],
      ["b", "2025-03-10T08:01:30.000Z"],
    ]);
    await clock.advance(HOUR);
    expect(deliveries).toHaveLength(2);
    expect(fired.wasFired("a", new Date("2025-03-10T08:00:30.000Z"))).toBe(true);
    expect(scheduler.stats()).toEqual({ fired: 2, late: 0, dropped: 0, alreadyFired: 0, failed: 0 });
    await scheduler.stop();
  });

  it("never waits longer than a minute, even for a reminder three weeks away", async () => {
    const { clock, scheduler, deliveries } = harness(T0, {
      reminders: [reminder("far", "2025-03-31T08:00:00.000Z")],
    });
    await scheduler.start();
    await clock.advance(21 * DAY - 1);
    expect(deliveries).toEqual([]);
    await clock.advance(1);
    expect(deliveries).toEqual([{ id: "far", at: "2025-03-31T08:00:00.000Z", late: false, delayMs: 0 }]);
    expect(Math.max(...clock.delays)).toBe(60_000);
    await scheduler.stop();
  });
});

describe("missed reminders", () => {
  it("fire late within the 15-minute grace window; older ones are dropped and counted, not marked", async () => {
    const { clock, scheduler, deliveries, fired } = harness(T0, {
      reminders: [
        reminder("five-min-ago", "2025-03-10T07:55:00.000Z"),
        reminder("twenty-min-ago", "2025-03-10T07:40:00.000Z"),
        reminder("thirty-s-ago", "2025-03-10T07:59:30.000Z"),
      ],
    });
    await scheduler.start();
    await clock.advance(0);
    expect(deliveries).toEqual([
      { id: "five-min-ago", at: T0, late: true, delayMs: 5 * MINUTE },
      // Within lateAfterMs (60 s): not called late.
      { id: "thirty-s-ago", at: T0, late: false, delayMs: 30_000 },
    ]);
    expect(scheduler.stats()).toMatchObject({ fired: 2, late: 1, dropped: 1 });
    expect(fired.wasFired("twenty-min-ago", new Date("2025-03-10T07:40:00.000Z"))).toBe(false);
    await clock.advance(HOUR);
    expect(scheduler.stats().dropped).toBe(1);
    await scheduler.stop();
  });

  it("with no grace at all still fire when the timer wakes a little after their time", async () => {
    const { clock, scheduler, deliveries } = harness(T0, {
      reminders: [reminder("r", "2025-03-10T08:00:30.000Z")],
      graceMs: 0,
    });
    clock.timerLatenessMs = 3; // as a real timer does: after its time, never on it
    await scheduler.start();
    await clock.advance(MINUTE);
    expect(deliveries).toEqual([{ id: "r", at: "2025-03-10T08:00:30.003Z", late: false, delayMs: 3 }]);
    expect(scheduler.stats()).toMatchObject({ fired: 1, dropped: 0 });
    // Missed by more than the wake-up tolerance (a restart, a suspend): dropped, as grace 0 asks.
    const late = harness("2025-03-10T08:05:00.000Z", {
      reminders: [reminder("old", "2025-03-10T08:00:30.000Z")],
      graceMs: 0,
    });
    await late.scheduler.start();
    await late.clock.advance(0);
    expect(late.deliveries).toEqual([]);
    expect(late.scheduler.stats()).toMatchObject({ fired: 0, dropped: 1 });
    await late.scheduler.stop();
    await scheduler.stop();
  });
});

describe("wall-clock jumps", () => {
  it("forward: fires what was skipped late, drops what is older than the grace window", async () => {
    const { clock, scheduler, deliveries } = harness(T0, {
      reminders: [
        reminder("soon", "2025-03-10T08:10:00.000Z"),
        reminder("later", "2025-03-10T11:00:00.000Z"),
      ],
    });
    await scheduler.start();
    await clock.advance(0);
    clock.jump(20 * MINUTE); // wall 08:20, timers unaware
    await clock.advance(MINUTE); // the next wake-up, at most a minute later: wall 08:21
    expect(deliveries).toEqual([
      { id: "soon", at: "2025-03-10T08:21:00.000Z", late: true, delayMs: 11 * MINUTE },
    ]);
    clock.jump(3 * HOUR); // wall 11:21
    await clock.advance(MINUTE); // wall 11:22: "later" is 22 minutes old
    expect(deliveries).toHaveLength(1);
    expect(scheduler.stats()).toMatchObject({ fired: 1, late: 1, dropped: 1 });
    await scheduler.stop();
  });

  it("backward: a reminder that fired does not fire again when its time comes round again", async () => {
    const { clock, scheduler, deliveries } = harness(T0, {
      reminders: [reminder("r", "2025-03-10T08:01:00.000Z")],
    });
    await scheduler.start();
    await clock.advance(MINUTE);
    expect(deliveries).toHaveLength(1);
    clock.jump(-10 * MINUTE); // wall 07:51
    await clock.advance(30 * MINUTE); // wall passes 08:01 again
    expect(deliveries).toHaveLength(1);
    await scheduler.stop();
  });
});

describe("update(diff)", () => {
  it("adds, moves and removes reminders of a running scheduler", async () => {
    const r1 = reminder("r1", "2025-03-10T08:10:00.000Z");
    const r2 = reminder("r2", "2025-03-10T08:20:00.000Z");
    const { clock, scheduler, deliveries } = harness(T0, { reminders: [r1, r2] });
    await scheduler.start();
    await clock.advance(MINUTE);
    scheduler.update({
      added: [reminder("r3", "2025-03-10T08:05:00.000Z")],
      changed: [reminder("r1", "2025-03-10T08:15:00.000Z")],
      removed: [r2],
    });
    await clock.advance(30 * MINUTE);
    expect(deliveries.map((d) => [d.id, d.at])).toEqual([
      ["r3", "2025-03-10T08:05:00.000Z"],
      ["r1", "2025-03-10T08:15:00.000Z"],
    ]);
    expect(scheduler.size).toBe(2);
    await scheduler.stop();
  });

  it("fires a reminder again when its event moves after it fired (new fire instant, new mark)", async () => {
    const { clock, scheduler, deliveries } = harness(T0, {
      reminders: [reminder("r", "2025-03-10T08:01:00.000Z")],
    });
    await scheduler.start();
    await clock.advance(2 * MINUTE);
    scheduler.update({ added: [], changed: [reminder("r", "2025-03-10T08:30:00.000Z")], removed: [] });
    await clock.advance(HOUR);
    expect(deliveries.map((d) => d.at)).toEqual(["2025-03-10T08:01:00.000Z", "2025-03-10T08:30:00.000Z"]);
    await scheduler.stop();
  });
});

describe("lifecycle", () => {
  it("start() and stop() are idempotent; no timer outlives stop(); it can start again", async () => {
    const sink = new MemoryReminderSink([reminder("r", "2025-03-10T09:00:00.000Z")]);
    const { clock, scheduler, deliveries } = harness(T0, { sink });
    await Promise.all([scheduler.start(), scheduler.start()]);
    await scheduler.start();
    expect(sink.listCalls).toBe(1);
    await clock.advance(MINUTE);
    expect(clock.pendingTimers).toBe(1);
    await Promise.all([scheduler.stop(), scheduler.stop()]);
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(2 * HOUR);
    expect(deliveries).toEqual([]);
    clock.jump(-2 * HOUR);
    await scheduler.start();
    await clock.advance(HOUR);
    expect(deliveries.map((d) => d.at)).toEqual(["2025-03-10T09:00:00.000Z"]);
    await scheduler.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it("stop() aborts an in-flight delivery and waits for it", async () => {
    let aborted = false;
    const { clock, scheduler } = harness(T0, {
      reminders: [reminder("slow", "2025-03-10T08:00:10.000Z")],
      fire: (_r, { signal }) =>
        new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve();
          }),
        ),
    });
    await scheduler.start();
    await clock.advance(10_000);
    expect(aborted).toBe(false);
    await scheduler.stop();
    expect(aborted).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });
});
