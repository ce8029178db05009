/** vCard <-> UserProfile: parsing every version into one model, mapping, diffing, writing 4.0. */
export { parseCard } from "./parse-card.js";
export type {
  CardAddress,
  CardEmail,
  CardName,
  CardPhone,
  CardTyped,
  ParsedCard,
  VCardVersion,
} from "./types.js";
export {
  cardToProfile,
  deriveDisplayName,
  isGroupCard,
  nameFromN,
  profileId,
  uidFromHref,
} from "./to-profile.js";
export type { CardLocation } from "./to-profile.js";
export { diffProfiles, isEmptyDiff } from "./diff.js";
export type { ProfileDiff } from "./diff.js";
export { profileToVCard4 } from "./to-vcard4.js";
export type { ContactInput, VCard4Options } from "./to-vcard4.js";
export { conflictProfile, createContact, deleteContact, updateContact } from "./write-contacts.js";
export type { ContactRef, ContactWriteOptions, WrittenContact } from "./write-contacts.js";
