/**
 * "Fires once, even across restarts", against the embedded SQLite store (the real FiredRepo and
 * ReminderSink, on a file that is closed and reopened): the mark is written before delivery, a restart
 * never repeats a delivery, failures are retried only within the process.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { computeReminders } from "../../../src/dav/calendar/reminders/index.js";
import { objectScope, reconcileReminders } from "../../../src/reminders/index.js";
import { openSqliteStore } from "../../../src/store/sqlite/index.js";
import type { StateStore } from "../../../src/store/types.js";
import { CALENDAR_URL, USER, fixture } from "./support/calendars.js";
import { FakeClock } from "./support/fake-clock.js";
import { MemoryFiredRepo } from "./support/memory-stores.js";
import { HOUR, MINUTE, harness, reminder } from "./support/scheduler-harness.js";

const T0 = "2025-03-10T08:00:00.000Z";
let dir: string;
let path: string;
const open: StateStore[] = [];

function openStore(): StateStore {
  const store = openSqliteStore({ path });
  open.push(store);
  return store;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "reminders-"));
  path = join(dir, "state.db");
});

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("restarts", () => {
  it("never fire a reminder twice: each run fires only what no run fired before", async () => {
    let store = openStore();
    await store.reminders.upsert([
      reminder("r1", "2025-03-10T08:00:30.000Z"),
      reminder("r2", "2025-03-10T08:02:00.000Z"),
    ]);

    const first = harness(T0, { sink: store.reminders, fired: store.fired });
    await first.scheduler.start();
    await first.clock.advance(45_000);
    await first.scheduler.stop();
    store.close();
    expect(first.deliveries.map((d) => d.id)).toEqual(["r1"]);

    // Restart 15 s after r1 (within its grace window): r1 is found marked, r2 fires on time.
    store = openStore();
    const second = harness("2025-03-10T08:00:45.000Z", { sink: store.reminders, fired: store.fired });
    await second.scheduler.start();
    await second.clock.advance(2 * MINUTE);
    await second.scheduler.stop();
    store.close();
    expect(second.deliveries.map((d) => [d.id, d.at])).toEqual([["r2", "2025-03-10T08:02:00.000Z"]]);
    expect(second.scheduler.stats()).toMatchObject({ fired: 1, alreadyFired: 1 });

    // A third run right after: both are within grace, both already marked, nothing fires.
    store = openStore();
    const third = harness("2025-03-10T08:03:00.000Z", { sink: store.reminders, fired: store.fired });
    await third.scheduler.start();
    await third.clock.advance(HOUR);
    await third.scheduler.stop();
    expect(third.deliveries).toEqual([]);
    expect(third.scheduler.stats()).toMatchObject({ fired: 0, alreadyFired: 2 });
  });
});

describe("the mark comes first (at most once)", () => {
  it("is written before fire() is called", async () => {
    const fired = new MemoryFiredRepo();
    const seen: boolean[] = [];
    const { clock, scheduler } = harness(T0, {
      fired,
      reminders: [reminder("r", "2025-03-10T08:00:05.000Z")],
      fire: (r) => {
        seen.push(fired.wasFired(r.id, r.fireAt));
      },
    });
    await scheduler.start();
    await clock.advance(5_000);
    expect(seen).toEqual([true]);
    await scheduler.stop();
  });

  it("retries a failing delivery in-process, and after a crash mid-delivery does not deliver again", async () => {
    const store = openStore();
    await store.reminders.upsert([
      reminder("flaky", "2025-03-10T08:00:05.000Z"),
      reminder("broken", "2025-03-10T08:00:06.000Z"),
    ]);
    let flakyCalls = 0;
    const run = harness(T0, {
      sink: store.reminders,
      fired: store.fired,
      retryDelayMs: 30_000,
      fire: (r) => {
        if (r.id === "broken") throw new Error("SMTP down");
        if (++flakyCalls < 3) throw new Error("transient");
      },
    });
    await run.scheduler.start();
    await run.clock.advance(2 * MINUTE);
    // flaky: attempts at 08:00:05, +30 s, +60 s (third succeeds); broken: three failed attempts.
    expect(run.deliveries.filter((d) => d.id === "flaky").map((d) => d.at)).toEqual([
      "2025-03-10T08:00:05.000Z",
      "2025-03-10T08:00:35.000Z",
      "2025-03-10T08:01:05.000Z",
    ]);
    expect(run.deliveries.filter((d) => d.id === "broken")).toHaveLength(3);
    expect(run.scheduler.stats()).toMatchObject({ fired: 1, failed: 1 });
    await run.scheduler.stop();

    // The process restarts within the grace window: neither is delivered again (at most once).
    const again = harness("2025-03-10T08:03:00.000Z", { sink: store.reminders, fired: store.fired });
    await again.scheduler.start();
    await again.clock.advance(HOUR);
    await again.scheduler.stop();
    expect(again.deliveries).toEqual([]);
  });
});

describe("from a calendar object to a delivery", () => {
  it("fires the Google export's reminders at the computed instants, each once", async () => {
    const store = openStore();
    const now = "2025-03-09T12:00:00.000Z";
    const { reminders } = computeReminders(
      { calendarUrl: CALENDAR_URL, href: "google.ics", data: fixture("google-export.ics") },
      { userId: USER, now: new Date(now), userTimeZone: "Europe/Berlin" },
    );
    const diff = await reconcileReminders(
      store.reminders,
      objectScope(CALENDAR_URL, "google.ics"),
      reminders,
    );
    expect(diff.added).toHaveLength(12);

    const clock = new FakeClock(now);
    const run = harness(now, { clock, sink: store.reminders, fired: store.fired });
    await run.scheduler.start();
    await clock.advance(3 * 24 * HOUR + HOUR);
    // Up to 12 Mar 13:00Z: the standup's DISPLAY alarm of 10 Mar 08:20Z. Its EMAIL alarm of 9 Mar
    // 08:30Z was 3.5 h old at start, past the grace window: dropped. The dentist (14:30Z) is still ahead.
    expect(run.deliveries.map((d) => [d.at, d.late])).toEqual([["2025-03-10T08:20:00.000Z", false]]);
    expect(run.scheduler.stats().dropped).toBe(1);
    await clock.advance(2 * HOUR);
    expect(run.deliveries.map((d) => d.at)).toEqual(["2025-03-10T08:20:00.000Z", "2025-03-12T14:30:00.000Z"]);
    await run.scheduler.stop();

    // A re-sync of the unchanged object changes nothing.
    const again = await reconcileReminders(
      store.reminders,
      objectScope(CALENDAR_URL, "google.ics"),
      reminders,
    );
    expect(again).toEqual({ added: [], changed: [], removed: [] });
    // The object deleted on the server: its reminders leave the sink.
    const gone = await reconcileReminders(store.reminders, objectScope(CALENDAR_URL, "google.ics"), []);
    expect(gone.removed).toHaveLength(12);
    expect(await store.reminders.list()).toEqual([]);
  });
});
