import { Secret, type TlsSettings } from "../config/resolved.js";
import type { Logger } from "../log/index.js";
import { abortable } from "../runtime/abort.js";
import { tlsDispatcher } from "../runtime/tls-dispatcher.js";
import { requestAccessToken, type TokenRequestOptions } from "./token-endpoint.js";
import type { OAuth2Grant } from "./types.js";

export interface AccessTokensOptions extends Omit<TokenRequestOptions, "signal"> {
  /** A token is replaced this long before the provider says it expires, ms. Default 60000. */
  marginMs?: number;
  /**
   * How long a token is used when the provider does not say when it expires, ms. Default 1800000
   * (30 min; Google and Microsoft issue tokens for an hour). A refused token is replaced at once anyway.
   */
  assumedLifetimeMs?: number;
  logger?: Logger;
}

/**
 * Where a refresh token the provider rotated is kept across restarts (the channel: its state store).
 * Providers with reuse detection revoke the whole grant when an already-rotated token comes back, so
 * a restart must not fall back to the configured one once it has been replaced.
 */
export interface RotatedRefreshTokens {
  load(): string | undefined;
  save(refreshToken: string): void;
}

/** An access token and when it stops being used (epoch ms). */
export interface AccessToken {
  value: string;
  expiresAt: number;
}

/**
 * The access tokens of one account: one request to the token endpoint at a time, whoever asks (the
 * IMAP watchers, the IDLE listeners, the SMTP pool, the Sent-folder client share it); the token is
 * reused until shortly before it expires or until a server refuses it (invalidate); a refresh token
 * the provider rotates is used from then on, and kept where keepRotated says (the channel: its state
 * store) so that a restart goes on from it.
 */
export class AccessTokens {
  readonly #grant: OAuth2Grant;
  readonly #o: AccessTokensOptions;
  #refreshToken: Secret;
  #current: AccessToken | undefined;
  #pending: Promise<AccessToken> | undefined;
  #rotated: RotatedRefreshTokens | undefined;

  constructor(grant: OAuth2Grant, options: AccessTokensOptions = {}) {
    this.#grant = grant;
    this.#o = options;
    this.#refreshToken = grant.refreshToken;
  }

  /** A token valid for at least the margin; asks the token endpoint when there is none. */
  async get(options: { signal?: AbortSignal } = {}): Promise<AccessToken> {
    const now = (this.#o.now ?? Date.now)();
    const current = this.#current;
    if (current && current.expiresAt > now) return current;
    this.#pending ??= this.#request().finally(() => {
      this.#pending = undefined;
    });
    return abortable(this.#pending, options.signal, "oauth2");
  }

  /**
   * Keeps rotated refresh tokens in `rotated` from now on, and continues from the one kept there by
   * an earlier run, if any.
   */
  keepRotated(rotated: RotatedRefreshTokens): void {
    this.#rotated = rotated;
    const kept = rotated.load();
    if (kept) this.#refreshToken = new Secret(kept);
  }

  /** A server refused `value`: the next get() asks for a new one (an older refusal changes nothing). */
  invalidate(value: string): void {
    if (this.#current?.value === value) this.#current = undefined;
  }

  async #request(): Promise<AccessToken> {
    const { marginMs = 60_000, assumedLifetimeMs = 1_800_000 } = this.#o;
    const issued = await requestAccessToken({ ...this.#grant, refreshToken: this.#refreshToken }, this.#o);
    const now = (this.#o.now ?? Date.now)();
    if (issued.refreshToken && issued.refreshToken !== this.#refreshToken.reveal()) {
      this.#refreshToken = new Secret(issued.refreshToken);
      let kept = false;
      try {
        this.#rotated?.save(issued.refreshToken);
        kept = this.#rotated !== undefined;
      } catch (error) {
        // The token is still good for this process; only a restart would fall back to an older one.
        this.#o.logger?.warn({ err: error }, "could not keep the rotated OAuth 2.0 refresh token");
      }
      this.#o.logger?.info(
        kept
          ? "the OAuth 2.0 provider rotated the refresh token; the new one is kept in the state store"
          : "the OAuth 2.0 provider rotated the refresh token; using the new one (in memory)",
      );
    }
    // Never less than half the token's own life: a provider issuing 90 s tokens still gets reuse.
    const life = issued.expiresAt !== undefined ? issued.expiresAt - now : assumedLifetimeMs;
    const token = { value: issued.accessToken, expiresAt: now + Math.max(life - marginMs, life / 2) };
    this.#current = token;
    this.#o.logger?.debug(
      { expiresAt: new Date(token.expiresAt).toISOString() },
      "OAuth 2.0 access token issued",
    );
    return token;
  }
}

const shared = new WeakMap<OAuth2Grant, AccessTokens>();

/**
 * The AccessTokens of a configured grant, one per grant object for the whole process, so that every
 * connection of an account shares its tokens. The token endpoint is reached under the configured TLS
 * settings (an extra CA for a private provider).
 */
export function accessTokensFor(grant: OAuth2Grant, tls: TlsSettings, logger?: Logger): AccessTokens {
  let tokens = shared.get(grant);
  if (!tokens) {
    const dispatcher = tlsDispatcher(tls);
    tokens = new AccessTokens(grant, {
      ...(dispatcher ? { dispatcher } : {}),
      ...(logger ? { logger: logger.child({ stage: "oauth2" }) } : {}),
    });
    shared.set(grant, tokens);
  }
  return tokens;
}
