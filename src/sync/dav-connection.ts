import type { AccountConfig, TlsSettings } from "../config/resolved.js";
import { createDavClient, type DavClient } from "../dav/index.js";
import type { Logger } from "../log/index.js";
import { tlsDispatcher } from "../runtime/tls-dispatcher.js";

/** A DAV URL for one account: "%u" in the configured URL is the account address (Stalwart's /dav/cal/<account>/). */
export function davUrlFor(url: string, account: AccountConfig): string {
  return url.replaceAll("%u", encodeURIComponent(account.address).replaceAll("%40", "@"));
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
    username: o.account.imap.username,
    // Resolution refuses DAV for an account without a password (OAuth 2.0 only).
    ...(o.account.imap.password ? { password: o.account.imap.password.reveal() } : {}),
    stage: o.stage,
    ...(dispatcher ? { dispatcher: dispatcher as never } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  });
}
