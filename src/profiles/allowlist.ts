/**
 * The contacts allowlist source: every address of every contact may talk to the assistant (when the
 * `allow_contacts` option is on; the guard still runs loop and sender-authentication checks first).
 *
 * Synchronous by design: the guards' `AllowlistOptions.contacts` is `(address) => boolean`, called
 * in the middle of a pure guard run. The answer comes from a ProfileIndex, loaded at start and kept
 * current with each sync's diff; a contact added on the server is admitted from the sync that brings
 * it (one poll interval), a contact deleted there is refused from the sync that removes it.
 */
import type { ProfileIndex } from "./profile-index.js";

/** An admit function for the guards' allowlist: true when the (normalised) address is a contact's. */
export function contactsAllowlist(index: Pick<ProfileIndex, "has">): (address: string) => boolean {
  return (address) => index.has(address);
}
