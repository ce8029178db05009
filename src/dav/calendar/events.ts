/**
 * The agent's calendar tools: create, update and delete one event. Thin shell over the pure builder
 * (event-ics.ts) and the conditional write path (write.ts): a create never replaces an existing
 * object, an update or delete never overwrites a version we have not seen (412 -> DavConflictError
 * with the server's current version).
 */
import { randomUUID } from "node:crypto";
import { InputError } from "../../errors/index.js";
import type { DavClient } from "../client.js";
import { getObject } from "../sync-fetch.js";
import { type WriteResult, deleteObject, putObject, putObjectAt } from "../write.js";
import {
  type EventInput,
  EventInputError,
  type EventPatch,
  buildEventIcs,
  eventUid,
  patchEventIcs,
} from "./event-ics.js";

export interface WrittenEvent extends WriteResult {
  uid: string;
  /** The iCalendar object as written. */
  data: string;
}

/** An event as the sync engine or a previous write knows it. */
export interface EventRef {
  /** Object URL or href on the client's server. */
  href: string;
  /** The ETag of the version the change is based on (required: writes are conditional). */
  etag: string;
  /** That version's data; fetched with GET when absent. */
  data?: string;
}

export interface EventWriteOptions {
  signal?: AbortSignal;
  /** Clock for DTSTAMP/LAST-MODIFIED. Default `new Date()`. */
  now?: Date;
}

/**
 * Creates an event in `calendarUrl` as `<uid>.ics` with `If-None-Match: *`. The UID is a random UUID
 * unless given.
 */
export async function createEvent(
  client: DavClient,
  calendarUrl: string,
  input: EventInput,
  options: EventWriteOptions & { uid?: string } = {},
): Promise<WrittenEvent> {
  const uid = options.uid ?? randomUUID();
  const data = build(client, () => buildEventIcs(input, { uid, now: options.now ?? new Date() }));
  const result = await putObject(
    client,
    calendarUrl,
    `${uid}.ics`,
    data,
    { ifNoneMatch: true },
    withSignal(options),
  );
  return { ...result, uid, data };
}

/**
 * Changes the fields given in `patch` on the event's master VEVENT (other properties are kept) and
 * PUTs it with `If-Match: <ref.etag>`. `defaultZone` is used when the stored event has floating times.
 */
export async function updateEvent(
  client: DavClient,
  ref: EventRef,
  patch: EventPatch,
  options: EventWriteOptions & { defaultZone?: string } = {},
): Promise<WrittenEvent> {
  let current = ref.data;
  if (current === undefined) {
    const fetched = await getObject(client, client.resolve(ref.href), ref.href, options.signal);
    if (!fetched) {
      throw new InputError(`no event at ${ref.href}`, { code: "DAV_EVENT_NOT_FOUND", stage: "caldav" });
    }
    current = fetched.data;
  }
  const base = current;
  const data = build(client, () =>
    patchEventIcs(base, patch, { now: options.now ?? new Date(), defaultZone: options.defaultZone ?? "UTC" }),
  );
  const result = await putObjectAt(client, ref.href, data, { ifMatch: ref.etag }, withSignal(options));
  return { ...result, uid: eventUid(data) ?? "", data };
}

/** Deletes the event with `If-Match: <ref.etag>`; false when it was already gone. */
export function deleteEvent(
  client: DavClient,
  ref: Omit<EventRef, "data">,
  options: EventWriteOptions = {},
): Promise<boolean> {
  return deleteObject(client, ref.href, ref.etag, withSignal(options));
}

function build(client: DavClient, fn: () => string): string {
  try {
    return fn();
  } catch (error) {
    if (error instanceof EventInputError) {
      throw new InputError(`event rejected: ${error.message}`, {
        code: "DAV_EVENT_INVALID",
        stage: client.http.stage === "dav" ? "caldav" : client.http.stage,
        cause: error,
      });
    }
    throw error;
  }
}

function withSignal(options: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}
