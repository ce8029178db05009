/**
 * Every guard over real-client fixture files (test/fixtures/guards/*.eml) with the verdicts in
 * expected.json: loop kind and exact signal set, sender-auth result and method, allowlist, and the
 * first refusal of runGuards.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type GuardConfig, type RateCounter, runGuards } from "../../../src/guards/index.js";
import { readEml, toGuardInput } from "./support/read-eml.js";

const DIR = join(import.meta.dirname, "../../fixtures/guards");

interface ExpectedMessage {
  file: string;
  loop: string | null;
  signals: string[];
  notes?: string[];
  senderAuth: { result: string; method?: string };
  allowlist: boolean;
  refusal: string | null;
}

const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as {
  config: GuardConfig;
  messages: ExpectedMessage[];
};

const noCounts: RateCounter = { count: () => 0, record: () => {} };

describe("guards over fixture mail", () => {
  for (const e of expected.messages) {
    it(`${e.file}: ${e.refusal ?? "admitted"}`, async () => {
      const input = toGuardInput(await readEml(join(DIR, e.file)));
      const report = runGuards(input, expected.config, { counter: noCounts, now: () => new Date(0) });

      const loop = report.verdicts.loop;
      expect(loop.ok ? null : loop.kind, loop.ok ? "" : loop.reason).toBe(e.loop);
      expect([...new Set(loop.signals.map((s) => s.code))].sort()).toEqual(e.signals);
      for (const note of e.notes ?? []) expect(loop.notes.join("\n")).toContain(note);

      expect(report.senderAuth.result, report.senderAuth.details.reason).toBe(e.senderAuth.result);
      expect(report.senderAuth.method).toBe(e.senderAuth.method);
      expect(report.verdicts.allowlist.ok).toBe(e.allowlist);

      expect(report.ok).toBe(e.refusal === null);
      expect(report.refusal?.code ?? null).toBe(e.refusal);
      if (report.refusal) expect(report.refusal.reply).toBe(false);
    });
  }
});
