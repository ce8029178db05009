/** `cardToProfile`: a ParsedCard where it lives -> the host's UserProfile. Pure. */
import type { UserProfile } from "../../../contract/sinks.js";
import type { CardEmail, CardName, CardTyped, ParsedCard } from "./types.js";

/** Where the card lives: its address book collection and its href in it. */
export interface CardLocation {
  addressBookUrl: string;
  href: string;
}

/**
 * Stable profile id: address book + UID. The book URL never holds a '#', so the first '#' splits the
 * two unambiguously, and the id stays readable in logs and in the store.
 */
export const profileId = (addressBookUrl: string, uid: string): string => `${addressBookUrl}#${uid}`;

/**
 * For a card without UID (2.1 exports, some hand-written files): the href's last segment without
 * `.vcf`. Stable as long as the object keeps its href, and most servers name objects `<UID>.vcf`
 * anyway, so it usually equals the UID the card would have had.
 */
export function uidFromHref(href: string): string {
  const segment =
    href
      .split(/[?#]/)[0]!
      .split("/")
      .filter((s) => s !== "")
      .pop() ?? href;
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // a malformed escape: keep the segment as it is, it is still stable
  }
  return decoded.replace(/\.vcf$/i, "") || href;
}

/** Type words that say nothing a reader needs (RFC 2426 internet/x400/voice/pref, delivery flags). */
const NOISE: Record<"email" | "phone" | "address", Set<string>> = {
  email: new Set(["internet", "x400", "pref"]),
  phone: new Set(["voice", "pref"]),
  address: new Set(["pref", "postal", "parcel", "dom", "intl"]),
};

/** The group label when there is one (Apple), else the remaining TYPE words joined by ",". */
function typeText(meta: CardTyped, kind: keyof typeof NOISE): string | undefined {
  if (meta.label !== undefined) return meta.label;
  const words = meta.types.filter((t) => !NOISE[kind].has(t));
  return words.length > 0 ? [...new Set(words)].join(",") : undefined;
}

/** Stable sort, most preferred first; instances without a preference keep their order after those with one. */
function byPreference<T extends CardTyped>(items: T[]): T[] {
  return items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => (a.item.pref ?? 1000) - (b.item.pref ?? 1000) || a.index - b.index)
    .map(({ item }) => item);
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

/** A display name from N: "Prefix Given Additional Family Suffix"; family name first in CJK scripts. */
export function nameFromN(name: CardName): string | undefined {
  const parts = CJK.test(name.family + name.given)
    ? [name.prefix, name.family, name.given, name.additional, name.suffix]
    : [name.prefix, name.given, name.additional, name.family, name.suffix];
  const text = parts.filter((p) => p !== "").join(" ");
  return text === "" ? undefined : text;
}

/**
 * FN when the card has one (vCard 3.0/4.0 require it, producers still omit it or leave it empty);
 * else N, nickname, organisation, first email address, first phone number, in that order.
 */
export function deriveDisplayName(card: ParsedCard): string {
  return (
    card.formattedName ??
    (card.name ? nameFromN(card.name) : undefined) ??
    card.nicknames[0] ??
    (card.organization ? organizationText(card.organization) : undefined) ??
    card.emails[0]?.address ??
    card.phones[0]?.number ??
    "Unnamed contact"
  );
}

/** "Name, Unit, Sub-unit" (RFC 6350 §6.6.4), or undefined when every part is empty. */
function organizationText(org: { name: string; units: string[] }): string | undefined {
  const text = [org.name, ...org.units].filter((p) => p !== "").join(", ");
  return text === "" ? undefined : text;
}

function profileEmails(emails: CardEmail[]): UserProfile["emails"] {
  const seen = new Set<string>();
  const result: UserProfile["emails"] = [];
  const sorted = byPreference(emails);
  for (const email of sorted) {
    const key = email.address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const entry: UserProfile["emails"][number] = { address: email.address };
    const type = typeText(email, "email");
    if (type !== undefined) entry.type = type;
    result.push(entry);
  }
  // One address is "the preferred one": the first after sorting, when the card marked any preference.
  if (result[0] && sorted[0]?.pref !== undefined) result[0].preferred = true;
  return result;
}

export function cardToProfile(card: ParsedCard, location: CardLocation): UserProfile {
  const uid = card.uid ?? uidFromHref(location.href);
  const emails = profileEmails(card.emails);
  const profile: UserProfile = {
    id: profileId(location.addressBookUrl, uid),
    userIds: [...new Set(emails.map((e) => `email:${e.address.toLowerCase()}`))],
    displayName: deriveDisplayName(card),
    emails,
    phones: byPreference(card.phones).map((phone) => {
      const type = typeText(phone, "phone");
      return type === undefined ? { number: phone.number } : { number: phone.number, type };
    }),
    source: { addressBookUrl: location.addressBookUrl, href: location.href, uid },
  };
  if (card.name?.given) profile.givenName = card.name.given;
  if (card.name?.family) profile.familyName = card.name.family;
  const organization = card.organization ? organizationText(card.organization) : undefined;
  if (organization !== undefined) profile.organization = organization;
  if (card.title !== undefined) profile.title = card.title;
  if (card.birthday !== undefined) profile.birthday = card.birthday;
  const addresses = byPreference(card.addresses).map((adr) => {
    const entry: NonNullable<UserProfile["addresses"]>[number] = {};
    const street = [adr.poBox, adr.extended, adr.street].filter((p) => p !== "").join("\n");
    if (street !== "") entry.street = street;
    if (adr.locality !== "") entry.locality = adr.locality;
    if (adr.region !== "") entry.region = adr.region;
    if (adr.postalCode !== "") entry.postalCode = adr.postalCode;
    if (adr.country !== "") entry.country = adr.country;
    if (adr.formatted !== undefined) entry.label = adr.formatted;
    const type = typeText(adr, "address");
    if (type !== undefined) entry.type = type;
    return entry;
  });
  if (addresses.length > 0) profile.addresses = addresses;
  if (card.notes.length > 0) profile.notes = card.notes.join("\n\n");
  if (card.categories.length > 0) profile.categories = [...card.categories];
  if (card.rev !== undefined) profile.updatedAt = card.rev;
  return profile;
}

/** Group cards (KIND:group, Apple's X-ADDRESSBOOKSERVER-KIND:group) list members; they are not people. */
export const isGroupCard = (card: ParsedCard): boolean => card.kind === "group";
