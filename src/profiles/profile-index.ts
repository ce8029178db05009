/**
 * ProfileIndex: the contacts' addresses in memory, for the two questions the inbound path asks on
 * every message: "who is this?" (enrichment) and "is this a contact?" (the allowlist). The guards are
 * synchronous, so the allowlist cannot await the sink; the index is loaded once with `refresh()` and
 * kept current with `apply(diff)` after each CardDAV sync (and `refresh()` again whenever the sink may
 * have changed behind our back, e.g. a host-supplied sink written by another process).
 *
 * Addresses are compared in the allowlist's form (guards/address.ts): trimmed, `<>`/`mailto:` removed,
 * lower-cased, IDN domains in ASCII, so a contact admitted here is the same address the guard checks.
 */
import type { ProfileSink, UserProfile } from "../contract/sinks.js";
import type { ProfileDiff } from "../dav/contacts/vcard/diff.js";
import { normaliseAddress } from "../guards/address.js";

export class ProfileIndex {
  readonly #sink: Pick<ProfileSink, "list">;
  /** Profile id -> profile. */
  #profiles = new Map<string, UserProfile>();
  /** Normalised address -> ids of the profiles that list it. */
  #byAddress = new Map<string, Set<string>>();

  constructor(sink: Pick<ProfileSink, "list">) {
    this.#sink = sink;
  }

  /** Reloads every profile from the sink (replaces the index atomically when the list arrives). */
  async refresh(): Promise<void> {
    const profiles = await this.#sink.list();
    this.#profiles = new Map();
    this.#byAddress = new Map();
    for (const profile of profiles) this.#add(profile);
  }

  /** Applies one sync's diff: added and changed profiles replace, removed ones leave. */
  apply(diff: ProfileDiff): void {
    for (const profile of diff.removed) this.#remove(profile.id);
    for (const profile of [...diff.added, ...diff.changed]) {
      this.#remove(profile.id);
      this.#add(profile);
    }
  }

  get size(): number {
    return this.#profiles.size;
  }

  /** Is this address any contact's? Synchronous: usable as the guards' `contacts` admit function. */
  has(address: string): boolean {
    const key = normaliseAddress(address);
    return key !== "" && (this.#byAddress.get(key)?.size ?? 0) > 0;
  }

  /**
   * The profile for an address. When several profiles list it (one person in two address books, or
   * a shared team address), the one where it is the preferred address wins, then the one updated
   * last, then the smallest id, so the answer does not depend on sync order.
   */
  lookup(address: string): UserProfile | undefined {
    const key = normaliseAddress(address);
    const ids = key === "" ? undefined : this.#byAddress.get(key);
    if (!ids || ids.size === 0) return undefined;
    const candidates = [...ids].flatMap((id) => this.#profiles.get(id) ?? []);
    const preferred = (p: UserProfile) =>
      p.emails.some((e) => e.preferred && normaliseAddress(e.address) === key) ? 0 : 1;
    candidates.sort(
      (a, b) =>
        preferred(a) - preferred(b) ||
        (b.updatedAt ?? "").localeCompare(a.updatedAt ?? "") ||
        (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
    );
    return candidates[0];
  }

  /** The sink-shaped lookup, for code written against ProfileSink.lookupByEmail. */
  lookupByEmail(address: string): Promise<UserProfile | undefined> {
    return Promise.resolve(this.lookup(address));
  }

  #add(profile: UserProfile): void {
    this.#profiles.set(profile.id, profile);
    for (const email of profile.emails) {
      const key = normaliseAddress(email.address);
      if (key === "") continue;
      const ids = this.#byAddress.get(key) ?? new Set<string>();
      ids.add(profile.id);
      this.#byAddress.set(key, ids);
    }
  }

  #remove(id: string): void {
    const old = this.#profiles.get(id);
    if (!old) return;
    this.#profiles.delete(id);
    for (const email of old.emails) {
      const key = normaliseAddress(email.address);
      const ids = this.#byAddress.get(key);
      ids?.delete(id);
      if (ids && ids.size === 0) this.#byAddress.delete(key);
    }
  }
}
