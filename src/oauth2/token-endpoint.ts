/**
 * The token endpoint calls: RFC 6749 §6 (refreshing an access token) and §4.1.3 (an authorization
 * code for the first tokens, with its PKCE verifier), the answer read per §5.1 and §5.2, failures
 * mapped to our typed errors. The refresh token, the code and the client secret travel in the form
 * body (§2.3.1; accepted by Google and Microsoft alike) and never into a log line or an error.
 */
import {
  AbortedError,
  AuthError,
  type EmailChannelError,
  isTlsFailure,
  NetworkError,
  ServerError,
  TlsError,
} from "../errors/index.js";
import type { Secret } from "../config/resolved.js";
import type { IssuedToken, OAuth2Grant, TokenFetch } from "./types.js";

export interface TokenRequestOptions {
  /** Default: the global fetch. */
  fetch?: TokenFetch;
  /** undici dispatcher (a private CA); passed through to fetch. */
  dispatcher?: unknown;
  signal?: AbortSignal;
  /** Time allowed for the whole exchange, ms. Default 15000; past it: NetworkError OAUTH2_NETWORK. */
  timeoutMs?: number;
  /** Clock for `expiresAt`. Default Date.now. */
  now?: () => number;
}

/** RFC 6749 §5.2 error codes that mean "this grant or client will not work until a person acts". */
const REFUSALS = new Set(["invalid_grant", "invalid_client", "unauthorized_client", "invalid_scope"]);

/** The longest piece of the provider's error description kept in our error message. */
const MAX_DESCRIPTION = 200;

/** Exchanges the refresh token for an access token. */
export function requestAccessToken(
  grant: OAuth2Grant,
  options: TokenRequestOptions = {},
): Promise<IssuedToken> {
  const fields: Record<string, string> = {
    grant_type: "refresh_token",
    refresh_token: grant.refreshToken.reveal(),
  };
  if (grant.scope) fields.scope = grant.scope;
  return postTokenForm(grant, fields, "refresh token grant", [grant.refreshToken.reveal()], options);
}

/** An authorization code (RFC 6749 §4.1.3) and what it must be redeemed with. */
export interface AuthorizationCodeGrant {
  tokenUrl: string;
  clientId: string;
  clientSecret?: Secret;
  code: string;
  /** The redirect_uri the code was issued for (sent again, §4.1.3). */
  redirectUri: string;
  /** The PKCE code_verifier (RFC 7636 §4.5). */
  codeVerifier: string;
}

/** Redeems an authorization code: the first access token and, when the provider gives one, a refresh token. */
export function redeemAuthorizationCode(
  grant: AuthorizationCodeGrant,
  options: TokenRequestOptions = {},
): Promise<IssuedToken> {
  const fields = {
    grant_type: "authorization_code",
    code: grant.code,
    redirect_uri: grant.redirectUri,
    code_verifier: grant.codeVerifier,
  };
  return postTokenForm(grant, fields, "authorization code", [grant.code, grant.codeVerifier], options);
}

/**
 * POSTs one grant's fields, with the client's credentials in the body (§2.3.1), to the token
 * endpoint and reads the answer (§5.1), or maps the refusal (§5.2). `grantSecrets` (with the
 * client secret added) never reach an error.
 */
async function postTokenForm(
  client: { tokenUrl: string; clientId: string; clientSecret?: Secret },
  fields: Record<string, string>,
  what: string,
  grantSecrets: string[],
  options: TokenRequestOptions,
): Promise<IssuedToken> {
  const tokenUrl = client.tokenUrl;
  const form = new URLSearchParams({ ...fields, client_id: client.clientId });
  if (client.clientSecret) form.set("client_secret", client.clientSecret.reveal());
  const secrets = [...grantSecrets, client.clientSecret?.reveal()];
  const timeout = AbortSignal.timeout(options.timeoutMs ?? 15_000);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const where = endpointName(tokenUrl);
  let status: number;
  let text: string;
  try {
    const res = await (options.fetch ?? ((url, init) => fetch(url, init)))(tokenUrl, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: form.toString(),
      signal,
      redirect: "error",
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    } as RequestInit);
    status = res.status;
    text = await res.text();
  } catch (error) {
    throw transportError(error, where, options.signal);
  }
  const body = parseJson(text);
  if (status === 200) return issued(body, where, (options.now ?? Date.now)());
  throw refusal(status, body, where, what, secrets);
}

/** The endpoint as logs may name it: scheme, host and path, never a query or user info. */
function endpointName(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "the token endpoint";
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 6749 §5.1: access_token and token_type are required; expires_in is recommended. */
function issued(body: Record<string, unknown> | undefined, where: string, now: number): IssuedToken {
  const token = body?.access_token;
  const type = body?.token_type;
  if (
    typeof token !== "string" ||
    token.length === 0 ||
    (typeof type === "string" && !/^bearer$/i.test(type))
  ) {
    throw new ServerError(`${where} answered 200 without a bearer access token`, {
      code: "OAUTH2_BAD_RESPONSE",
      stage: "oauth2",
      retryable: true,
      status: 200,
    });
  }
  const expiresIn = Number(body?.expires_in);
  const rotated = body?.refresh_token;
  return {
    accessToken: token,
    ...(Number.isFinite(expiresIn) && expiresIn > 0 ? { expiresAt: now + expiresIn * 1000 } : {}),
    ...(typeof rotated === "string" && rotated.length > 0 ? { refreshToken: rotated } : {}),
  };
}

/** RFC 6749 §5.2: a refused grant or client is an AuthError; overload and outages are retryable. */
function refusal(
  status: number,
  body: Record<string, unknown> | undefined,
  where: string,
  what: string,
  secrets: (string | undefined)[],
): EmailChannelError {
  const code = typeof body?.error === "string" ? body.error.slice(0, MAX_DESCRIPTION) : undefined;
  const description =
    typeof body?.error_description === "string"
      ? body.error_description.slice(0, MAX_DESCRIPTION)
      : undefined;
  let words = [code, description].filter(Boolean).join(": ") || `HTTP ${status}`;
  // A provider that echoes what it was sent must not put our secrets into a log line.
  for (const secret of secrets)
    if (secret && secret.length >= 3) words = words.split(secret).join("[redacted]");
  if ((status === 400 || status === 401) && (code === undefined || REFUSALS.has(code))) {
    return new AuthError(`${where} refused the ${what} (${words})`, {
      code: "OAUTH2_REFUSED",
      stage: "oauth2",
      details: { status, ...(code && /^[\w.-]+$/.test(code) ? { error: code } : {}) },
    });
  }
  return new ServerError(`${where} could not issue an access token (${words})`, {
    code: "OAUTH2_UNAVAILABLE",
    stage: "oauth2",
    retryable: status === 429 || status >= 500,
    status,
    response: words,
  });
}

function transportError(error: unknown, where: string, outer: AbortSignal | undefined): EmailChannelError {
  if (outer?.aborted) return new AbortedError("oauth2", outer.reason);
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: unknown })?.cause ?? error;
  if (isTlsFailure(cause)) {
    return new TlsError(`TLS with ${where} failed: ${(cause as Error).message ?? message}`, {
      code: "OAUTH2_TLS",
      stage: "oauth2",
      cause: error,
    });
  }
  const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
  return new NetworkError(
    timedOut ? `${where} did not answer in time` : `${where} could not be reached: ${message}`,
    { code: "OAUTH2_NETWORK", stage: "oauth2", cause: error },
  );
}
