/** Contacts as the channel uses them: sync into the sink, sender enrichment, allowlist, birthdays. */
export { contactsAllowlist } from "./allowlist.js";
export { birthdayReminders } from "./birthdays.js";
export type { BirthdayReminderOptions } from "./birthdays.js";
export { applyContactChanges, profilesFromObjects, reconcileAddressBook } from "./contacts-sync.js";
export type { AddressBookChanges, ContactsApplyResult, SkippedCard } from "./contacts-sync.js";
export { enrichSender, excerpt, toSenderProfile } from "./enrich.js";
export type { ProfileLookup, SenderProfile, SenderProfileOptions } from "./enrich.js";
export { ProfileIndex } from "./profile-index.js";
