import { rootCertificates } from "node:tls";
import { Agent } from "undici";
import type { TlsSettings } from "../config/resolved.js";

const agents = new WeakMap<TlsSettings, Agent>();

/**
 * The undici dispatcher for HTTP requests (CalDAV, CardDAV, OAuth 2.0 token endpoints) under our TLS
 * settings: the configured CA is trusted in addition to the system CAs (Node's `ca` option replaces
 * them, so both are passed), verification stays on unless a person turned it off. Undefined when
 * the defaults apply.
 */
export function tlsDispatcher(tls: TlsSettings): Agent | undefined {
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
