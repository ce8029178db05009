/**
 * The request layer under CalDAV and CardDAV: one `fetch` call per request, Basic auth from the
 * account's credentials or an OAuth 2.0 bearer token (RFC 6750), a per-request timeout, AbortSignal,
 * and failures mapped to our typed errors.
 *
 * TLS: a private CA is the caller's business. It builds an undici `Agent({ connect: { ca } })` and
 * passes it as `dispatcher`; Node's built-in fetch honours `init.dispatcher`.
 *
 * The Authorization header is built here and never logged: log lines carry method, URL, status and
 * duration only.
 */
import {
  AbortedError,
  AuthError,
  type EmailChannelError,
  type ErrorStage,
  NetworkError,
  ServerError,
  TlsError,
  errorCode,
  isTlsFailure,
} from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { preconditionOf } from "./multistatus.js";

/** The subset of `fetch` we use; tests and hosts may inject their own. */
export type DavFetch = (url: string, init: RequestInit) => Promise<Response>;

/** An undici Dispatcher (e.g. an Agent with a private CA), passed through to `fetch`. */
export type DavDispatcher = RequestInit extends { dispatcher?: infer D } ? D : unknown;

/**
 * OAuth 2.0 access tokens for DAV requests (`Authorization: Bearer`, RFC 6750 §2.1), as Google's
 * CalDAV and CardDAV take them. The channel's come from the account's grant, shared with its IMAP
 * and SMTP connections.
 */
export interface DavBearer {
  /**
   * A current access token. Its errors reach the caller as they are (e.g. AuthError OAUTH2_REFUSED
   * when the provider refuses the refresh token, a retryable error when it cannot be reached).
   */
  token(signal?: AbortSignal): Promise<string>;
  /** The server answered 401 to `token`: it must not be offered again. */
  refused(token: string): void;
}

export interface DavHttpOptions {
  /**
   * User name for HTTP Basic auth (RFC 7617); with `bearer`, only the name errors give. Default:
   * none, no Basic Authorization header is sent.
   */
  username?: string;
  /** Password for HTTP Basic auth. Never logged, never put into an error. */
  password?: string;
  /**
   * Bearer tokens instead of Basic auth: each request carries a current access token; a 401 drops
   * that token and the request is sent once more with a new one. Tokens are never logged.
   */
  bearer?: DavBearer;
  /** The fetch to use. Default: the global `fetch` (Node >= 20). */
  fetch?: DavFetch;
  /** undici dispatcher for every request (private CA, proxy, connection limits). Default: Node's global. */
  dispatcher?: DavDispatcher;
  /**
   * Per-request time limit in milliseconds, from sending until the whole body is read.
   * Default 30_000. At the limit the request is aborted and fails with NetworkError `DAV_TIMEOUT`.
   */
  timeoutMs?: number;
  /**
   * Largest response body read, in bytes. Default 64 MiB. A larger body is abandoned and fails with
   * ServerError `DAV_RESPONSE_TOO_LARGE` (lower the multiget batch size if a server hits it).
   */
  maxResponseBytes?: number;
  /** Aborts every request of this client (e.g. on stop()). Failures become AbortedError. */
  signal?: AbortSignal;
  /** Logger; request lines are logged at debug. Default: none. */
  logger?: Logger;
  /** Error stage stamped on errors. Default "dav". */
  stage?: ErrorStage;
  /** User-Agent header. Default "email-channel". */
  userAgent?: string;
}

export interface DavHttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  /** WebDAV Depth header (RFC 4918 §10.2). */
  depth?: "0" | "1" | "infinity";
  signal?: AbortSignal;
}

export interface DavHttpResponse {
  status: number;
  headers: Headers;
  body: string;
  /** The URL that answered (after redirects). */
  url: string;
  /**
   * The origin the request went to, when a redirect took it to another origin (scheme, host or port):
   * fetch does not send the Authorization header there (Fetch standard, HTTP-redirect fetch).
   */
  redirectedFrom?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
const EXCERPT_CHARS = 300;

export class DavHttp {
  /** Requests sent by this client (benchmarks and tests read it). */
  requestCount = 0;
  readonly stage: ErrorStage;
  readonly username: string | undefined;
  /** How requests authenticate: HTTP Basic, OAuth 2.0 bearer tokens, or not at all. */
  readonly auth: "basic" | "bearer" | "none";
  readonly #fetch: DavFetch;
  readonly #authorization: string | undefined;
  readonly #options: DavHttpOptions;

  constructor(options: DavHttpOptions = {}) {
    this.#options = options;
    this.stage = options.stage ?? "dav";
    this.username = options.username;
    this.auth = options.bearer ? "bearer" : options.username !== undefined ? "basic" : "none";
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
    if (options.username !== undefined && !options.bearer) {
      const pair = `${options.username}:${options.password ?? ""}`;
      this.#authorization = `Basic ${Buffer.from(pair, "utf8").toString("base64")}`;
    }
  }

