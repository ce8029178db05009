/**
 * From the sync engine's raw address-book changes to the profile sink: parse each changed vCard, map
 * it to a profile, diff against what the sink holds for those hrefs, write only the difference.
 *
 * - A card that cannot be parsed is skipped with its reason; the others still sync, and the profile
 *   it had before (if any) is kept: a broken edit on the server does not delete a known contact.
 * - Group cards (KIND:group, Apple's X-ADDRESSBOOKSERVER-KIND:group) are not people: no profile.
 * - Removals come from the engine, which already refuses to believe a listing that suddenly came back
 *   empty; here a removed href removes exactly the profile(s) that came from it.
 */
import type { ProfileSink, UserProfile } from "../contract/sinks.js";
import { type ProfileDiff, diffProfiles } from "../dav/contacts/vcard/diff.js";
import { parseCard } from "../dav/contacts/vcard/parse-card.js";
import { cardToProfile, isGroupCard } from "../dav/contacts/vcard/to-profile.js";
import type { DavObject } from "../dav/sync-engine.js";
import { EmailChannelError } from "../errors/index.js";
import type { Logger } from "../log/index.js";

/** What one address book sync changed (the engine's SyncDiff has this shape). */
export interface AddressBookChanges {
  collectionUrl: string;
  added: DavObject[];
  changed: DavObject[];
  /** Normalised hrefs of objects that are gone. */
  removed: string[];
}

export interface SkippedCard {
  href: string;
  /** Stable code: `VCARD_*` for unreadable cards, `VCARD_GROUP` for group cards. */
  code: string;
  reason: string;
}

export interface ContactsApplyResult {
  /** What the sink was told: added and changed were upserted, removed were removed. */
  diff: ProfileDiff;
  skipped: SkippedCard[];
}

/** Maps objects to profiles; unreadable cards and group cards go to `skipped`. Pure. */
export function profilesFromObjects(
  collectionUrl: string,
  objects: DavObject[],
): { profiles: UserProfile[]; skipped: SkippedCard[] } {
  const profiles: UserProfile[] = [];
  const skipped: SkippedCard[] = [];
  for (const object of objects) {
    try {
      const card = parseCard(object.data);
      if (isGroupCard(card)) {
        skipped.push({ href: object.href, code: "VCARD_GROUP", reason: "a contact group, not a person" });
        continue;
      }
      profiles.push(cardToProfile(card, { addressBookUrl: collectionUrl, href: object.href }));
    } catch (error) {
      const code = error instanceof EmailChannelError ? error.code : "VCARD_INVALID";
      skipped.push({
        href: object.href,
        code,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return { profiles, skipped };
}

/**
 * Applies one address book's changes to the sink and returns what changed. Reads the sink once
 * (`list()`), writes at most one `upsert` and one `remove`.
 */
export async function applyContactChanges(
  sink: ProfileSink,
  changes: AddressBookChanges,
  options: { logger?: Logger } = {},
): Promise<ContactsApplyResult> {
  const book = changes.collectionUrl;
  const touched = new Set([...changes.added, ...changes.changed].map((o) => o.href).concat(changes.removed));
  const inBook = (await sink.list()).filter((p) => p.source.addressBookUrl === book);
  const before = inBook.filter((p) => touched.has(p.source.href));

  const { profiles, skipped } = profilesFromObjects(book, [...changes.added, ...changes.changed]);
  // Keep what an unreadable card had before: a broken edit must not delete a known contact.
  const unreadable = new Set(skipped.filter((s) => s.code !== "VCARD_GROUP").map((s) => s.href));
  const kept = before.filter((p) => unreadable.has(p.source.href));
  const diff = diffProfiles(before, [...kept, ...profiles]);

  // diffProfiles compares by id, so a card re-saved under a new href is one change, not remove + add.
  const upserts = [...diff.added, ...diff.changed];
  if (upserts.length > 0) await sink.upsert(upserts);
  if (diff.removed.length > 0) await sink.remove(diff.removed.map((p) => p.id));

  for (const skip of skipped) {
    if (skip.code === "VCARD_GROUP") options.logger?.debug({ href: skip.href }, "group card skipped");
    else options.logger?.warn({ href: skip.href, code: skip.code, reason: skip.reason }, "vCard skipped");
  }
  return { diff, skipped };
}

/**
 * Rebuilds one address book's profiles from the complete set of its objects (the sync state after a
 * restart, or after the host swapped sinks) and applies the difference to the sink.
 */
export async function reconcileAddressBook(
  sink: ProfileSink,
  collectionUrl: string,
  objects: DavObject[],
  options: { logger?: Logger } = {},
): Promise<ContactsApplyResult> {
  const present = new Set(objects.map((o) => o.href));
  const stale = (await sink.list())
    .filter((p) => p.source.addressBookUrl === collectionUrl && !present.has(p.source.href))
    .map((p) => p.source.href);
  return applyContactChanges(sink, { collectionUrl, added: [], changed: objects, removed: stale }, options);
}
