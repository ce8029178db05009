/**
 * The loop guard over the shared real-mail corpus (/work/shared/corpus, read in place, never copied):
 * every message tagged as robot mail in MANIFEST.json (auto-reply, dsn-bounce, mailing-list,
 * feedback-report-arf, read-receipt-mdn) and every sisimai case with isBounce or autoReply must be
 * refused with the matching kind; `not-a-bounce` and every untagged message (people's mail) must be
 * accepted. Skipped when the corpus is absent.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkLoop, type LoopKind, type LoopVerdict } from "../../../src/guards/index.js";
import { readEml, toGuardInput } from "./support/read-eml.js";

const CORPUS = join(import.meta.dirname, "../../../../shared/corpus");
const present = existsSync(join(CORPUS, "MANIFEST.json"));

interface ManifestFile {
  file: string;
  kind: string;
  tags: string[];
}

/** Tag -> the verdict kinds that are right for it. */
const ROBOT_TAGS: Record<string, readonly LoopKind[]> = {
  "auto-reply": ["auto-reply"],
  "dsn-bounce": ["bounce"],
  "feedback-report-arf": ["report"],
  "read-receipt-mdn": ["report"],
  "mailing-list": ["list", "bounce"],
};

/**
 * Files whose only list evidence is elsewhere: RubyForge's forum notification is tagged
 * mailing-list for its "[skynet-help]" subject tag, but its headers only say From/Return-Path
 * noreply@rubyforge.org. Refused either way; the kind names what the headers show.
 */
const KIND_OVERRIDES: Record<string, readonly LoopKind[]> = {
  "mail-gem/plain_emails/raw_email_trailing_dot.eml": ["no-reply-sender"],
};

const OPTIONS = { ownAddresses: ["hello@cassey.ai"], messageIdDomains: [] };

describe.skipIf(!present)("loop guard over the shared corpus", () => {
  const manifest = present
    ? (JSON.parse(readFileSync(join(CORPUS, "MANIFEST.json"), "utf8")) as { files: ManifestFile[] })
    : { files: [] };
  const messages = manifest.files.filter((f) => f.kind === "message");
  const robots = messages.filter((f) => f.tags.some((t) => t in ROBOT_TAGS));
  const people = messages.filter((f) => f.tags.includes("not-a-bounce"));
  // Everything else: people's mail from every client, forwards, spam, calendar invitations.
  const untagged = messages.filter((f) => !f.tags.some((t) => t in ROBOT_TAGS || t === "not-a-bounce"));
  const sisimai = present
    ? (JSON.parse(readFileSync(join(CORPUS, "sisimai/EXPECTED.json"), "utf8")) as {
        cases: Record<
          string,
          { isBounce: boolean; autoReply?: boolean; bounces?: { feedbackType?: string }[] }
        >;
      })
    : { cases: {} };

  const verdictOf = async (file: string): Promise<LoopVerdict> =>
    checkLoop(toGuardInput(await readEml(join(CORPUS, file))), OPTIONS);

  it("has the tagged files the test is about", () => {
    expect(robots.length).toBeGreaterThanOrEqual(35);
    expect(people.length).toBeGreaterThanOrEqual(2);
  });

  for (const f of robots) {
    const tags = f.tags.filter((t) => t in ROBOT_TAGS);
    it(`refuses ${f.file} [${tags.join(", ")}]`, async () => {
      const v = await verdictOf(f.file);
      expect(v.ok, JSON.stringify(v.signals)).toBe(false);
      if (v.ok) return;
      // The kind must fit at least one of its tags (a Google Groups bounce is both list and bounce).
      const allowed = new Set(KIND_OVERRIDES[f.file] ?? tags.flatMap((t) => ROBOT_TAGS[t]!));
      expect([...allowed], `${v.kind}: ${v.reason}`).toContain(v.kind);
    });
  }

  for (const f of people) {
    it(`accepts ${f.file} [not-a-bounce]`, async () => {
      const v = await verdictOf(f.file);
      expect(v.ok, JSON.stringify(v.signals)).toBe(true);
    });
  }

  for (const [rel, c] of Object.entries(sisimai.cases)) {
    // sisimai reports ARF complaints as isBounce=false with a feedbackType: robot mail all the same.
    const arf = (c.bounces ?? []).some((b) => b.feedbackType);
    const kind: LoopKind | undefined = c.autoReply
      ? "auto-reply"
      : c.isBounce
        ? "bounce"
        : arf
          ? "report"
          : undefined;
    it(`sisimai ${rel}: ${kind ?? "a person"}`, async () => {
      const v = await verdictOf(join("sisimai", rel));
      expect(v.ok, JSON.stringify(v.signals)).toBe(kind === undefined);
      if (!v.ok) expect(v.kind).toBe(kind);
    });
  }

  it("accepts every untagged message (people's mail: no false positives)", async () => {
    expect(untagged.length).toBeGreaterThanOrEqual(60);
    const refused: string[] = [];
    for (const f of untagged) {
      const v = await verdictOf(f.file);
      if (!v.ok) refused.push(`${f.file}: ${v.reason}`);
    }
    expect(refused).toEqual([]);
  });

  it("summary", async () => {
    const counts = { robots: robots.length, robotsRefused: 0, people: people.length, peopleAccepted: 0 };
    const kinds: Record<string, number> = {};
    for (const f of robots) {
      const v = await verdictOf(f.file);
      if (!v.ok) {
        counts.robotsRefused++;
        kinds[v.kind] = (kinds[v.kind] ?? 0) + 1;
      }
    }
    for (const f of people) if ((await verdictOf(f.file)).ok) counts.peopleAccepted++;
    console.info("corpus loop guard:", JSON.stringify({ ...counts, kinds }));
    expect(counts.robotsRefused).toBe(counts.robots);
    expect(counts.peopleAccepted).toBe(counts.people);
  });
});
