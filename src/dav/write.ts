/**
 * The generic write path for calendar objects and vCards: conditional PUT and DELETE.
 *
 * Every write is conditional (RFC 9110 §13.1): a create sends `If-None-Match: *` so it never replaces
 * an object someone else made under the same name; an update or delete sends `If-Match: <etag>` so
 * it never overwrites a change we have not seen. A 412 is not retried blindly: we fetch what the server
 * holds now and throw DavConflictError carrying it, for the caller (the agent) to decide.
 */
import { InputError, ServerError } from "../errors/index.js";
import type { DavClient } from "./client.js";
import { memberUrl, normalizeHref } from "./href.js";
import { okPropText } from "./multistatus.js";
import { type FetchedObject, getObject } from "./sync-fetch.js";
import { NS } from "./xml.js";

/** Create-only (`If-None-Match: *`) or replace-this-version (`If-Match: <etag>`). */
export type WriteCondition = { ifNoneMatch: true } | { ifMatch: string };

export interface WriteOptions {
  /** Content-Type. Default: text/calendar or text/vcard (charset=utf-8), read from the data's first line. */
  contentType?: string;
  signal?: AbortSignal;
}

export interface WriteResult {
  /** Absolute URL of the object. */
  url: string;
  /** Normalised href (the sync engine's key for it). */
  href: string;
  /** The new ETag: from the PUT answer, or a PROPFIND when the server sent none (RFC 4791 §5.3.4). */
  etag?: string;
}

/** The server holds another version than the one the write was conditional on (HTTP 412). */
export class DavConflictError extends ServerError {
  /** What the server holds now; null when the object does not exist (deleted meanwhile). */
  readonly current: FetchedObject | null;
  constructor(url: string, method: string, current: FetchedObject | null, stage: ServerError["stage"]) {
    super(
      `${method} ${url}: the object changed on the server (412); ${current ? "its current version is attached" : "it no longer exists"}`,
      { code: "DAV_WRITE_CONFLICT", stage, status: 412, retryable: false, details: { url, method } },
    );
    this.current = current;
  }
}

/** PUT `data` as member `name` (one path segment, encoded here) of `collectionUrl`. */
export async function putObject(
  client: DavClient,
  collectionUrl: string,
  name: string,
  data: string,
  condition: WriteCondition,
  options: WriteOptions = {},
): Promise<WriteResult> {
  let url: string;
  try {
    url = memberUrl(collectionUrl, name);
  } catch (cause) {
    throw new InputError(`invalid object name ${JSON.stringify(name)}`, {
      code: "DAV_BAD_NAME",
      stage: client.http.stage,
      cause,
    });
  }
  return putObjectAt(client, url, data, condition, options);
}

/** PUT `data` at an object URL or href (updates, where the href is known). */
export async function putObjectAt(
  client: DavClient,
  href: string,
  data: string,
  condition: WriteCondition,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const url = client.resolve(href);
  const headers: Record<string, string> = {
    "Content-Type": options.contentType ?? contentTypeOf(data, client),
  };
  if ("ifMatch" in condition) headers["If-Match"] = quoteEtag(condition.ifMatch);
  else headers["If-None-Match"] = "*";
  const res = await client.http.send({ method: "PUT", url, headers, body: data, signal: options.signal });
  if (res.status === 412) throw await conflict(client, url, "PUT", options.signal);
  if (res.status !== 200 && res.status !== 201 && res.status !== 204)
    throw client.http.statusError(res, "PUT");
  const result: WriteResult = { url, href: normalizeHref(url, url) };
  const etag = res.headers.get("etag") ?? (await readEtag(client, url, options.signal));
  if (etag) result.etag = etag;
  return result;
}

/**
 * DELETE with `If-Match: <etag>`. Resolves true when deleted, false when it was already gone (404:
 * the outcome the caller wanted). A 412 throws DavConflictError with the server's current version.
 */
export async function deleteObject(
  client: DavClient,
  href: string,
  etag: string,
  options: { signal?: AbortSignal } = {},
): Promise<boolean> {
  const url = client.resolve(href);
  const headers = { "If-Match": quoteEtag(etag) };
  const res = await client.http.send({ method: "DELETE", url, headers, signal: options.signal });
  if (res.status === 404 || res.status === 410) return false;
  if (res.status === 412) throw await conflict(client, url, "DELETE", options.signal);
  if (res.status < 200 || res.status > 299) throw client.http.statusError(res, "DELETE");
  return true;
}

async function conflict(
  client: DavClient,
  url: string,
  method: string,
  signal?: AbortSignal,
): Promise<DavConflictError> {
  const current = (await getObject(client, url, url, signal)) ?? null;
  return new DavConflictError(url, method, current, client.http.stage);
}

async function readEtag(client: DavClient, url: string, signal?: AbortSignal): Promise<string | undefined> {
  const { multistatus } = await client.propfind(url, [{ ns: NS.DAV, name: "getetag" }], "0", signal);
  for (const entry of multistatus.responses) {
    const etag = okPropText(entry, NS.DAV, "getetag");
    if (etag) return etag;
  }
  return undefined;
}

/** RFC 9110 §8.8.3: an entity-tag is quoted; accept a bare value from callers and quote it. */
export function quoteEtag(etag: string): string {
  const t = etag.trim();
  return t.startsWith('"') || t.startsWith('W/"') ? t : `"${t}"`;
}

function contentTypeOf(data: string, client: DavClient): string {
  const head = data.trimStart().slice(0, 20).toUpperCase();
  if (head.startsWith("BEGIN:VCALENDAR")) return "text/calendar; charset=utf-8";
  if (head.startsWith("BEGIN:VCARD")) return "text/vcard; charset=utf-8";
  throw new InputError("cannot tell the content type: data is neither a VCALENDAR nor a VCARD", {
    code: "DAV_UNKNOWN_CONTENT",
    stage: client.http.stage,
  });
}
