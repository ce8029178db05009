/** profileToVCard4: valid 4.0 (checked with vcard4's own strict parser), round trip, folding, carry-over. */
import { parse as parseVCard4 } from "vcard4";
import { describe, expect, it } from "vitest";
import {
  type ContactInput,
  cardToProfile,
  parseCard,
  profileToVCard4,
} from "../../../src/dav/contacts/vcard/index.js";
import { InputError } from "../../../src/errors/index.js";
import { BOOK, readCard } from "./support/fixtures.js";

const NOW = new Date("2024-03-01T09:30:00.000Z");

const contact: ContactInput = {
  uid: "urn:uuid:0e7d4c2a-1b3f-4a5e-8d6c-9f0a1b2c3d4e",
  displayName: "Jürgen Groß, Jr.; 10:30 \\ 😀",
  givenName: "Jürgen",
  familyName: "Groß",
  emails: [
    { address: "juergen@gross.example", type: "work", preferred: true },
    { address: "jg@uni.example", type: "Uni" },
  ],
  phones: [
    { number: "+49 170 1234567", type: "cell,home" },
    { number: "+49 30 111", type: "iPhone" },
  ],
  organization: "Groß; Söhne, R&D",
  title: "Geschäftsführer",
  birthday: "--04-15",
  notes: `Zeile 1\r\nZeile 2, mit; Zeichen: ${"ü😀".repeat(40)}`,
  categories: ["Kunden", "A,B", "Kunden"],
  addresses: [
    {
      street: "Straße 1\nHinterhaus",
      locality: "Berlin",
      postalCode: "10115",
      country: "DE",
      type: "home",
      label: "Straße 1\nBerlin",
    },
    { street: "Am See 3", locality: "Potsdam", type: "Ferienhaus" },
  ],
};

const physicalLines = (text: string): string[] => text.split("\r\n").slice(0, -1);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe("profileToVCard4", () => {
  const written = profileToVCard4(contact, { now: NOW });

  it("writes a vCard 4.0 that vcard4's strict parser accepts", () => {
    expect(written.startsWith("BEGIN:VCARD\r\nVERSION:4.0\r\n")).toBe(true);
    expect(written.endsWith("END:VCARD\r\n")).toBe(true);
    expect(() => parseVCard4(written)).not.toThrow();
  });

  it("reads back into the same profile fields", () => {
    const profile = cardToProfile(parseCard(written), { addressBookUrl: BOOK, href: "/x/y.vcf" });
    expect(profile).toStrictEqual({
      id: `${BOOK}#urn:uuid:0e7d4c2a-1b3f-4a5e-8d6c-9f0a1b2c3d4e`,
      userIds: ["email:juergen@gross.example", "email:jg@uni.example"],
      displayName: "Jürgen Groß, Jr.; 10:30 \\ 😀",
      givenName: "Jürgen",
      familyName: "Groß",
      emails: [
        { address: "juergen@gross.example", type: "work", preferred: true },
        { address: "jg@uni.example", type: "Uni" },
      ],
      phones: [
        { number: "+49 170 1234567", type: "cell,home" },
        { number: "+49 30 111", type: "iPhone" },
      ],
      organization: "Groß; Söhne, R&D",
      title: "Geschäftsführer",
      birthday: "--04-15",
      addresses: [
        {
          street: "Straße 1\nHinterhaus",
          locality: "Berlin",
          postalCode: "10115",
          country: "DE",
          label: "Straße 1\nBerlin",
          type: "home",
        },
        { street: "Am See 3", locality: "Potsdam", type: "Ferienhaus" },
      ],
      notes: `Zeile 1\nZeile 2, mit; Zeichen: ${"ü😀".repeat(40)}`,
      categories: ["Kunden", "A,B"],
      updatedAt: "2024-03-01T09:30:00.000Z",
      source: {
        addressBookUrl: BOOK,
        href: "/x/y.vcf",
        uid: "urn:uuid:0e7d4c2a-1b3f-4a5e-8d6c-9f0a1b2c3d4e",
      },
    });
  });

  it("folds at 75 octets with CRLF and never splits a character", () => {
    const lines = physicalLines(written);
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      expect(new TextEncoder().encode(line).length).toBeLessThanOrEqual(75);
      expect(LONE_SURROGATE.test(line)).toBe(false);
      expect(line.includes("\n") || line.includes("\r")).toBe(false);
    }
    expect(lines.some((l) => l.startsWith(" "))).toBe(true);
  });

  it("writes RFC 6350 types as TYPE and anything else as an Apple-style group label", () => {
    const lines = physicalLines(written.replace(/\r\n /g, ""));
    expect(lines).toContain("EMAIL;TYPE=work;PREF=1:juergen@gross.example");
    expect(lines).toContain('TEL;TYPE="cell,home":+49 170 1234567');
    expect(lines).toContain("item1.EMAIL:jg@uni.example");
    expect(lines).toContain("item1.X-ABLABEL:Uni");
    expect(lines).toContain("item2.TEL:+49 30 111");
    expect(lines).toContain("item2.X-ABLABEL:iPhone");
    expect(lines).toContain("BDAY:--0415");
    // RFC 6350 §3.4 escapes \\ , ; and newlines only; vcard4's "\:" is removed (Radicale stores it as data).
    expect(lines).toContain("FN:Jürgen Groß\\, Jr.\\; 10:30 \\\\ 😀");
    expect(lines.some((l) => /(?<!\\)\\:/.test(l.slice(l.indexOf(":") + 1)))).toBe(false);
    expect(lines).toContain("REV:20240301T093000Z");
    expect(lines).toContain("UID:urn:uuid:0e7d4c2a-1b3f-4a5e-8d6c-9f0a1b2c3d4e");
  });

  it("refuses what cannot be a contact", () => {
    const base = { uid: "u1", displayName: "A" };
    expect(() => profileToVCard4({ ...base, displayName: "  " })).toThrow(InputError);
    expect(() => profileToVCard4({ ...base, uid: "" })).toThrow(/UID/);
    expect(() => profileToVCard4({ ...base, emails: [{ address: "not an address" }] })).toThrow(
      /not an email/,
    );
    expect(() => profileToVCard4({ ...base, emails: [{ address: "a@b\r\nBCC:x@y" }] })).toThrow(
      /not an email/,
    );
    expect(() => profileToVCard4({ ...base, birthday: "15 April" })).toThrow(/YYYY-MM-DD/);
    expect(() => profileToVCard4({ ...base, birthday: "1985-02-30" })).toThrow(/not a day/);
  });

  it("drops control characters that would break the content line", () => {
    const out = profileToVCard4(
      { uid: "u1", displayName: "Eve\u0000\u001b\rX", title: "a\u0007b" },
      { now: NOW },
    );
    const card = parseCard(out);
    expect(card.formattedName).toBe("Eve\nX");
    expect(card.title).toBe("ab");
  });
});

