import { describe, expect, it, vi } from "vitest";
import { AbortedError } from "../../../src/errors/index.js";
import { sleep, withTimeout, withWatchdog } from "../../../src/runtime/abort.js";
import { backoffDelay } from "../../../src/runtime/backoff.js";
import { KeyedQueue } from "../../../src/runtime/keyed-queue.js";
import { Mutex } from "../../../src/runtime/mutex.js";

describe("backoffDelay", () => {
  it("doubles from the base, with jitter in the upper half, capped", () => {
    expect(backoffDelay(0, { random: () => 0 })).toBe(500);
    expect(backoffDelay(0, { random: () => 0.999999 })).toBe(1000);
    expect(backoffDelay(3, { random: () => 0 })).toBe(4000);
    expect(backoffDelay(20, { random: () => 0.999999 })).toBe(60_000);
    expect(backoffDelay(20, { random: () => 0 })).toBe(30_000);
  });
});

describe("KeyedQueue", () => {
  it("runs one key in order and different keys in parallel up to the limit", async () => {
    const q = new KeyedQueue(2);
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const task = (name: string, ms: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, ms));
      log.push(`end ${name}`);
      running--;
      return name;
    };
    const results = await Promise.all([
      q.push("a", task("a1", 30)),
      q.push("a", task("a2", 1)),
      q.push("b", task("b1", 5)),
      q.push("c", task("c1", 5)),
    ]);
    expect(results).toEqual(["a1", "a2", "b1", "c1"]);
    expect(peak).toBe(2);
    expect(log.indexOf("end a1")).toBeLessThan(log.indexOf("start a2"));
    await q.onIdle();
    expect(q.size).toBe(0);
  });

  it("keeps going after a task fails", async () => {
    const q = new KeyedQueue(1);
    await expect(q.push("k", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(q.push("k", async () => 7)).resolves.toBe(7);
  });
});

describe("Mutex and timers", () => {
  it("serialises holders", async () => {
    const m = new Mutex();
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        m.run(async () => {
          order.push(n);
          await new Promise((r) => setTimeout(r, 3));
          order.push(n);
        }),
      ),
    );
    expect(order).toEqual([1, 1, 2, 2, 3, 3]);
  });

  it("sleep rejects on abort; withTimeout calls onTimeout", async () => {
    const c = new AbortController();
    const p = sleep(10_000, c.signal);
    c.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    let closed = false;
    await expect(
      withTimeout(new Promise(() => {}), 5, () => {
        closed = true;
        return new Error("timed out");
      }),
    ).rejects.toThrow("timed out");
    expect(closed).toBe(true);
  });

  it("withWatchdog lets work that keeps moving (or whose alive() says so) run past its limit, and ends work that stalls", async () => {
    vi.useFakeTimers();
    try {
      let stalls = 0;
      const onStall = () => {
        stalls++;
        return new Error("stalled");
      };
      // Ten steps of 60 ms each: 600 ms in all, with a watchdog of 100 ms.
      const moving = withWatchdog(
        async (progress) => {
          for (let i = 0; i < 10; i++) {
            await new Promise((r) => setTimeout(r, 60));
            progress();
          }
          return "done";
        },
        100,
        onStall,
      );
      await vi.advanceTimersByTimeAsync(700);
      await expect(moving).resolves.toBe("done");
      expect(stalls).toBe(0);

      // Moves twice, then stalls: ended 100 ms after its last progress, once.
      let late!: () => void;
      const stalling = withWatchdog(
        async (progress) => {
          late = progress;
          await new Promise((r) => setTimeout(r, 50));
          progress();
          await new Promise(() => {});
        },
        100,
        onStall,
      );
      const outcome = stalling.catch((error: Error) => error.message);
      await vi.advanceTimersByTimeAsync(149);
      expect(stalls).toBe(0);
      await vi.advanceTimersByTimeAsync(2);
      expect(await outcome).toBe("stalled");
      // Progress after the end re-arms nothing.
      late();
      await vi.advanceTimersByTimeAsync(500);
      expect(stalls).toBe(1);

      // No progress call, but bytes arrive (what `alive` reports) every 60 ms for 300 ms, then stop.
      let bytes = 0;
      let seen = 0;
      const alive = () => {
        const moved = bytes !== seen;
        seen = bytes;
        return moved;
      };
      const silent = withWatchdog(() => new Promise<never>(() => {}), 100, onStall, alive);
      const ended = silent.catch((error: Error) => error.message);
      for (let i = 0; i < 5; i++) {
        await vi.advanceTimersByTimeAsync(60);
        bytes++;
      }
      expect(stalls).toBe(1);
      // Silent since t=300: ended by t=500 (the first check after the silence that sees nothing new).
      await vi.advanceTimersByTimeAsync(200);
      expect(await ended).toBe("stalled");
      expect(stalls).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
