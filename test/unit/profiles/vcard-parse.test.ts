/** parseCard below the profile: the one model, group labels, URLs, broken cards and group cards. */
import { describe, expect, it } from "vitest";
import { isGroupCard, parseCard } from "../../../src/dav/contacts/vcard/index.js";
import { InputError } from "../../../src/errors/index.js";
import { readCard } from "./support/fixtures.js";

describe("parseCard", () => {
  it("reads the version each producer wrote", () => {
    expect(parseCard(readCard("apple-contacts-3.0.vcf")).version).toBe("3.0");
    expect(parseCard(readCard("outlook-2.1-utf8.vcf")).version).toBe("2.1");
    expect(parseCard(readCard("thunderbird-4.0.vcf")).version).toBe("4.0");
    // Mozilla's legacy format writes VERSION last and in lower case.
    expect(parseCard(readCard("thunderbird-legacy-2.1.vcf")).version).toBe("2.1");
  });

  it("keeps the raw TYPE words, the preference level and the decoded group label apart", () => {
    const card = parseCard(readCard("apple-contacts-3.0.vcf"));
    expect(card.emails).toStrictEqual([
      { address: "hans-juergen.mueller@beispiel.de", types: ["internet", "work", "pref"], pref: 1 },
      { address: "HJ.Mueller@Uni-Beispiel.de", types: ["internet"], group: "item1", label: "Uni" },
      { address: "hjm@posteo.example", types: ["internet", "home"] },
    ]);
    // The built-in label of a grouped URL is decoded; URLs are kept on the card (not in the profile).
    expect(card.urls).toStrictEqual(["https://beispiel.de/team/mueller"]);
    expect(card.organization).toStrictEqual({ name: "Beispiel GmbH", units: ["Forschung & Entwicklung"] });
    expect(card.name).toStrictEqual({
      family: "Müller",
      given: "Hans-Jürgen",
      additional: "",
      prefix: "Dr.",
      suffix: "",
    });
    expect(card.uid).toBe("8F2C5A1E-3B7D-4C9A-9E61-0D4F2B7A1C55");
    expect(card.prodid).toBe("-//Apple Inc.//macOS 14.4.1//EN");
    expect(card.warnings).toStrictEqual([]);
  });

  it("reads PREF=1..100 levels and comma TYPE lists of vCard 4.0", () => {
    const card = parseCard(readCard("rfc6350-pref-groups-4.0.vcf"));
    expect(card.emails.map((e) => [e.address, e.pref])).toStrictEqual([
      ["amelia.okafor@hospital.example", 2],
      ["amelia@okafor.example", 1],
      ["a.okafor-nwosu@research.example", undefined],
    ]);
    expect(card.phones[0]).toStrictEqual({
      number: "+1-555-555-5555;ext=5555",
      types: ["work", "voice"],
      pref: 1,
    });
    expect(card.kind).toBe("individual");
    expect(card.notes).toStrictEqual([
      "Prefers Signal for urgent messages.",
      "On call every second weekend.",
    ]);
    expect(card.name?.suffix).toBe("PhD");
    expect(card.name?.additional).toBe("Chidinma");
  });

  it("unescapes Google's backslash-escaped colon in URLs and keeps NICKNAME lists", () => {
    expect(parseCard(readCard("google-contacts-3.0.vcf")).urls).toStrictEqual(["https://priya.example.com"]);
    expect(parseCard(readCard("thunderbird-4.0.vcf")).nicknames).toStrictEqual(["Оля"]);
  });

  it("gives an Outlook LABEL property to the ADR with the same TYPE set", () => {
    const [address] = parseCard(readCard("outlook-2.1-utf8.vcf")).addresses;
    expect(address?.formatted).toBe("Leopoldstraße 12\n80802 München\nDeutschland");
    expect(address?.types).toStrictEqual(["work", "pref"]);
  });

  it("rejects a card with a line that is not a content line, naming the line", () => {
    const parse = () => parseCard(readCard("broken-garbage-line.vcf"));
    expect(parse).toThrow(InputError);
    expect(parse).toThrow(/line 8 .*"zweite Zeile ohne Einrueckung"/);
    try {
      parse();
    } catch (error) {
      expect((error as InputError).code).toBe("VCARD_INVALID_LINE");
      expect((error as InputError).stage).toBe("carddav");
      expect((error as InputError).retryable).toBe(false);
    }
  });

  it("rejects a truncated card (no END:VCARD)", () => {
    expect(() => parseCard(readCard("broken-no-end.vcf"))).toThrow(/no END:VCARD/);
  });

  it("rejects an empty address object", () => {
    expect(() => parseCard("")).toThrow(InputError);
  });

  it("recognises Apple's group cards (X-ADDRESSBOOKSERVER-KIND:group)", () => {
    const group = parseCard(readCard("apple-group-3.0.vcf"));
    expect(group.kind).toBe("group");
    expect(isGroupCard(group)).toBe(true);
    expect(isGroupCard(parseCard(readCard("apple-contacts-3.0.vcf")))).toBe(false);
  });
});
