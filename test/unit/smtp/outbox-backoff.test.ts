import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY_POLICY, backoffDelay, decideRetry } from "../../../src/outbox/index.js";

const policy = DEFAULT_RETRY_POLICY;

describe("backoffDelay", () => {
  it("doubles from 1 s and stays within [half, all] of the ceiling, never under 1 s", () => {
    for (let retry = 1; retry <= 12; retry++) {
      const ceiling = Math.min(300_000, 1_000 * 2 ** (retry - 1));
      const low = backoffDelay(retry, policy, () => 0);
      const high = backoffDelay(retry, policy, () => 0.999999);
      expect(low).toBe(Math.max(1_000, ceiling / 2));
      expect(high).toBeLessThanOrEqual(ceiling);
      expect(high).toBeGreaterThan(ceiling * 0.99);
    }
  });

  it("caps at 5 minutes however many retries", () => {
    expect(backoffDelay(1_000, policy, () => 0.999999)).toBeLessThanOrEqual(300_000);
    expect(backoffDelay(1_000, policy, () => 0)).toBe(150_000);
  });

  it("spreads retries (jitter)", () => {
    const values = new Set(Array.from({ length: 20 }, (_, i) => backoffDelay(6, policy, () => i / 20)));
    expect(values.size).toBe(20);
  });
});

describe("decideRetry", () => {
  const createdAt = new Date("2026-11-21T00:00:00Z");

  it("schedules the next attempt after the backoff", () => {
    const now = new Date("2026-11-21T00:00:05Z");
    const decision = decideRetry({ attempts: 3, createdAt, now }, policy, () => 0);
    expect(decision).toEqual({ retry: true, at: new Date(now.getTime() + 2_000) });
  });

  it("honours the server's or the limiter's retryAfter as a lower bound", () => {
    const now = new Date("2026-11-21T00:00:05Z");
    const decision = decideRetry({ attempts: 1, createdAt, now, error: { retryAfter: 90 } }, policy, () => 0);
    expect(decision).toEqual({ retry: true, at: new Date(now.getTime() + 90_000) });
  });

  it("never schedules past the deadline, and gives up at it", () => {
    const nearEnd = new Date(createdAt.getTime() + policy.maxTotalMs - 10_000);
    const last = decideRetry({ attempts: 200, createdAt, now: nearEnd }, policy, () => 0.5);
    expect(last).toEqual({ retry: true, at: new Date(createdAt.getTime() + policy.maxTotalMs) });
    const atEnd = decideRetry(
      { attempts: 201, createdAt, now: new Date(createdAt.getTime() + policy.maxTotalMs) },
      policy,
    );
    expect(atEnd.retry).toBe(false);
  });

  it("gives up after maxAttempts", () => {
    const decision = decideRetry({ attempts: 5, createdAt, now: createdAt }, { ...policy, maxAttempts: 5 });
    expect(decision).toEqual({ retry: false, reason: "gave up after 5 attempts" });
  });
});
