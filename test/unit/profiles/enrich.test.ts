/** Sender enrichment: exactly the compact fields, from the sink or the index, never blocking a message. */
import { describe, expect, it } from "vitest";
import type { Logger } from "../../../src/log/index.js";
import {
  ProfileIndex,
  applyContactChanges,
  enrichSender,
  excerpt,
  toSenderProfile,
} from "../../../src/profiles/index.js";
import { BOOK } from "./support/fixtures.js";
import { MemoryProfileSink } from "./support/memory-profile-sink.js";
import { objectOf } from "./support/objects.js";

async function sink(): Promise<MemoryProfileSink> {
  const s = new MemoryProfileSink();
  await applyContactChanges(s, {
    collectionUrl: BOOK,
    added: ["apple-contacts-3.0.vcf", "nokia-2.1-no-fn.vcf"].map((n) => objectOf(n)),
    changed: [],
    removed: [],
  });
  return s;
}

const APPLE_SENDER = {
  id: `${BOOK}#8F2C5A1E-3B7D-4C9A-9E61-0D4F2B7A1C55`,
  name: "Dr. Hans-Jürgen Müller",
  givenName: "Hans-Jürgen",
  organization: "Beispiel GmbH, Forschung & Entwicklung",
  title: "Leiter Forschung",
  phones: [
    { number: "+49 171 2345678", type: "cell" },
    { number: "+49 30 12345-0", type: "work" },
    { number: "+49 30 9876543", type: "Labor" },
  ],
  notes:
    "Kennt sich mit Spektroskopie aus, bevorzugt Anrufe vormittags. Assistentin: Frau Schulz (Durchwahl -17)",
};

describe("enrichSender", () => {
  it("gives a known sender's compact profile, whichever of their addresses wrote", async () => {
    const s = await sink();
    expect(await enrichSender(s, "HJ.Mueller@Uni-Beispiel.de")).toStrictEqual(APPLE_SENDER);
    expect(await enrichSender(s, "hans-juergen.mueller@beispiel.de")).toStrictEqual(APPLE_SENDER);
  });

  it("answers the same from the in-memory index", async () => {
    const index = new ProfileIndex(await sink());
    await index.refresh();
    expect(await enrichSender(index, "hjm@posteo.example")).toStrictEqual(APPLE_SENDER);
  });

  it("leaves out what the card does not have", async () => {
    expect(await enrichSender(await sink(), "matti.virtanen@example.fi")).toStrictEqual({
      id: `${BOOK}#nokia-2.1-no-fn`,
      name: "Matti Virtanen",
      givenName: "Matti",
      phones: [
        { number: "+358401234567", type: "cell" },
        { number: "+35891234567", type: "home" },
      ],
    });
  });

  it("is undefined for strangers and for no address", async () => {
    const s = await sink();
    expect(await enrichSender(s, "stranger@example.com")).toBeUndefined();
    expect(await enrichSender(s, undefined)).toBeUndefined();
    expect(await enrichSender(s, "  ")).toBeUndefined();
  });

  it("logs a failing lookup and lets the message go on without a profile", async () => {
    const s = await sink();
    s.failWith = new Error("database is locked");
    const warnings: unknown[][] = [];
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger;
    expect(await enrichSender(s, "hjm@posteo.example", { logger })).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.[0]).toMatchObject({ err: { message: "database is locked" } });
  });
});

describe("toSenderProfile options", () => {
  it("caps phones and notes, or leaves them out at 0", async () => {
    const profile = (await (await sink()).lookupByEmail("hjm@posteo.example"))!;
    const short = toSenderProfile(profile, { notesMaxChars: 40, maxPhones: 1 });
    expect(short.phones).toStrictEqual([{ number: "+49 171 2345678", type: "cell" }]);
    expect(short.notes).toBe("Kennt sich mit Spektroskopie aus,…");
    const none = toSenderProfile(profile, { notesMaxChars: 0, maxPhones: 0 });
    expect(none.phones).toBeUndefined();
    expect(none.notes).toBeUndefined();
  });

  it("cuts excerpts at a word boundary and never inside a character", () => {
    expect(excerpt("short note", 280)).toBe("short note");
    expect(excerpt("one two three four five", 12)).toBe("one two…");
    expect(excerpt("😀😀😀😀😀😀", 4)).toBe("😀😀😀…");
    expect(excerpt("line one\n\nline two", 100)).toBe("line one line two");
  });
});
