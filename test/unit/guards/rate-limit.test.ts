import { describe, expect, it } from "vitest";
import {
  checkRateLimits,
  DEFAULT_RATE_LIMITS,
  rateLimitKeys,
  recordRateLimitHit,
} from "../../../src/guards/index.js";
import { MemoryCounter } from "./support/memory-counter.js";

const T0 = Date.parse("2024-02-13T09:00:00Z");
const at = (seconds: number) => new Date(T0 + seconds * 1000);

describe("checkRateLimits", () => {
  it("uses 10/10 min and 60/h per sender and 20/10 min per conversation by default", () => {
    expect(DEFAULT_RATE_LIMITS).toEqual({
      perSender: [
        { max: 10, windowSeconds: 600 },
        { max: 60, windowSeconds: 3600 },
      ],
      perConversation: [{ max: 20, windowSeconds: 600 }],
    });
  });

  it("refuses the 11th message from a sender within 10 minutes and admits again once the window slides", () => {
    const c = new MemoryCounter();
    for (let i = 0; i < 10; i++) {
      const subject = { sender: "Alice@Example.org", now: at(i * 30) };
      expect(checkRateLimits(subject, {}, c).ok).toBe(true);
      recordRateLimitHit(subject, c);
    }
    const eleventh = checkRateLimits({ sender: "alice@example.org", now: at(300) }, {}, c);
    expect(eleventh).toMatchObject({ ok: false, code: "RATE_LIMIT_SENDER", reply: false });
    expect(eleventh.usage[0]).toEqual({
      key: "sender:alice@example.org",
      count: 10,
      max: 10,
      windowSeconds: 600,
    });
    // The window includes its start: the first message (t=0) still counts at t=600, not at t=601.
    expect(checkRateLimits({ sender: "alice@example.org", now: at(600) }, {}, c).ok).toBe(false);
    expect(checkRateLimits({ sender: "alice@example.org", now: at(601) }, {}, c).ok).toBe(true);
  });

  it("applies every window: the hourly one refuses when the short one would admit", () => {
    const c = new MemoryCounter();
    // 6 bursts of 10, one every 10 minutes: never more than 10 in 10 minutes, 60 in the hour.
    for (let burst = 0; burst < 6; burst++) {
      for (let i = 0; i < 10; i++) recordRateLimitHit({ sender: "a@x.example", now: at(burst * 600 + i) }, c);
    }
    const limits = {
      perSender: [{ max: 11, windowSeconds: 600 }, ...DEFAULT_RATE_LIMITS.perSender.slice(1)],
    };
    const v = checkRateLimits({ sender: "a@x.example", now: at(3500) }, limits, c);
    expect(v).toMatchObject({ ok: false, code: "RATE_LIMIT_SENDER" });
    expect(v.ok ? "" : v.reason).toContain("3600");
    expect(v.usage.map((u) => u.count)).toEqual([10, 60]);
  });

  it("limits a conversation across senders", () => {
    const c = new MemoryCounter();
    for (let i = 0; i < 20; i++)
      recordRateLimitHit({ sender: `p${i}@x.example`, conversationId: "c1", now: at(i) }, c);
    expect(
      checkRateLimits({ sender: "new@x.example", conversationId: "c1", now: at(30) }, {}, c),
    ).toMatchObject({
      ok: false,
      code: "RATE_LIMIT_CONVERSATION",
    });
    expect(checkRateLimits({ sender: "new@x.example", conversationId: "c2", now: at(30) }, {}, c).ok).toBe(
      true,
    );
  });

  it("takes custom windows; [] disables a scope and max 0 refuses everything", () => {
    const c = new MemoryCounter();
    recordRateLimitHit({ sender: "a@x.example", now: at(0) }, c);
    const tight = { perSender: [{ max: 1, windowSeconds: 60 }], perConversation: [] };
    expect(checkRateLimits({ sender: "a@x.example", now: at(10) }, tight, c).ok).toBe(false);
    expect(checkRateLimits({ sender: "a@x.example", now: at(61) }, tight, c).ok).toBe(true);
    expect(checkRateLimits({ sender: "a@x.example", now: at(0) }, { perSender: [] }, c).ok).toBe(true);
    expect(
      checkRateLimits(
        { sender: "b@x.example", now: at(0) },
        { perSender: [{ max: 0, windowSeconds: 60 }] },
        c,
      ).ok,
    ).toBe(false);
  });

  it("checking does not record; skipped scopes are not counted", () => {
    const c = new MemoryCounter();
    for (let i = 0; i < 50; i++)
      checkRateLimits({ sender: "a@x.example", conversationId: "c", now: at(i) }, {}, c);
    expect(c.events).toEqual([]);
    recordRateLimitHit({ now: at(0) }, c);
    expect(c.events).toEqual([]);
    expect(rateLimitKeys({ sender: "not an address" })).toEqual({});
  });

  it("records a hit only under the scopes that have limits", () => {
    const c = new MemoryCounter();
    const subject = { sender: "a@x.example", conversationId: "c1", now: at(0) };
    recordRateLimitHit(subject, c);
    expect(c.events.map((e) => e.key)).toEqual(["sender:a@x.example", "conversation:c1"]);
    const none = new MemoryCounter();
    recordRateLimitHit(subject, none, { perSender: [], perConversation: [] });
    expect(none.events).toEqual([]);
    const senderOnly = new MemoryCounter();
    recordRateLimitHit(subject, senderOnly, { perConversation: [] });
    expect(senderOnly.events.map((e) => e.key)).toEqual(["sender:a@x.example"]);
  });
});
