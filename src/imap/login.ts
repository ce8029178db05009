import type { AccountConfig, TlsSettings } from "../config/resolved.js";
import { AuthError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { accessTokensFor } from "../oauth2/index.js";
import { classifyImapError } from "./connect.js";

/** What imapflow logs in with: a password, or an OAuth 2.0 access token (OAUTHBEARER, else XOAUTH2). */
export type ImapAuth = { user: string; pass: string } | { user: string; accessToken: string };

export interface ImapLogin {
  auth: ImapAuth;
  /**
   * A connection with this login failed with `error`. When that is the server refusing the login, an
   * access token is not offered again: the next login gets a new one. Anything else changes nothing.
   */
  failed(error: unknown): void;
}

/** The server refused the login (not the token endpoint, not the network). */
function loginRefused(error: unknown): boolean {
  const e = classifyImapError(error, "");
  return e instanceof AuthError && e.stage === "imap";
}

/**
 * The login for one new connection of `account`: its password, or a current access token of its
 * OAuth 2.0 grant (shared by all its connections, replaced before it expires). A token endpoint that
 * refuses the grant fails here with AuthError OAUTH2_REFUSED, one that cannot be reached with a
 * retryable error.
 */
export async function imapLogin(
  account: AccountConfig,
  tls: TlsSettings,
  options: { signal?: AbortSignal; logger?: Logger } = {},
): Promise<ImapLogin> {
  const user = account.imap.username;
  if (!account.oauth2) {
    const password = account.imap.password;
    if (!password)
      throw new AuthError(`no IMAP password for ${account.address}`, {
        code: "IMAP_NO_PASSWORD",
        stage: "imap",
      });
    return { auth: { user, pass: password.reveal() }, failed: () => undefined };
  }
  const tokens = accessTokensFor(account.oauth2, tls, options.logger);
  const token = await tokens.get(options.signal ? { signal: options.signal } : {});
  return {
    auth: { user, accessToken: token.value },
    failed: (error) => {
      if (loginRefused(error)) tokens.invalidate(token.value);
    },
  };
}
