import type { Secret } from "../config/resolved.js";

/**
 * What an account needs to get access tokens by itself: an OAuth 2.0 client registered with the mail
 * provider and the user's refresh token (RFC 6749 §6), e.g. Google's
 * https://oauth2.googleapis.com/token or Microsoft's
 * https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token.
 */
export interface OAuth2Grant {
  tokenUrl: string;
  clientId: string;
  /** Absent for a public client (RFC 6749 §2.1). */
  clientSecret?: Secret;
  refreshToken: Secret;
  /** Space-separated scopes to ask for; default: what the refresh token was granted. */
  scope?: string;
}

/** One access token from the token endpoint. */
export interface IssuedToken {
  accessToken: string;
  /** Epoch ms after which the provider no longer accepts it (from `expires_in`), if it said. */
  expiresAt?: number;
  /** A new refresh token, when the provider rotates them (RFC 6749 §6). */
  refreshToken?: string;
}

/** The subset of `fetch` the token client uses; tests and hosts may inject their own. */
export type TokenFetch = (url: string, init: RequestInit) => Promise<Response>;