  /**
   * Sends one request. Resolves with any HTTP status; throws NetworkError, TlsError, AbortedError, and
   * with `bearer` whatever getting a token throws. With `bearer`, a 401 is answered by sending the
   * request once more with a new token; the second answer is the result, whatever it is.
   */
  async send(req: DavHttpRequest): Promise<DavHttpResponse> {
    const bearer = this.#options.bearer;
    if (!bearer) return this.#sendOnce(req, this.#authorization);
    const offered = await this.#token(bearer, req);
    const res = await this.#sendOnce(req, `Bearer ${offered}`);
    // Refused where the token was not even sent (another origin): the token is not to blame.
    if (res.status !== 401 || res.redirectedFrom) return res;
    bearer.refused(offered);
    this.#options.logger?.debug(
      { method: req.method, url: req.url },
      "access token refused; one more try with a new one",
    );
    const renewed = await this.#token(bearer, req);
    const again = await this.#sendOnce(req, `Bearer ${renewed}`);
    // Refused as well: not offered again either (the next request asks for another).
    if (again.status === 401) bearer.refused(renewed);
    return again;
  }

  async #token(bearer: DavBearer, req: DavHttpRequest): Promise<string> {
    const outer = this.#signals(req);
    if (outer.some((s) => s.aborted)) throw new AbortedError(this.stage);
    return bearer.token(outer.length === 0 ? undefined : AbortSignal.any(outer));
  }

  #signals(req: DavHttpRequest): AbortSignal[] {
    return [this.#options.signal, req.signal].filter((s): s is AbortSignal => s !== undefined);
  }

  async #sendOnce(req: DavHttpRequest, authorization: string | undefined): Promise<DavHttpResponse> {
    const o = this.#options;
    const outer = this.#signals(req);
    if (outer.some((s) => s.aborted)) throw new AbortedError(this.stage);
    const timeout = new AbortController();
    const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const signal = AbortSignal.any([timeout.signal, ...outer]);
    const headers: Record<string, string> = { "User-Agent": o.userAgent ?? "email-channel", ...req.headers };
    if (req.depth !== undefined) headers.Depth = req.depth;
    if (req.body !== undefined && !hasHeader(headers, "content-type")) {
      headers["Content-Type"] = "application/xml; charset=utf-8";
    }
    if (authorization) headers.Authorization = authorization;
    const init: RequestInit = { method: req.method, headers, signal, redirect: "follow" };
    if (req.body !== undefined) init.body = req.body;
    if (o.dispatcher !== undefined) (init as { dispatcher?: unknown }).dispatcher = o.dispatcher;
    const started = Date.now();
    this.requestCount++;
    try {
      const res = await this.#fetch(req.url, init);
      const body = await readBody(res, o.maxResponseBytes ?? DEFAULT_MAX_BYTES, this.stage, req);
      o.logger?.debug(
        { method: req.method, url: req.url, status: res.status, ms: Date.now() - started },
        "dav request",
      );
      const url = res.url || req.url;
      const from = new URL(req.url).origin;
      return {
        status: res.status,
        headers: res.headers,
        body,
        url,
        ...(new URL(url).origin !== from ? { redirectedFrom: from } : {}),
      };
    } catch (error) {
      if (error instanceof ServerError) throw error;
      if (outer.some((s) => s.aborted)) throw new AbortedError(this.stage, error);
      if (timeout.signal.aborted) {
        throw new NetworkError(`${req.method} ${req.url} timed out after ${timeoutMs} ms`, {
          code: "DAV_TIMEOUT",
          stage: this.stage,
          cause: error,
          details: { method: req.method, url: req.url, timeoutMs },
        });
      }
      throw this.#transportError(error, req);
    } finally {
      clearTimeout(timer);
    }
  }

  #transportError(error: unknown, req: DavHttpRequest): EmailChannelError {
    const cause = error instanceof Error && error.cause !== undefined ? error.cause : error;
    const details = { method: req.method, url: req.url, code: errorCode(cause) };
    const reason = cause instanceof Error ? cause.message : String(cause);
    if (isTlsFailure(cause)) {
      return new TlsError(`TLS failure talking to ${req.url}: ${reason}`, {
        code: "DAV_TLS",
        stage: this.stage,
        cause: error,
        details,
      });
    }
    return new NetworkError(`${req.method} ${req.url} failed: ${reason}`, {
      code: "DAV_NETWORK",
      stage: this.stage,
      cause: error,
      details,
    });
  }

  /**
   * The typed error for an unexpected status: 401 (and 403 without a DAV precondition) -> AuthError;
   * 429/500/502/503/504 -> retryable ServerError with Retry-After; anything else -> ServerError.
   */
  statusError(res: DavHttpResponse, method: string, what?: string): EmailChannelError {
    const label = what ?? `${method} ${res.url}`;
    const excerpt = bodyExcerpt(res.body);
    const details: Record<string, unknown> = { method, url: res.url, status: res.status };
    const bearer = this.#options.bearer ? bearerChallenge(res.headers.get("www-authenticate")) : undefined;
    const reason = bearer?.error ? bearerReason(bearer) : undefined;
    const why = reason ? `; OAuth 2.0: ${reason}` : "";
    if (reason) details.bearerReason = reason;
    if (res.status === 401 && res.redirectedFrom) {
      return new AuthError(
        `${label}: ${res.redirectedFrom} redirected to another host, which asks for credentials (401); they are not sent across hosts: configure the DAV URL on ${new URL(res.url).origin}`,
        {
          code: "DAV_CROSS_ORIGIN_REDIRECT",
          stage: this.stage,
          details: { ...details, redirectedFrom: res.redirectedFrom },
        },
      );
    }
    if (res.status === 401) {
      const what = this.#options.bearer
        ? `the server refused the OAuth 2.0 access token of "${this.username ?? ""}"`
        : `the server refused the credentials of "${this.username ?? ""}"`;
      return new AuthError(`${label}: ${what} (401${why})`, {
        code: "DAV_AUTH_FAILED",
        stage: this.stage,
        details,
      });
    }
    const precondition = preconditionOf(res.body);
    if (precondition) details.precondition = `{${precondition.ns}}${precondition.name}`;
    if (res.status === 403 && !precondition) {
      return new AuthError(`${label}: forbidden for "${this.username ?? ""}" (403${why})`, {
        code: "DAV_FORBIDDEN",
        stage: this.stage,
        details,
      });
    }
    const retryable = [429, 500, 502, 503, 504].includes(res.status);
    const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
    return new ServerError(`${label}: HTTP ${res.status}${excerpt ? `: ${excerpt}` : ""}`, {
      code: STATUS_CODES[res.status] ?? (res.status >= 500 ? "DAV_SERVER_ERROR" : "DAV_HTTP_STATUS"),
      stage: this.stage,
      status: res.status,
      response: excerpt,
      retryable,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
      details,
    });
  }
}

