/**
 * Every producer fixture (test/fixtures/contacts) to the exact UserProfile the host receives.
 * Expectations are written out in full: a field that appears, disappears or changes fails the test.
 */
import { describe, expect, it } from "vitest";
import type { UserProfile } from "../../../src/contract/sinks.js";
import { cardToProfile, parseCard } from "../../../src/dav/contacts/vcard/index.js";
import { BOOK, hrefOf, readCard } from "./support/fixtures.js";

const profileOf = (name: string): UserProfile =>
  cardToProfile(parseCard(readCard(name)), { addressBookUrl: BOOK, href: hrefOf(name) });

const source = (name: string, uid: string) => ({ addressBookUrl: BOOK, href: hrefOf(name), uid });

describe("cardToProfile on producer fixtures", () => {
  it("Apple Contacts 3.0: grouped email with custom label, pref first, folded NOTE and PHOTO", () => {
    const name = "apple-contacts-3.0.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#8F2C5A1E-3B7D-4C9A-9E61-0D4F2B7A1C55`,
      userIds: [
        "email:hans-juergen.mueller@beispiel.de",
        "email:hj.mueller@uni-beispiel.de",
        "email:hjm@posteo.example",
      ],
      displayName: "Dr. Hans-Jürgen Müller",
      givenName: "Hans-Jürgen",
      familyName: "Müller",
      emails: [
        { address: "hans-juergen.mueller@beispiel.de", type: "work", preferred: true },
        { address: "HJ.Mueller@Uni-Beispiel.de", type: "Uni" },
        { address: "hjm@posteo.example", type: "home" },
      ],
      phones: [
        { number: "+49 171 2345678", type: "cell" },
        { number: "+49 30 12345-0", type: "work" },
        { number: "+49 30 9876543", type: "Labor" },
      ],
      organization: "Beispiel GmbH, Forschung & Entwicklung",
      title: "Leiter Forschung",
      birthday: "1975-11-05",
      addresses: [
        {
          street: "Friedrichstraße 123",
          locality: "Berlin",
          postalCode: "10117",
          country: "Deutschland",
          type: "work",
        },
        {
          street: "Kastanienallee 7\nHinterhaus",
          locality: "Berlin",
          postalCode: "10435",
          country: "Deutschland",
          type: "home",
        },
      ],
      notes:
        "Kennt sich mit Spektroskopie aus, bevorzugt Anrufe vormittags.\nAssistentin: Frau Schulz (Durchwahl -17)",
      updatedAt: "2024-03-01T09:30:12.000Z",
      source: source(name, "8F2C5A1E-3B7D-4C9A-9E61-0D4F2B7A1C55"),
    });
  });

  it("Apple iPhone 3.0: X-APPLE-OMIT-YEAR birthday, built-in label _$!<Other>!$_", () => {
    const name = "apple-iphone-omit-year-3.0.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#E1A4C7B2-5D3F-4E6A-8B9C-1F2D3E4A5B6C`,
      userIds: ["email:sophie.lefevre@example.fr"],
      displayName: "Sophie Lefèvre",
      givenName: "Sophie",
      familyName: "Lefèvre",
      emails: [{ address: "sophie.lefevre@example.fr", type: "other", preferred: true }],
      phones: [{ number: "+33 6 98 76 54 32", type: "iphone,cell" }],
      birthday: "--08-14",
      updatedAt: "2024-02-11T18:04:55.000Z",
      source: source(name, "E1A4C7B2-5D3F-4E6A-8B9C-1F2D3E4A5B6C"),
    });
  });

  it("Google Contacts 3.0 export: no UID (id from the href), no preference, categories", () => {
    const name = "google-contacts-3.0.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#google-contacts-3.0`,
      userIds: [
        "email:priya.raman@gmail.com",
        "email:priya.raman@example-labs.io",
        "email:priya@alumni.example.edu",
      ],
      displayName: "Priya Raman",
      givenName: "Priya",
      familyName: "Raman",
      emails: [
        { address: "priya.raman@gmail.com", type: "home" },
        { address: "Priya.Raman@Example-Labs.io", type: "work" },
        { address: "priya@alumni.example.edu", type: "Alumni" },
      ],
      phones: [
        { number: "+44 7700 900123", type: "cell" },
        { number: "+44 20 7946 0958", type: "work" },
      ],
      organization: "Example Labs",
      title: "CTO",
      birthday: "1988-02-29",
      addresses: [
        {
          street: "221B Baker Street",
          locality: "London",
          postalCode: "NW1 6XE",
          country: "United Kingdom",
          type: "home",
        },
      ],
      notes: "Prefers email over phone. Time zone: London.",
      categories: ["myContacts", "Friends"],
      source: source(name, "google-contacts-3.0"),
    });
  });

  it("Outlook 2.1 (CHARSET=utf-8): bare types, QUOTED-PRINTABLE LABEL and NOTE with soft breaks", () => {
    const name = "outlook-2.1-utf8.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#outlook-2.1-utf8`,
      userIds: ["email:juergen.schroeder@mueller-soehne.example", "email:j.schroeder@example.net"],
      displayName: "Jürgen Schröder",
      givenName: "Jürgen",
      familyName: "Schröder",
      emails: [
        { address: "juergen.schroeder@mueller-soehne.example", preferred: true },
        { address: "j.schroeder@example.net" },
      ],
      phones: [
        { number: "+49 89 1234567", type: "work" },
        { number: "+49 171 2345678", type: "cell" },
        { number: "+49 89 1234568", type: "work,fax" },
      ],
      organization: "Müller & Söhne AG, Vertrieb",
      title: "Vertriebsleiter",
      addresses: [
        {
          street: "Leopoldstraße 12",
          locality: "München",
          region: "Bayern",
          postalCode: "80802",
          country: "Deutschland",
          label: "Leopoldstraße 12\n80802 München\nDeutschland",
          type: "work",
        },
      ],
      notes: "Ansprechpartner für Rahmenverträge.\nBitte immer Fr. Keller in CC.",
      updatedAt: "2024-01-15T08:30:12.000Z",
      source: source(name, "outlook-2.1-utf8"),
    });
  });

  it("Outlook 2.1 (Windows-1252 QUOTED-PRINTABLE): euro sign, en dash and guillemets decoded", () => {
    const name = "outlook-2.1-windows-1252.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#outlook-2.1-windows-1252`,
      userIds: ["email:francoise.levesque@sge-etudes.example"],
      displayName: "Françoise Lévesque",
      givenName: "Françoise",
      familyName: "Lévesque",
      emails: [{ address: "francoise.levesque@sge-etudes.example", preferred: true }],
      phones: [
        { number: "+33 1 23 45 67 89", type: "work" },
        { number: "+33 1 98 76 54 32", type: "home" },
      ],
      organization: "Société Générale d'Études, Achats",
      title: "Responsable des achats – Europe",
      notes: "Rencontrée au salon « Vivatech » 2023.\n€ budget annuel : 2 M",
      updatedAt: "2023-11-20T14:15:00.000Z",
      source: source(name, "outlook-2.1-windows-1252"),
    });
  });

  it("Android 2.1: Japanese names in QUOTED-PRINTABLE UTF-8 across soft line breaks", () => {
    const name = "android-2.1-japanese.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#android-2.1-japanese`,
      userIds: ["email:taro.yamada@example.jp", "email:t-yamada@example.co.jp"],
      displayName: "山田太郎",
      givenName: "太郎",
      familyName: "山田",
      emails: [
        { address: "taro.yamada@example.jp", type: "home" },
        { address: "t-yamada@example.co.jp", type: "work" },
      ],
      phones: [
        { number: "090-1234-5678", type: "cell" },
        { number: "03-1234-5678", type: "work" },
      ],
      organization: "株式会社サンプル",
      title: "部長",
      birthday: "1982-07-07",
      addresses: [
        {
          street: "千代田区丸の内1-1",
          locality: "東京都",
          postalCode: "100-0005",
          country: "日本",
          type: "work",
        },
      ],
      notes: "毎週月曜日に定例会議。",
      source: source(name, "android-2.1-japanese"),
    });
  });

  it("Nokia 2.1 without FN: display name from N, bare PREF moves the mobile number first", () => {
    const name = "nokia-2.1-no-fn.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#nokia-2.1-no-fn`,
      userIds: ["email:matti.virtanen@example.fi"],
      displayName: "Matti Virtanen",
      givenName: "Matti",
      familyName: "Virtanen",
      emails: [{ address: "Matti.Virtanen@example.fi" }],
      phones: [
        { number: "+358401234567", type: "cell" },
        { number: "+35891234567", type: "home" },
      ],
      source: source(name, "nokia-2.1-no-fn"),
    });
  });

  it("Thunderbird 4.0: Cyrillic, PREF=1, VALUE=TEXT phones, lines folded inside multi-byte text", () => {
    const name = "thunderbird-4.0.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#0d5c6b2a-9f1e-4c3b-8a7d-2e6f5a4b3c21`,
      userIds: ["email:olga.ivanova@primer.example", "email:olga.ivanova@mail.example"],
      displayName: "Ольга Иванова",
      givenName: "Ольга",
      familyName: "Иванова",
      emails: [
        { address: "olga.ivanova@primer.example", preferred: true },
        { address: "Olga.Ivanova@Mail.example", type: "home" },
      ],
      phones: [
        { number: "+7 916 123-45-67", type: "cell" },
        { number: "+7 495 123-45-67", type: "work" },
      ],
      organization: "ООО «Пример», Отдел продаж",
      title: "Менеджер по работе с ключевыми клиентами в Центральном федеральном округе",
      birthday: "1990-03-12",
      addresses: [
        {
          street: "ул. Тверская, д. 1, офис 305",
          locality: "Москва",
          postalCode: "125009",
          country: "Россия",
          type: "work",
        },
      ],
      notes: "Говорит по-английски и по-немецки.",
      source: source(name, "0d5c6b2a-9f1e-4c3b-8a7d-2e6f5a4b3c21"),
    });
  });

  it("Thunderbird writing 3.0: a 4.0-style PREF=1 parameter still marks the preferred address", () => {
    const name = "thunderbird-3.0.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#5b8e2f14-7c3a-4d9e-b1f6-3a2c4e5d6f70`,
      userIds: ["email:lukasz@wisniewski.example", "email:lukasz.wisniewski@przyklad.example"],
      displayName: "Łukasz Wiśniewski",
      givenName: "Łukasz",
      familyName: "Wiśniewski",
      emails: [
        { address: "lukasz@wisniewski.example", preferred: true },
        { address: "lukasz.wisniewski@przyklad.example", type: "work" },
      ],
      phones: [{ number: "+48 601 234 567", type: "cell" }],
      organization: "Przykład Sp. z o.o.",
      birthday: "1979-01-30",
      notes: "Zna się na logistyce.",
      updatedAt: "2024-02-12T07:15:00.000Z",
      source: source(name, "5b8e2f14-7c3a-4d9e-b1f6-3a2c4e5d6f70"),
    });
  });

  it("Thunderbird legacy 2.1: lower-case property names, VERSION after the properties", () => {
    const name = "thunderbird-legacy-2.1.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#thunderbird-legacy-2.1`,
      userIds: ["email:jane.doe@acme-widgets.example"],
      displayName: "Jane Doe",
      givenName: "Jane",
      familyName: "Doe",
      emails: [{ address: "jane.doe@acme-widgets.example" }],
      phones: [
        { number: "+1 217 555 0100", type: "work" },
        { number: "+1 217 555 0199", type: "cell" },
      ],
      organization: "Acme Widgets, Sales",
      title: "Account Manager",
      addresses: [
        {
          street: "123 Main Street",
          locality: "Springfield",
          region: "IL",
          postalCode: "62701",
          country: "USA",
        },
      ],
      notes: "Call before 5pm Central.",
      source: source(name, "thunderbird-legacy-2.1"),
    });
  });

  it("Radicale-stored 3.0 from DAVx5: TYPE=INTERNET,work,pref lists; a case-variant duplicate address is dropped", () => {
    const name = "radicale-davx5-3.0.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#6d8c1f0e-4b2a-4f7e-9a3c-5e1d2b7f8a90`,
      userIds: ["email:jean-luc.dupont@exemple.fr", "email:jl.dupont@maison.example"],
      displayName: "Jean-Luc Dupont",
      givenName: "Jean-Luc",
      familyName: "Dupont",
      emails: [
        { address: "Jean-Luc.Dupont@Exemple.fr", type: "work", preferred: true },
        { address: "jl.dupont@maison.example", type: "home" },
      ],
      phones: [{ number: "+33 6 12 34 56 78", type: "cell" }],
      organization: "Exemple SARL",
      categories: ["Clients", "Paris"],
      updatedAt: "2024-02-10T10:15:00.000Z",
      source: source(name, "6d8c1f0e-4b2a-4f7e-9a3c-5e1d2b7f8a90"),
    });
  });

  it("vCard 4.0: PREF levels order the addresses, group label, tel: URI, LABEL parameter, --MMDD", () => {
    const name = "rfc6350-pref-groups-4.0.vcf";
    expect(profileOf(name)).toStrictEqual({
      id: `${BOOK}#urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1`,
      userIds: [
        "email:amelia@okafor.example",
        "email:amelia.okafor@hospital.example",
        "email:a.okafor-nwosu@research.example",
      ],
      displayName: "Dr. Amelia Okafor-Nwosu",
      givenName: "Amelia",
      familyName: "Okafor-Nwosu",
      emails: [
        { address: "amelia@okafor.example", type: "home", preferred: true },
        { address: "amelia.okafor@hospital.example", type: "work" },
        { address: "a.okafor-nwosu@research.example", type: "Research" },
      ],
      phones: [
        { number: "+1-555-555-5555;ext=5555", type: "work" },
        { number: "+1-555-555-1234", type: "home" },
      ],
      organization: "Example Hospital, Cardiology",
      title: "Consultant Cardiologist",
      birthday: "--02-03",
      addresses: [
        {
          street: "100 Waters Edge",
          locality: "Baytown",
          region: "LA",
          postalCode: "30314",
          country: "United States of America",
          label: "100 Waters Edge\nBaytown, LA 30314\nUnited States of America",
          type: "work",
        },
      ],
      notes: "Prefers Signal for urgent messages.\n\nOn call every second weekend.",
      categories: ["Doctors", "Family Friends"],
      updatedAt: "2024-02-28T12:00:00.000Z",
      source: source(name, "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1"),
    });
  });
});
