/**
 * The agent's contacts write path: create, update and delete one vCard, always conditional, on top
 * of the shared WebDAV write helpers (../../write.ts). A create sends `If-None-Match: *`; an update or
 * delete sends `If-Match: <etag>`; a 412 surfaces as write.ts's DavConflictError carrying the
 * server's current version, which `conflictProfile` turns into a profile for the agent to compare.
 */
import { randomUUID } from "node:crypto";
import type { UserProfile } from "../../../contract/sinks.js";
import type { DavClient } from "../../client.js";
import { type DavConflictError, deleteObject, putObject, putObjectAt } from "../../write.js";
import { parseCard } from "./parse-card.js";
import { cardToProfile } from "./to-profile.js";
import { type ContactInput, profileToVCard4 } from "./to-vcard4.js";

const CONTENT_TYPE = "text/vcard; charset=utf-8";

export interface ContactWriteOptions {
  signal?: AbortSignal;
  /** REV of the written card. Default: the current time. */
  now?: Date;
}

export interface WrittenContact {
  /** Normalised href (the sync engine's key for the object). */
  href: string;
  url: string;
  /** The new ETag, when the server gave one (the next update needs it). */
  etag?: string;
  /** The vCard 4.0 as written. */
  data: string;
  /** The profile the written card maps to, for the sink before the next sync brings it. */
  profile: UserProfile;
}

/** `urn:uuid:<uuid>` -> `<uuid>.vcf`; a UID that is a safe path segment as it is; else a fresh UUID. */
function objectName(uid: string): string {
  const uuid = /^urn:uuid:([0-9a-f-]{36})$/i.exec(uid)?.[1];
  if (uuid) return `${uuid.toLowerCase()}.vcf`;
  return /^[A-Za-z0-9._-]{1,200}$/.test(uid) && !/^\.+$/.test(uid) ? `${uid}.vcf` : `${randomUUID()}.vcf`;
}

function written(
  addressBookUrl: string,
  data: string,
  result: { href: string; url: string; etag?: string },
): WrittenContact {
  const contact: WrittenContact = {
    href: result.href,
    url: result.url,
    data,
    profile: cardToProfile(parseCard(data), { addressBookUrl, href: result.href }),
  };
  if (result.etag !== undefined) contact.etag = result.etag;
  return contact;
}

/**
 * Creates a contact in `addressBookUrl` as `<uid>.vcf` with `If-None-Match: *`. The UID defaults to
 * a fresh `urn:uuid:` (RFC 6350 §6.7.6). A 412 (a member of that name exists) throws DavConflictError;
 * a server that refuses a duplicate UID (RFC 6352 §6.3.2.1 no-uid-conflict, 403/409) throws ServerError.
 */
export async function createContact(
  client: DavClient,
  addressBookUrl: string,
  contact: Omit<ContactInput, "uid"> & { uid?: string },
  options: ContactWriteOptions = {},
): Promise<WrittenContact> {
  const uid = contact.uid ?? `urn:uuid:${randomUUID()}`;
  const data = profileToVCard4({ ...contact, uid }, options.now ? { now: options.now } : {});
  const result = await putObject(
    client,
    addressBookUrl,
    objectName(uid),
    data,
    { ifNoneMatch: true },
    {
      contentType: CONTENT_TYPE,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return written(addressBookUrl, data, result);
}

export interface ContactRef {
  addressBookUrl: string;
  /** The object's href (a profile's `source.href`). */
  href: string;
  /** The ETag the caller last saw; the write succeeds only if the server still holds that version. */
  etag: string;
}

/**
 * Replaces the card at `ref.href` with `If-Match: <etag>`. Pass the stored card as `existing` (the
 * sync state holds it): properties the profile model does not own (photo, IM handles, URLs, related
 * people, X- extensions) are carried over instead of deleted. The UID should stay the card's UID.
 */
export async function updateContact(
  client: DavClient,
  ref: ContactRef & { existing?: string },
  contact: ContactInput,
  options: ContactWriteOptions = {},
): Promise<WrittenContact> {
  const data = profileToVCard4(contact, {
    ...(options.now ? { now: options.now } : {}),
    ...(ref.existing !== undefined ? { existing: ref.existing } : {}),
  });
  const result = await putObjectAt(
    client,
    client.resolve(ref.href, ref.addressBookUrl),
    data,
    { ifMatch: ref.etag },
    {
      contentType: CONTENT_TYPE,
      ...(options.signal ? { signal: options.signal } : {}),
    },
  );
  return written(ref.addressBookUrl, data, result);
}

/** Deletes the card with `If-Match: <etag>`. True when deleted, false when it was already gone. */
export function deleteContact(
  client: DavClient,
  ref: ContactRef,
  options: { signal?: AbortSignal } = {},
): Promise<boolean> {
  return deleteObject(client, client.resolve(ref.href, ref.addressBookUrl), ref.etag, options);
}

/**
 * After a 412: the profile the server holds now (null when the card is gone or unreadable), so the
 * agent can merge its change into the current version and retry with `etag`.
 */
export function conflictProfile(
  error: DavConflictError,
  addressBookUrl: string,
): { profile: UserProfile; etag?: string; data: string } | null {
  if (error.current === null) return null;
  try {
    const profile = cardToProfile(parseCard(error.current.data), {
      addressBookUrl,
      href: error.current.href,
    });
    return error.current.etag === undefined
      ? { profile, data: error.current.data }
      : { profile, etag: error.current.etag, data: error.current.data };
  } catch {
    return null;
  }
}