const STATUS_CODES: Record<number, string> = {
  403: "DAV_PRECONDITION",
  404: "DAV_NOT_FOUND",
  409: "DAV_CONFLICT",
  412: "DAV_PRECONDITION_FAILED",
  429: "DAV_RATE_LIMITED",
  507: "DAV_INSUFFICIENT_STORAGE",
};

/**
 * The parameters of a Bearer challenge (RFC 6750 §3): `error` (invalid_token, insufficient_scope,
 * ...), `error_description` and `scope`, when the server gives them. Undefined without a Bearer
 * challenge.
 */
export function bearerChallenge(
  header: string | null,
): { error?: string; description?: string; scope?: string } | undefined {
  const start = header?.search(/(?:^|[\s,])Bearer(?:\s|,|$)/i) ?? -1;
  if (!header || start < 0) return undefined;
  const out: { error?: string; description?: string; scope?: string } = {};
  const rest = header.slice(start).replace(/^[\s,]*Bearer/i, "");
  // auth-param = token "=" ( token / quoted-string ); a bare token starts the next challenge.
  const item = /[\s,]*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*)))?/gy;
  for (let m = item.exec(rest); m && m[0] !== ""; m = item.exec(rest)) {
    if (m[2] === undefined && m[3] === undefined) break;
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3]!;
    const key = m[1]!.toLowerCase();
    if (key === "error") out.error = value;
    else if (key === "error_description") out.description = value;
    else if (key === "scope") out.scope = value;
  }
  return out;
}

/** "invalid_token (token revoked)", "insufficient_scope, scope needed: ...": a Bearer challenge in words. */
function bearerReason(c: { error?: string; description?: string; scope?: string }): string {
  // The server's words go into errors and logs: bounded.
  const cap = (v: string) => (v.length > 200 ? `${v.slice(0, 200)}…` : v);
  return `${cap(c.error ?? "")}${c.description ? ` (${cap(c.description)})` : ""}${c.scope ? `, scope needed: ${cap(c.scope)}` : ""}`;
}

function hasHeader(headers: Record<string, string>, name: string): boolean {
  return Object.keys(headers).some((k) => k.toLowerCase() === name);
}

async function readBody(
  res: Response,
  limit: number,
  stage: ErrorStage,
  req: DavHttpRequest,
): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (declared > limit || !res.body) {
    if (declared > limit) {
      await res.body?.cancel();
      throw tooLarge(limit, stage, req);
    }
    return "";
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit, stage, req);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function tooLarge(limit: number, stage: ErrorStage, req: DavHttpRequest): ServerError {
  return new ServerError(`${req.method} ${req.url}: response larger than ${limit} bytes`, {
    code: "DAV_RESPONSE_TOO_LARGE",
    stage,
    retryable: false,
    details: { method: req.method, url: req.url, limit },
  });
}

/** The start of a body for an error message: whitespace collapsed, at most 300 characters. */
export function bodyExcerpt(body: string): string {
  const flat = body.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date; returns seconds (>= 0) or undefined. */
export function parseRetryAfter(value: string | null, now: Date = new Date()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}