describe("profileToVCard4 with the stored card (update carry-over)", () => {
  const apple = readCard("apple-contacts-3.0.vcf");
  const update: ContactInput = {
    uid: "8F2C5A1E-3B7D-4C9A-9E61-0D4F2B7A1C55",
    displayName: "Dr. Hans-Jürgen Müller",
    emails: ["Uni", "Labor", "Privat", "Alt", "Verein"].map((type, i) => ({
      address: `hjm${i}@example.org`,
      type,
    })),
  };
  const out = profileToVCard4(update, { now: NOW, existing: apple });
  const lines = physicalLines(out.replace(/\r\n /g, ""));

  it("keeps the photo (in the inline form the server stored), the social profile and the labelled URL", () => {
    const photo = /^PHOTO;ENCODING=b;TYPE=JPEG:(.*)$/m.exec(apple.replace(/\r\n /g, ""))?.[1];
    expect(photo?.length).toBeGreaterThan(500);
    expect(lines).toContain(`PHOTO;ENCODING=b;TYPE=JPEG:${photo}`);
    expect(lines).toContain(
      "X-SOCIALPROFILE;TYPE=linkedin;X-USER=hjmueller:http://www.linkedin.com/in/hjmueller",
    );
    expect(lines).toContain("item5.URL;PREF=1:https://beispiel.de/team/mueller");
    expect(lines).toContain("item5.X-ABLABEL:_$!<HomePage>!$_");
    expect(parseCard(out).version).toBe("4.0");
  });

  it("drops what the model owns: old emails, phones, addresses and their group labels", () => {
    expect(
      lines.filter((l) => /^(?:[\w-]+\.)?(?:EMAIL|TEL|ADR|NOTE|BDAY|ORG|TITLE)[;:]/i.test(l)),
    ).toHaveLength(5);
    expect(lines.some((l) => l.includes("hans-juergen.mueller@beispiel.de"))).toBe(false);
    expect(lines.some((l) => /X-ABADR/i.test(l))).toBe(false);
    // Five labels for the five new emails and the URL's; the old email's and phone's labels are gone.
    expect(lines.filter((l) => /^item\d+\.X-ABLABEL:/.test(l))).toHaveLength(6);
    expect(lines.filter((l) => l.endsWith(":Labor"))).toStrictEqual(["item2.X-ABLABEL:Labor"]);
  });

  it("allocates its own group names around the carried-over ones", () => {
    const card = parseCard(out);
    expect(card.emails.map((e) => [e.group, e.label])).toStrictEqual([
      ["item1", "Uni"],
      ["item2", "Labor"],
      ["item3", "Privat"],
      ["item4", "Alt"],
      ["item6", "Verein"],
    ]);
    expect(card.urls).toStrictEqual(["https://beispiel.de/team/mueller"]);
  });

  it("decodes quoted-printable extensions and drops CHARSET when carrying 2.1 lines over", () => {
    const android = profileToVCard4(
      { uid: "u1", displayName: "山田太郎" },
      { now: NOW, existing: readCard("android-2.1-japanese.vcf") },
    );
    const androidLines = physicalLines(android.replace(/\r\n /g, ""));
    expect(androidLines).toContain("X-PHONETIC-FIRST-NAME:たろう");
    expect(androidLines).toContain("X-PHONETIC-LAST-NAME:やまだ");
    const outlook = profileToVCard4(
      { uid: "u2", displayName: "Jürgen Schröder" },
      { now: NOW, existing: readCard("outlook-2.1-utf8.vcf") },
    );
    const design = physicalLines(outlook.replace(/\r\n /g, "")).find((l) => l.startsWith("X-MS-OL-DESIGN"));
    expect(
      design?.startsWith('X-MS-OL-DESIGN:<card xmlns="http://schemas.microsoft.com/office/outlook/12/'),
    ).toBe(true);
    expect(physicalLines(outlook)).not.toContain("LABEL");
  });
});
