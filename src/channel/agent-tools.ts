import type { AccountConfig, ResolvedConfig } from "../config/resolved.js";
import { InputError } from "../errors/index.js";
import type { DavClient } from "../dav/index.js";
import { accountDavClient } from "../sync/dav-connection.js";
import { createEvent, deleteEvent, updateEvent, type WrittenEvent } from "../dav/calendar/events.js";
import type { EventInput, EventPatch } from "../dav/calendar/event-ics.js";
import {
  createContact,
  deleteContact,
  updateContact,
  type WrittenContact,
} from "../dav/contacts/vcard/write-contacts.js";
import type { ContactInput } from "../dav/contacts/vcard/to-vcard4.js";
import type { StateStore } from "../store/types.js";

/**
 * What the agent may change in the user's calendar and contacts, for one monitored account. Writes
 * are conditional (If-None-Match / If-Match with the synced ETag); a 412 surfaces as DavConflictError
 * carrying the server's current version instead of overwriting it.
 */
export class AccountTools {
  readonly #account: AccountConfig;
  readonly #config: ResolvedConfig;
  readonly #store: StateStore;

  constructor(config: ResolvedConfig, store: StateStore, account: AccountConfig) {
    this.#config = config;
    this.#store = store;
    this.#account = account;
  }

  #client(url: string | undefined, what: "caldav" | "carddav"): DavClient {
    if (!url)
      throw new InputError(`no ${what}_url is configured`, { code: "DAV_NOT_CONFIGURED", stage: what });
    return accountDavClient({ url, account: this.#account, tls: this.#config.tls, stage: what });
  }

  #collection(kind: "calendar" | "addressbook", url?: string): string {
    if (url) return url;
    const found = this.#store.dav.listCollections(this.#account.address).find((c) => c.kind === kind);
    if (!found)
      throw new InputError(`no ${kind} has been synced for ${this.#account.address} yet`, {
        code: "DAV_NO_COLLECTION",
        stage: kind === "calendar" ? "caldav" : "carddav",
      });
    return found.url;
  }

  #ref(collectionUrl: string, href: string) {
    const known = this.#store.dav.getObject(collectionUrl, href);
    if (!known?.etag)
      throw new InputError(`${href} is not a synced object of ${collectionUrl}`, {
        code: "DAV_UNKNOWN_OBJECT",
        stage: "dav",
      });
    return { href, etag: known.etag, data: known.data };
  }

  /** Creates an event (default: the first synced calendar). `timeZone` defaults to the user's zone. */
  createEvent(
    input: Omit<EventInput, "timeZone"> & { timeZone?: string },
    options: { calendarUrl?: string } = {},
  ): Promise<WrittenEvent> {
    return createEvent(
      this.#client(this.#config.caldavUrl, "caldav"),
      this.#collection("calendar", options.calendarUrl),
      { ...input, timeZone: input.timeZone ?? this.#config.timezone },
    );
  }

  updateEvent(calendarUrl: string, href: string, patch: EventPatch): Promise<WrittenEvent> {
    return updateEvent(this.#client(this.#config.caldavUrl, "caldav"), this.#ref(calendarUrl, href), patch, {
      defaultZone: this.#config.timezone,
    });
  }

  deleteEvent(calendarUrl: string, href: string): Promise<boolean> {
    const { data: _d, ...ref } = this.#ref(calendarUrl, href);
    return deleteEvent(this.#client(this.#config.caldavUrl, "caldav"), ref);
  }

  createContact(
    contact: Omit<ContactInput, "uid"> & { uid?: string },
    options: { addressBookUrl?: string } = {},
  ): Promise<WrittenContact> {
    return createContact(
      this.#client(this.#config.carddavUrl, "carddav"),
      this.#collection("addressbook", options.addressBookUrl),
      contact,
    );
  }

  updateContact(addressBookUrl: string, href: string, contact: ContactInput): Promise<WrittenContact> {
    const ref = this.#ref(addressBookUrl, href);
    return updateContact(
      this.#client(this.#config.carddavUrl, "carddav"),
      { addressBookUrl, href, etag: ref.etag, existing: ref.data },
      contact,
    );
  }

  deleteContact(addressBookUrl: string, href: string): Promise<boolean> {
    const ref = this.#ref(addressBookUrl, href);
    return deleteContact(this.#client(this.#config.carddavUrl, "carddav"), {
      addressBookUrl,
      href,
      etag: ref.etag,
    });
  }
}
