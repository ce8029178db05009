import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type GuardConfig, recordAdmitted, runGuards } from "../../../src/guards/index.js";
import { MemoryCounter } from "./support/memory-counter.js";
import { readEml, toGuardInput } from "./support/read-eml.js";

const DIR = join(import.meta.dirname, "../../fixtures/guards");
const CONFIG: GuardConfig = {
  loop: { ownAddresses: ["hello@cassey.ai"] },
  senderAuth: { authservIds: ["mx.cassey.ai"] },
  allowlist: { allowed: ["alice@example.org"] },
};
const T0 = Date.parse("2024-02-14T08:31:12Z");

describe("runGuards", () => {
  it("admits a person's mail and records it once with recordAdmitted", async () => {
    const input = toGuardInput(await readEml(join(DIR, "normal-person.eml")), "c1");
    const counter = new MemoryCounter();
    const report = runGuards(input, CONFIG, { counter, now: () => new Date(T0) });
    expect(report.ok).toBe(true);
    expect(report.refusal).toBeUndefined();
    expect(report.senderAuth).toMatchObject({ result: "pass", method: "dmarc" });
    expect(Object.values(report.verdicts).every((v) => v.ok)).toBe(true);
    expect(counter.events).toEqual([]);
    recordAdmitted(input, report, counter);
    expect(counter.events.map((e) => e.key)).toEqual(["sender:alice@example.org", "conversation:c1"]);
    expect(counter.events.every((e) => e.at === T0)).toBe(true);
  });

  it("reports the first refusal in guard order and every verdict", async () => {
    // The forged mail passes the loop guard and the allowlist but fails sender authentication.
    const input = toGuardInput(await readEml(join(DIR, "spoofed-forged-auth-results.eml")));
    const report = runGuards(
      input,
      { ...CONFIG, rateLimits: { perSender: [{ max: 0, windowSeconds: 60 }] } },
      {
        counter: new MemoryCounter(),
      },
    );
    expect(report.refusal).toMatchObject({ guard: "sender-auth", code: "SENDER_AUTH_FAILED", reply: false });
    expect(report.verdicts.loop.ok).toBe(true);
    expect(report.verdicts.allowlist.ok).toBe(true);
    expect(report.verdicts.rateLimit).toMatchObject({ ok: false, code: "RATE_LIMIT_SENDER" });
  });

  it("files robot mail under the loop guard even when other guards object too", async () => {
    const input = toGuardInput(await readEml(join(DIR, "postfix-bounce.eml")));
    const report = runGuards(input, CONFIG, { counter: new MemoryCounter() });
    expect(report.refusal).toMatchObject({ guard: "loop", code: "LOOP_BOUNCE" });
    expect(report.verdicts.senderAuth.ok).toBe(false);
    expect(report.verdicts.allowlist.ok).toBe(false);
  });

  it("admits again after the window slides because refused messages are not counted", async () => {
    const input = toGuardInput(await readEml(join(DIR, "normal-person.eml")));
    const counter = new MemoryCounter();
    const config = { ...CONFIG, rateLimits: { perSender: [{ max: 2, windowSeconds: 600 }] } };
    const outcomes: boolean[] = [];
    for (let minute = 0; minute < 13; minute++) {
      const report = runGuards(input, config, { counter, now: () => new Date(T0 + minute * 60_000) });
      outcomes.push(report.ok);
      recordAdmitted(input, report, counter);
    }
    // Admitted at minutes 0 and 1; refused through minute 10 (the window includes its start);
    // minute 0 has left the window at minute 11, minute 1 at minute 12.
    expect(outcomes).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
      true,
    ]);
    expect(counter.events).toHaveLength(4);
  });

  it("skips sender auth when no authserv-id is configured", async () => {
    const input = toGuardInput(await readEml(join(DIR, "spoofed-forged-auth-results.eml")));
    const report = runGuards(input, { ...CONFIG, senderAuth: undefined }, { counter: new MemoryCounter() });
    expect(report.ok).toBe(true);
    expect(report.senderAuth).toMatchObject({ result: "none", details: { policy: "off" } });
  });
});
