import { rootCertificates } from "node:tls";
import { Agent } from "undici";
import type { AccountConfig, TlsSettings } from "../config/resolved.js";
import { createDavClient, type DavClient } from "../dav/index.js";
import type { Logger } from "../log/index.js";

const agents = new WeakMap<TlsSettings, Agent>();

/**
 * The undici dispatcher for DAV requests under our TLS settings: the configured CA is trusted in
 * addition to the system CAs (Node's `ca` option replaces them, so both are passed), verification
 * stays on unless a person turned it off. Undefined when the defaults apply.
 */
export function davDispatcher(tls: TlsSettings): Agent | undefined {
  if (!tls.ca && tls.rejectUnauthorized) return undefined;
  let agent = agents.get(tls);
  if (!agent) {
    agent = new Agent({
      connect: {
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(tls.ca ? { ca: [...rootCertificates, tls.ca] } : {}),
      },
    });
    agents.set(tls, agent);
  }
  return agent;
}

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
  const dispatcher = davDispatcher(o.tls);
  return createDavClient({
    baseUrl: davUrlFor(o.url, o.account),
    username: o.account.imap.username,
    password: o.account.imap.password.reveal(),
    stage: o.stage,
    ...(dispatcher ? { dispatcher: dispatcher as never } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  });
}
