/** applyContactChanges: raw address-book changes -> the profile sink, with skips, updates and deletes. */
import { describe, expect, it } from "vitest";
import { cardToProfile, parseCard, profileToVCard4 } from "../../../src/dav/contacts/vcard/index.js";
import { applyContactChanges, reconcileAddressBook } from "../../../src/profiles/index.js";
import { BOOK, hrefOf, readCard } from "./support/fixtures.js";
import { MemoryProfileSink } from "./support/memory-profile-sink.js";
import { objectOf } from "./support/objects.js";

const APPLE = "apple-contacts-3.0.vcf";
const GOOGLE = "google-contacts-3.0.vcf";
const OUTLOOK = "outlook-2.1-utf8.vcf";
const APPLE_ID = `${BOOK}#8F2C5A1E-3B7D-4C9A-9E61-0D4F2B7A1C55`;
const GOOGLE_ID = `${BOOK}#google-contacts-3.0`;
const OUTLOOK_ID = `${BOOK}#outlook-2.1-utf8`;

async function seeded(): Promise<MemoryProfileSink> {
  const sink = new MemoryProfileSink();
  await applyContactChanges(sink, {
    collectionUrl: BOOK,
    added: [objectOf(APPLE), objectOf(GOOGLE), objectOf(OUTLOOK)],
    changed: [],
    removed: [],
  });
  sink.calls.length = 0;
  return sink;
}

describe("applyContactChanges", () => {
  it("adds every readable card, skips a broken card and a group card with their reasons", async () => {
    const sink = new MemoryProfileSink();
    const result = await applyContactChanges(sink, {
      collectionUrl: BOOK,
      added: [
        objectOf(APPLE),
        objectOf("broken-garbage-line.vcf"),
        objectOf(GOOGLE),
        objectOf("apple-group-3.0.vcf"),
        objectOf("broken-no-end.vcf"),
        objectOf(OUTLOOK),
      ],
      changed: [],
      removed: [],
    });
    expect([...sink.profiles.keys()].sort()).toStrictEqual([APPLE_ID, GOOGLE_ID, OUTLOOK_ID].sort());
    expect(result.diff.added.map((p) => p.id)).toStrictEqual([APPLE_ID, GOOGLE_ID, OUTLOOK_ID]);
    expect(result.diff.changed).toStrictEqual([]);
    expect(result.diff.removed).toStrictEqual([]);
    expect(result.skipped.map((s) => [s.href, s.code])).toStrictEqual([
      [hrefOf("broken-garbage-line.vcf"), "VCARD_INVALID_LINE"],
      [hrefOf("apple-group-3.0.vcf"), "VCARD_GROUP"],
      [hrefOf("broken-no-end.vcf"), "VCARD_INVALID"],
    ]);
    expect(result.skipped[0]?.reason).toMatch(/line 8/);
    expect(sink.profiles.get(APPLE_ID)).toStrictEqual(
      cardToProfile(parseCard(readCard(APPLE)), { addressBookUrl: BOOK, href: hrefOf(APPLE) }),
    );
  });

  it("reflects an update of one card and writes only that profile", async () => {
    const sink = await seeded();
    const updated = profileToVCard4(
      {
        uid: "8F2C5A1E-3B7D-4C9A-9E61-0D4F2B7A1C55",
        displayName: "Dr. Hans-Jürgen Müller",
        title: "Institutsleiter",
      },
      { now: new Date("2024-04-02T08:00:00Z"), existing: readCard(APPLE) },
    );
    const result = await applyContactChanges(sink, {
      collectionUrl: BOOK,
      added: [],
      changed: [{ collectionUrl: BOOK, href: hrefOf(APPLE), etag: '"2"', data: updated }],
      removed: [],
    });
    expect(result.diff.changed.map((p) => p.id)).toStrictEqual([APPLE_ID]);
    expect(result.diff.added).toStrictEqual([]);
    expect(sink.profiles.get(APPLE_ID)?.title).toBe("Institutsleiter");
    expect(sink.profiles.get(APPLE_ID)?.updatedAt).toBe("2024-04-02T08:00:00.000Z");
    expect(sink.calls).toStrictEqual([
      { method: "list", count: 0 },
      { method: "upsert", count: 1 },
    ]);
  });

  it("keeps the previous profile when an update arrives broken", async () => {
    const sink = await seeded();
    const before = sink.profiles.get(GOOGLE_ID);
    const result = await applyContactChanges(sink, {
      collectionUrl: BOOK,
      added: [],
      changed: [{ ...objectOf("broken-no-end.vcf"), href: hrefOf(GOOGLE) }],
      removed: [],
    });
    expect(result.skipped.map((s) => s.href)).toStrictEqual([hrefOf(GOOGLE)]);
    expect(result.diff).toStrictEqual({ added: [], changed: [], removed: [] });
    expect(sink.profiles.get(GOOGLE_ID)).toStrictEqual(before);
    expect(sink.calls.map((c) => c.method)).toStrictEqual(["list"]);
  });

  it("reflects a delete and leaves the others", async () => {
    const sink = await seeded();
    const result = await applyContactChanges(sink, {
      collectionUrl: BOOK,
      added: [],
      changed: [],
      removed: [hrefOf(OUTLOOK)],
    });
    expect(result.diff.removed.map((p) => p.id)).toStrictEqual([OUTLOOK_ID]);
    expect([...sink.profiles.keys()].sort()).toStrictEqual([APPLE_ID, GOOGLE_ID].sort());
  });

  it("treats a card moved to a new href (same UID) as one change, not a delete", async () => {
    const sink = await seeded();
    const moved = { ...objectOf(APPLE), href: hrefOf("8F2C5A1E-3B7D-4C9A-9E61-0D4F2B7A1C55.vcf") };
    const result = await applyContactChanges(sink, {
      collectionUrl: BOOK,
      added: [moved],
      changed: [],
      removed: [hrefOf(APPLE)],
    });
    expect(result.diff.removed).toStrictEqual([]);
    expect(result.diff.changed.map((p) => p.source.href)).toStrictEqual([moved.href]);
    expect(sink.profiles.get(APPLE_ID)?.source.href).toBe(moved.href);
  });

  it("a removal in one address book never touches another book's profiles", async () => {
    const sink = await seeded();
    const other = "http://127.0.0.1:5232/alice@example.test/work/";
    await applyContactChanges(sink, {
      collectionUrl: other,
      added: [],
      changed: [],
      removed: [hrefOf(APPLE)],
    });
    expect(sink.profiles.has(APPLE_ID)).toBe(true);
  });
});

describe("reconcileAddressBook", () => {
  it("brings the sink to exactly the book's objects: stale removed, missing added, same untouched", async () => {
    const sink = await seeded();
    const result = await reconcileAddressBook(sink, BOOK, [
      objectOf(APPLE),
      objectOf(GOOGLE),
      objectOf("thunderbird-4.0.vcf"),
    ]);
    expect(result.diff.added.map((p) => p.displayName)).toStrictEqual(["Ольга Иванова"]);
    expect(result.diff.changed).toStrictEqual([]);
    expect(result.diff.removed.map((p) => p.id)).toStrictEqual([OUTLOOK_ID]);
    expect(sink.profiles.size).toBe(3);
  });
});
