import type { AccountConfig, TlsSettings } from "../config/resolved.js";
import { createDavClient, type DavClient, type DavClientOptions } from "../dav/index.js";
import type { Logger } from "../log/index.js";
import { accessTokensFor } from "../oauth2/index.js";
import { tlsDispatcher } from "../runtime/tls-dispatcher.js";

/** A DAV URL for one account: "%u" in the configured URL is the account address (Stalwart's /dav/cal/<account>/). */
export function davUrlFor(url: string, account: AccountConfig): string {
  return url.replaceAll("%u", encodeURIComponent(account.address).replaceAll("%40", "@"));
}

/**
 * How an account logs in to CalDAV/CardDAV: with its password (HTTP Basic) when it has one, else
 * with its OAuth 2.0 grant's access tokens (Bearer, RFC 6750; as Google's DAV requires), the same
 * tokens its IMAP and SMTP connections use. A password wins: a mailbox on OAuth 2.0 may keep its
 * calendars on another server that takes a password.
 */
export function davAuthFor(
  account: AccountConfig,
  tls: TlsSettings,
  logger?: Logger,
): Pick<DavClientOptions, "username" | "password" | "bearer"> {
  const username = account.imap.username;
  const password = account.imap.password;
  if (password || !account.oauth2) return { username, ...(password ? { password: password.reveal() } : {}) };
  const tokens = accessTokensFor(account.oauth2, tls, logger);
  return {
    username,
    bearer: {
      token: async (signal) => (await tokens.get(signal ? { signal } : {})).value,
      refused: (token) => tokens.invalidate(token),
    },
  };
}

/** A DAV client for one account with its own credentials (CONTRACT.md) and our TLS settings. */
export function accountDavClient(o: {
  url: string;
  account: AccountConfig;
  tls: TlsSettings;
  stage: "caldav" | "carddav";
  logger?: Logger;
  timeoutMs?: number;
}): DavClient {
  const dispatcher = tlsDispatcher(o.tls);
  return createDavClient({
    baseUrl: davUrlFor(o.url, o.account),
    ...davAuthFor(o.account, o.tls, o.logger),
    stage: o.stage,
    ...(dispatcher ? { dispatcher: dispatcher as never } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  });
}
