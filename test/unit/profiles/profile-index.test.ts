/** ProfileIndex and the contacts allowlist, through the guards' real checkAllowlist. */
import { describe, expect, it } from "vitest";
import type { UserProfile } from "../../../src/contract/sinks.js";
import { checkAllowlist } from "../../../src/guards/index.js";
import { ProfileIndex, applyContactChanges, contactsAllowlist } from "../../../src/profiles/index.js";
import { BOOK } from "./support/fixtures.js";
import { MemoryProfileSink } from "./support/memory-profile-sink.js";
import { objectOf } from "./support/objects.js";

async function setup(): Promise<{ sink: MemoryProfileSink; index: ProfileIndex }> {
  const sink = new MemoryProfileSink();
  await applyContactChanges(sink, {
    collectionUrl: BOOK,
    added: ["apple-contacts-3.0.vcf", "google-contacts-3.0.vcf", "android-2.1-japanese.vcf"].map((n) =>
      objectOf(n),
    ),
    changed: [],
    removed: [],
  });
  const index = new ProfileIndex(sink);
  await index.refresh();
  return { sink, index };
}

describe("ProfileIndex", () => {
  it("answers by address in the allowlist's comparison form", async () => {
    const { index } = await setup();
    expect(index.size).toBe(3);
    expect(index.lookup("HJ.Mueller@Uni-Beispiel.de")?.displayName).toBe("Dr. Hans-Jürgen Müller");
    expect(index.lookup("<hj.mueller@uni-beispiel.de>")?.displayName).toBe("Dr. Hans-Jürgen Müller");
    expect(index.lookup("mailto:PRIYA.RAMAN@gmail.com")?.displayName).toBe("Priya Raman");
    expect(index.lookup(" taro.yamada@example.jp ")?.displayName).toBe("山田太郎");
    expect(index.lookup("stranger@example.com")).toBeUndefined();
    expect(index.lookup("not an address")).toBeUndefined();
  });

  it("follows diffs: an added contact is known, a removed one forgotten", async () => {
    const { sink, index } = await setup();
    const added = await applyContactChanges(sink, {
      collectionUrl: BOOK,
      added: [objectOf("thunderbird-4.0.vcf")],
      changed: [],
      removed: ["/alice@example.test/contacts/google-contacts-3.0.vcf"],
    });
    expect(index.has("olga.ivanova@primer.example")).toBe(false);
    index.apply(added.diff);
    expect(index.has("olga.ivanova@primer.example")).toBe(true);
    expect(index.has("Olga.Ivanova@Mail.example")).toBe(true);
    expect(index.has("priya.raman@gmail.com")).toBe(false);
    expect(index.size).toBe(3);
  });

  it("drops an address a changed profile no longer lists", async () => {
    const { index } = await setup();
    const apple = index.lookup("hjm@posteo.example")!;
    const changed: UserProfile = {
      ...apple,
      emails: apple.emails.filter((e) => e.address !== "hjm@posteo.example"),
    };
    index.apply({ added: [], changed: [changed], removed: [] });
    expect(index.has("hjm@posteo.example")).toBe(false);
    expect(index.has("hans-juergen.mueller@beispiel.de")).toBe(true);
  });

  it("compares IDN domains in either form", () => {
    const index = new ProfileIndex({ list: async () => [] });
    const profile: UserProfile = {
      id: `${BOOK}#idn`,
      userIds: ["email:jörg@bücher.example"],
      displayName: "Jörg",
      emails: [{ address: "jörg@bücher.example" }],
      phones: [],
      source: { addressBookUrl: BOOK, href: "/x/idn.vcf", uid: "idn" },
    };
    index.apply({ added: [profile], changed: [], removed: [] });
    expect(index.has("jörg@xn--bcher-kva.example")).toBe(true);
    expect(index.has("JÖRG@BÜCHER.EXAMPLE")).toBe(true);
  });

  it("resolves an address two profiles share: preferred there, then most recently updated", () => {
    const base = {
      userIds: ["email:team@example.org"],
      phones: [],
      source: { addressBookUrl: BOOK, href: "/h", uid: "u" },
    };
    const a: UserProfile = {
      ...base,
      id: "a",
      displayName: "A",
      emails: [{ address: "team@example.org" }],
      updatedAt: "2024-05-01T00:00:00.000Z",
    };
    const b: UserProfile = {
      ...base,
      id: "b",
      displayName: "B",
      emails: [{ address: "team@example.org" }],
      updatedAt: "2024-06-01T00:00:00.000Z",
    };
    const c: UserProfile = {
      ...base,
      id: "c",
      displayName: "C",
      emails: [{ address: "Team@example.org", preferred: true }],
    };
    const index = new ProfileIndex({ list: async () => [] });
    index.apply({ added: [a, b], changed: [], removed: [] });
    expect(index.lookup("team@example.org")?.id).toBe("b");
    index.apply({ added: [c], changed: [], removed: [] });
    expect(index.lookup("team@example.org")?.id).toBe("c");
    index.apply({ added: [], changed: [], removed: [c, b] });
    expect(index.lookup("team@example.org")?.id).toBe("a");
  });
});

describe("contactsAllowlist with the guards' checkAllowlist", () => {
  it("admits a contact's every address and refuses everyone else", async () => {
    const { index } = await setup();
    const contacts = contactsAllowlist(index);
    const check = (address: string) => checkAllowlist(address, { allowed: ["boss@example.org"], contacts });
    expect(check("Priya.Raman@Example-Labs.io")).toStrictEqual({
      ok: true,
      guard: "allowlist",
      via: "contact",
    });
    expect(check("priya@alumni.example.edu")).toStrictEqual({ ok: true, guard: "allowlist", via: "contact" });
    expect(check("boss@example.org")).toMatchObject({ ok: true, via: "entry" });
    expect(check("mallory@example.test")).toMatchObject({ ok: false, code: "ALLOWLIST_DENIED" });
    // A look-alike with a sub-address is not the contact's address.
    expect(check("priya.raman+x@gmail.com")).toMatchObject({ ok: false, code: "ALLOWLIST_DENIED" });
  });
});
