/**
 * Sender enrichment: the compact profile that rides along as `MessageFormat.metadata.senderProfile`
 * when a message comes from a known address.
 *
 * What is exposed, and why (no more than the agent needs to answer this person well):
 * - `id`: the profile's stable id, so the agent's contact tools can refer to (and update) the card;
 * - `name`, `givenName`: to address the person the way the user's address book does;
 * - `organization`, `title`: the context most replies depend on ("as your account manager...");
 * - `phones` (at most `maxPhones`): so the agent can offer a call-back number it already knows;
 * - `notes` (an excerpt of at most `notesMaxChars`): the user's own hints about this person.
 * Left out on purpose: postal addresses, birthday, the person's other email addresses, categories and
 * the card's location. They are personal data the reply rarely needs, and the agent can still look
 * the whole profile up by `id` through the host's sink when a task calls for it.
 */
import type { UserProfile } from "../contract/sinks.js";
import type { Logger } from "../log/index.js";

export interface SenderProfile {
  id: string;
  name: string;
  givenName?: string;
  organization?: string;
  title?: string;
  phones?: { number: string; type?: string }[];
  /** An excerpt of the notes, cut at a word boundary with "…" when longer than `notesMaxChars`. */
  notes?: string;
}

export interface SenderProfileOptions {
  /** Longest notes excerpt, in characters. Default 280. 0 leaves the notes out. */
  notesMaxChars?: number;
  /** Phone numbers passed on, in the profile's order (preferred first). Default 3. 0 leaves them out. */
  maxPhones?: number;
}

/** The part of ProfileSink (or ProfileIndex) that enrichment needs. */
export interface ProfileLookup {
  lookupByEmail(address: string): Promise<UserProfile | undefined>;
}

/** Cuts text to at most `max` characters at a word boundary, marking the cut with "…". */
export function excerpt(text: string, max: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const chars = [...flat]; // code points: never cut a surrogate pair
  if (chars.length <= max) return flat;
  const cut = chars.slice(0, Math.max(0, max - 1)).join("");
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The compact profile (see the module comment for what it holds and why). Pure. */
export function toSenderProfile(profile: UserProfile, options: SenderProfileOptions = {}): SenderProfile {
  const notesMax = options.notesMaxChars ?? 280;
  const maxPhones = options.maxPhones ?? 3;
  const sender: SenderProfile = { id: profile.id, name: profile.displayName };
  if (profile.givenName) sender.givenName = profile.givenName;
  if (profile.organization) sender.organization = profile.organization;
  if (profile.title) sender.title = profile.title;
  if (maxPhones > 0 && profile.phones.length > 0) {
    sender.phones = profile.phones
      .slice(0, maxPhones)
      .map((p) => (p.type === undefined ? { number: p.number } : { number: p.number, type: p.type }));
  }
  if (notesMax > 0 && profile.notes && profile.notes.trim() !== "")
    sender.notes = excerpt(profile.notes, notesMax);
  return sender;
}

/**
 * Looks the sender up and returns the compact profile, or undefined for an unknown address. A failing
 * lookup is logged and answered with undefined: enrichment never holds a message back.
 */
export async function enrichSender(
  profiles: ProfileLookup,
  address: string | undefined,
  options: SenderProfileOptions & { logger?: Logger } = {},
): Promise<SenderProfile | undefined> {
  if (!address || address.trim() === "") return undefined;
  try {
    const profile = await profiles.lookupByEmail(address.trim().toLowerCase());
    return profile ? toSenderProfile(profile, options) : undefined;
  } catch (error) {
    options.logger?.warn({ err: error }, "sender profile lookup failed; message goes on without it");
    return undefined;
  }
}
