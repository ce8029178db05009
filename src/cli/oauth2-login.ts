import { loadFileConfig, oauth2ClientFor } from "../config/index.js";
import { authorizeWithLoopback } from "../oauth2/index.js";
import { tlsDispatcher } from "../runtime/tls-dispatcher.js";
import { usageError } from "./usage.js";

export interface OAuth2LoginOptions {
  config?: string;
  account?: string;
  port?: string;
  /** key=value query parameters for the authorization request. */
  params?: string[];
  /** Where the URL and the explanations go (the person at the terminal). */
  tell(line: string): void;
  /** Where the refresh token goes (stdout: it can be captured by a script). */
  print(line: string): void;
  signal?: AbortSignal;
}

function parseParams(pairs: string[] | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const at = pair.indexOf("=");
    if (at <= 0) throw usageError(`--param ${pair}: expected key=value`);
    params[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return params;
}

/**
 * `email-channel oauth2-login`: one account's first refresh token, with its user's consent in a
 * browser (src/oauth2/authorize.ts). Prints the refresh token as an EMAIL_OAUTH2_REFRESH_TOKEN line
 * on stdout; everything else goes to `tell`. Resolves with the exit code.
 */
export async function oauth2Login(o: OAuth2LoginOptions): Promise<number> {
  const { data, ca } = await loadFileConfig(o.config ? { file: o.config } : {});
  const client = oauth2ClientFor(data, ca, o.account);
  const port = o.port === undefined ? 0 : Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw usageError(`--port ${o.port}: expected a port number`);
  const params = parseParams(o.params);
  const dispatcher = tlsDispatcher(client.tls);
  const issued = await authorizeWithLoopback({
    authUrl: client.authUrl,
    tokenUrl: client.tokenUrl,
    clientId: client.clientId,
    ...(client.clientSecret ? { clientSecret: client.clientSecret } : {}),
    ...(client.scope ? { scope: client.scope } : {}),
    loginHint: client.account,
    params,
    port,
    ...(dispatcher ? { dispatcher } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
    onUrl: (url) => {
      o.tell(`Open this address in a browser and sign in as ${client.account}:`);
      o.tell("");
      o.tell(`  ${url}`);
      o.tell("");
      o.tell(
        `Waiting for the browser to come back to ${new URL(new URL(url).searchParams.get("redirect_uri")!).origin} (Ctrl-C stops) ...`,
      );
    },
  });
  o.tell(
    `Signed in. The refresh token for ${client.account} follows on stdout: it is a secret. Put it in ${
      data.monitored_accounts.length > 1
        ? "this account's oauth2.refresh_token"
        : "EMAIL_OAUTH2_REFRESH_TOKEN (or oauth2.refresh_token)"
    }.`,
  );
  o.print(`EMAIL_OAUTH2_REFRESH_TOKEN=${issued.refreshToken}`);
  return 0;
}
