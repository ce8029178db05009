/** The small pure pieces: dates, ids from hrefs, display names, escapes. */
import { describe, expect, it } from "vitest";
import { normalizeBirthday, normalizeTimestamp } from "../../../src/dav/contacts/vcard/dates.js";
import {
  type ParsedCard,
  deriveDisplayName,
  nameFromN,
  profileId,
  uidFromHref,
} from "../../../src/dav/contacts/vcard/index.js";
import { listValue, structuredValue, unescapeText } from "../../../src/dav/contacts/vcard/values.js";

describe("normalizeBirthday", () => {
  it.each([
    ["1985-04-15", undefined, "1985-04-15"],
    ["19850415", undefined, "1985-04-15"],
    ["1985-04-15T00:00:00Z", undefined, "1985-04-15"],
    ["19850415T000000", undefined, "1985-04-15"],
    ["--0415", undefined, "--04-15"],
    ["--04-15", undefined, "--04-15"],
    ["1604-08-14", "1604", "--08-14"],
    ["1604-02-29", "1604", "--02-29"],
    ["2000-02-29", undefined, "2000-02-29"],
  ])("%s (omit year %s) -> %s", (raw, omit, expected) => {
    expect(normalizeBirthday(raw, omit)).toBe(expected);
  });

  it.each(["1985-13-01", "1985-04-31", "1900-02-29", "--1301", "circa 1800", "", "1985-04"])(
    "%j is not a day",
    (raw) => {
      expect(normalizeBirthday(raw)).toBeUndefined();
    },
  );
});

describe("normalizeTimestamp", () => {
  it.each([
    ["2024-03-01T09:30:12Z", "2024-03-01T09:30:12.000Z"],
    ["20240301T093012Z", "2024-03-01T09:30:12.000Z"],
    ["2024-03-01T09:30:12.250Z", "2024-03-01T09:30:12.250Z"],
    ["2024-03-01T10:30:12+01:00", "2024-03-01T09:30:12.000Z"],
    ["20240301T043012-0500", "2024-03-01T09:30:12.000Z"],
    ["2024-03-01", "2024-03-01T00:00:00.000Z"],
    ["2024-03-01T09:30:12", "2024-03-01T09:30:12.000Z"],
  ])("%s -> %s", (raw, expected) => {
    expect(normalizeTimestamp(raw)).toBe(expected);
  });

  it.each(["2024-02-31T00:00:00Z", "2024-03-01T25:00:00Z", "yesterday", ""])(
    "%j is not a timestamp",
    (raw) => {
      expect(normalizeTimestamp(raw)).toBeUndefined();
    },
  );
});

describe("ids", () => {
  it("joins book and UID with '#'", () => {
    expect(profileId("http://dav.example/a/book/", "urn:uuid:1")).toBe(
      "http://dav.example/a/book/#urn:uuid:1",
    );
  });

  it("derives a UID from the href's last segment, percent-decoded, without .vcf", () => {
    expect(uidFromHref("/alice/contacts/3f2a-11.vcf")).toBe("3f2a-11");
    expect(uidFromHref("/alice/contacts/J%C3%BCrgen%20Schr%C3%B6der.VCF")).toBe("Jürgen Schröder");
    expect(uidFromHref("http://dav.example/alice/contacts/abc")).toBe("abc");
    expect(uidFromHref("/alice/contacts/bad%zz.vcf")).toBe("bad%zz");
  });
});

const emptyCard = (patch: Partial<ParsedCard>): ParsedCard => ({
  version: "3.0",
  nicknames: [],
  emails: [],
  phones: [],
  addresses: [],
  notes: [],
  categories: [],
  urls: [],
  warnings: [],
  ...patch,
});

describe("display names", () => {
  it("orders N given-first, but family-first in CJK scripts", () => {
    expect(nameFromN({ family: "Doe", given: "Jane", additional: "Q.", prefix: "Dr.", suffix: "Jr." })).toBe(
      "Dr. Jane Q. Doe Jr.",
    );
    expect(nameFromN({ family: "山田", given: "太郎", additional: "", prefix: "", suffix: "" })).toBe(
      "山田 太郎",
    );
    expect(nameFromN({ family: "김", given: "민준", additional: "", prefix: "", suffix: "" })).toBe(
      "김 민준",
    );
    expect(nameFromN({ family: "", given: "", additional: "", prefix: "", suffix: "" })).toBeUndefined();
  });

  it("falls back from FN to N, nickname, organisation, email, phone", () => {
    const n = { family: "Doe", given: "Jane", additional: "", prefix: "", suffix: "" };
    expect(deriveDisplayName(emptyCard({ formattedName: "J. Doe", name: n }))).toBe("J. Doe");
    expect(deriveDisplayName(emptyCard({ name: n, nicknames: ["JD"] }))).toBe("Jane Doe");
    expect(
      deriveDisplayName(emptyCard({ nicknames: ["JD"], organization: { name: "Acme", units: [] } })),
    ).toBe("JD");
    expect(deriveDisplayName(emptyCard({ organization: { name: "Acme", units: ["Sales"] } }))).toBe(
      "Acme, Sales",
    );
    expect(deriveDisplayName(emptyCard({ emails: [{ address: "x@example.org", types: [] }] }))).toBe(
      "x@example.org",
    );
    expect(deriveDisplayName(emptyCard({ phones: [{ number: "+1 555", types: [] }] }))).toBe("+1 555");
    expect(deriveDisplayName(emptyCard({}))).toBe("Unnamed contact");
  });
});

describe("text values", () => {
  it("unescapes \\\\ \\, \\; \\: \\n and keeps unknown escapes", () => {
    expect(unescapeText("a\\,b\\;c\\:d\\ne\\Nf\\\\g\\x")).toBe("a,b;c:d\ne\nf\\g\\x");
  });

  it("splits compound values only on unescaped delimiters", () => {
    expect(structuredValue("Doe\\; Sons;Jane;;;")).toStrictEqual(["Doe; Sons", "Jane", "", "", ""]);
    expect(listValue("a,b\\,c,, d ")).toStrictEqual(["a", "b,c", "d"]);
  });
});
