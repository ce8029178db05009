/**
 * The stack's OAuth 2.0 authorization server (test/stack/oauth/server.py): its counters and the test
 * controls, plus the channel environment for an account that signs in with OAuth 2.0 only.
 */
import type { StackEnv, StackOAuth, StackUser } from "./stack.js";

export interface OAuthStats {
  /** Access tokens issued (refresh-token grants). */
  grants: number;
  /** Token checks Dovecot made (IMAP and SMTP logins with a bearer token). */
  introspections: number;
  /** Of those, tokens found live. */
  active: number;
  /** Grants refused (unknown client or refresh token). */
  refused: number;
}

export async function oauthStats(oauth: StackOAuth): Promise<OAuthStats> {
  const res = await fetch(new URL("admin/stats", oauth.url));
  return (await res.json()) as OAuthStats;
}

/** The last access tokens the server issued (up to 100), to look for in logs. */
export async function issuedAccessTokens(oauth: StackOAuth): Promise<string[]> {
  const res = await fetch(new URL("admin/issued", oauth.url));
  return ((await res.json()) as { tokens: string[] }).tokens;
}

/**
 * Turns refresh-token rotation on or off for one user: while on, every grant returns a new refresh
 * token and revokes the one used; off restores the user's configured refresh token.
 */
export async function rotateRefreshTokens(oauth: StackOAuth, user: StackUser, on: boolean): Promise<void> {
  await fetch(new URL("admin/rotation", oauth.url), {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ user: user.address, on: on ? "1" : "0" }),
  });
}

/** Every access token issued so far stops being valid (as if revoked, or an hour later). */
export async function expireAccessTokens(oauth: StackOAuth): Promise<number> {
  const res = await fetch(new URL("admin/expire", oauth.url), { method: "POST" });
  return ((await res.json()) as { expired: number }).expired;
}

/**
 * EMAIL_* values for `user` signing in with OAuth 2.0 only: no password anywhere, the stack's token
 * endpoint and client, the user's refresh token. Merge over stackChannelEnv's (it unsets the password).
 */
export function oauthChannelEnv(stack: StackEnv, user: StackUser): Record<string, string> {
  if (!stack.oauth || !user.refreshToken) throw new Error("this stack has no OAuth 2.0 server of ours");
  return {
    EMAIL_IMAP_USERNAME: user.address,
    // Empty = unset (loadConfig skips empty variables): no password beside the token.
    EMAIL_IMAP_PASSWORD: "",
    EMAIL_OAUTH2_TOKEN_URL: stack.oauth.tokenUrl,
    EMAIL_OAUTH2_CLIENT_ID: stack.oauth.clientId,
    EMAIL_OAUTH2_CLIENT_SECRET: stack.oauth.clientSecret,
    EMAIL_OAUTH2_REFRESH_TOKEN: user.refreshToken,
  };
}

/** What the stack's bearer-token front for Radicale (test/stack/oauth/dav_proxy.py) counted. */
export interface DavProxyStats {
  /** Requests with a live token, passed on to Radicale. */
  forwarded: number;
  /** Requests refused for carrying no bearer token (none, or HTTP Basic). */
  no_token: number;
  /** Requests refused for a token the authorization server does not know as live. */
  invalid_token: number;
}

export async function davProxyStats(oauth: StackOAuth): Promise<DavProxyStats> {
  if (!oauth.davUrl) throw new Error("this stack has no CalDAV/CardDAV for bearer tokens");
  const res = await fetch(new URL("admin/stats", oauth.davUrl));
  return (await res.json()) as DavProxyStats;
}
