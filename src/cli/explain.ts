import { errorCode, isTlsFailure } from "../errors/index.js";

/**
 * Turns a connection failure into words a person can act on: which of DNS, refused, timeout, TLS
 * certificate, authentication or a missing capability went wrong, and what to check. Pure.
 */
export function explainFailure(error: unknown, service: string): string {
  const chain: unknown[] = [];
  for (let e: unknown = error; e && chain.length < 6; e = (e as { cause?: unknown }).cause) chain.push(e);
  const codes = chain.map(errorCode).filter(Boolean) as string[];
  const kinds = chain.map((e) => (e as { kind?: string }).kind).filter(Boolean);
  const text = chain.map((e) => (e instanceof Error ? e.message : String(e))).join(" | ");
  const has = (c: string) => codes.includes(c) || text.includes(c);
  const oauth = chain.find((e) => (e as { stage?: string }).stage === "oauth2") as Error | undefined;
  if (oauth) {
    if (codes.includes("OAUTH2_REFUSED"))
      return `OAuth 2.0: ${firstLine(oauth.message)} (check token_url, client_id and client_secret; a revoked or expired refresh token needs the user's consent again)`;
    return `OAuth 2.0 token endpoint: ${firstLine(oauth.message)}`;
  }
  if (has("ENOTFOUND") || has("EAI_AGAIN"))
    return `DNS: the host name of the ${service} server does not resolve (check the host in the config)`;
  if (has("ECONNREFUSED"))
    return `connection refused: nothing listens on the ${service} host and port (is the server running? is the port right?)`;
  if (has("EHOSTUNREACH") || has("ENETUNREACH"))
    return `network unreachable: no route to the ${service} server`;
  if (codes.includes("DAV_CROSS_ORIGIN_REDIRECT")) return `${service}: ${firstLine(text)}`;
  if (kinds.includes("auth") && /OAuth 2\.0 access token/.test(text)) {
    const reason = chain
      .map((e) => (e as { details?: { bearerReason?: unknown } }).details?.bearerReason)
      .find((r): r is string => typeof r === "string");
    return `authentication failed: the ${service} server refused the OAuth 2.0 access token${reason ? ` (${reason})` : ""} (check that the grant has this service's scope)`;
  }
  if (
    kinds.includes("auth") ||
    /AUTHENTICATIONFAILED|authentication failed|Invalid login|535|EAUTH|\b401\b/i.test(text)
  ) {
    return `authentication failed: the ${service} server refused the username or password (check the credentials for this account)`;
  }
  if (kinds.includes("tls") || chain.some(isTlsFailure)) {
    if (
      /self[- ]signed|unable to verify|UNABLE_TO_GET_ISSUER|SELF_SIGNED|DEPTH_ZERO/i.test(
        text + codes.join(" "),
      )
    ) {
      return `TLS certificate not trusted: the ${service} server's certificate is self-signed or from an unknown CA (set EMAIL_TLS_CA_FILE to its CA)`;
    }
    if (/altname|hostname|ERR_TLS_CERT_ALTNAME_INVALID/i.test(text + codes.join(" ")))
      return `TLS certificate name mismatch: the ${service} certificate is not for this host name`;
    if (/expired/i.test(text)) return `TLS certificate expired on the ${service} server`;
    if (/wrong version number|STARTTLS/i.test(text))
      return `TLS mismatch: the ${service} port does not speak the TLS mode configured (implicit TLS vs STARTTLS; check *_USE_TLS and the port)`;
    return `TLS handshake failed with the ${service} server: ${firstLine(text)}`;
  }
  if (has("ETIMEDOUT") || has("CONNECT_TIMEOUT") || /timed? ?out/i.test(text))
    return `timeout: the ${service} server did not answer in time (firewall? wrong port?)`;
  if (has("ECONNRESET") || /closed/i.test(text))
    return `the ${service} server closed the connection: ${firstLine(text)}`;
  return `${service} failed: ${firstLine(text)}`;
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.slice(0, 300);
}
