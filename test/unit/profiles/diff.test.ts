/** diffProfiles: by id and content, whatever the order of either snapshot. */
import { describe, expect, it } from "vitest";
import {
  cardToProfile,
  diffProfiles,
  isEmptyDiff,
  parseCard,
} from "../../../src/dav/contacts/vcard/index.js";
import { BOOK, hrefOf, readCard } from "./support/fixtures.js";

const profile = (name: string) =>
  cardToProfile(parseCard(readCard(name)), { addressBookUrl: BOOK, href: hrefOf(name) });

describe("diffProfiles", () => {
  const apple = profile("apple-contacts-3.0.vcf");
  const google = profile("google-contacts-3.0.vcf");
  const outlook = profile("outlook-2.1-utf8.vcf");

  it("sorts profiles into added, changed and removed", () => {
    const renamed = { ...google, title: "CEO" };
    const diff = diffProfiles([apple, google], [renamed, outlook]);
    expect(diff.added).toStrictEqual([outlook]);
    expect(diff.changed).toStrictEqual([renamed]);
    expect(diff.removed).toStrictEqual([apple]);
    expect(isEmptyDiff(diff)).toBe(false);
  });

  it("sees no change when only key order or undefined members differ", () => {
    const reordered = Object.fromEntries(Object.entries(apple).reverse()) as typeof apple;
    const withUndefined = {
      ...google,
      categories: google.categories,
      organization: google.organization,
      title: undefined,
    };
    const googleNoTitle = { ...google };
    delete googleNoTitle.title;
    const diff = diffProfiles([apple, googleNoTitle], [withUndefined, reordered]);
    expect(isEmptyDiff(diff)).toBe(true);
  });

  it("notices a change inside nested arrays (email order is meaningful: preferred first)", () => {
    const swapped = { ...apple, emails: [...apple.emails].reverse() };
    expect(diffProfiles([apple], [swapped]).changed).toStrictEqual([swapped]);
  });

  it("lets the later of two profiles with one id win", () => {
    const second = { ...apple, displayName: "Second" };
    expect(diffProfiles([], [apple, second]).added).toStrictEqual([second]);
  });
});
