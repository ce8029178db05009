/**
 * Getting an account's first refresh token, as a native app does: the authorization-code grant
 * (RFC 6749 §4.1) with PKCE (RFC 7636, S256) and a loopback redirect (RFC 8252 §7.3). The person
 * opens the authorization URL in any browser, signs in and consents; the provider redirects the
 * browser to a listener on 127.0.0.1 that only this process knows the state for; the code it brings
 * is redeemed once, with the verifier, for the first access token and the refresh token.
 *
 * The listener answers only GET /callback with the expected state (anything else: 400 or 404, and
 * it goes on waiting, so a stray or hostile local request cannot end the sign-in); it closes as soon
 * as the code is in, or at the time limit.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Secret } from "../config/resolved.js";
import { AbortedError, AuthError, EmailChannelError } from "../errors/index.js";
import { redeemAuthorizationCode, type TokenRequestOptions } from "./token-endpoint.js";
import type { IssuedToken } from "./types.js";

export interface LoopbackAuthorizationOptions extends Pick<TokenRequestOptions, "fetch" | "dispatcher"> {
  /** The provider's authorization endpoint. */
  authUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret?: Secret;
  /** Space-separated scopes to ask for. */
  scope?: string;
  /** Who is expected to sign in (login_hint; Google and Microsoft prefill it). */
  loginHint?: string;
  /**
   * More query parameters for the authorization request, e.g. Google's access_type=offline and
   * prompt=consent, without which it issues no refresh token. They cannot replace the ones set here.
   */
  params?: Record<string, string>;
  /** Port of the loopback listener on 127.0.0.1. Default 0: any free port (RFC 8252 §7.3). */
  port?: number;
  /** Receives the URL to open in a browser, once the listener is up. */
  onUrl(url: string): void;
  /** How long to wait for the browser to come back, ms. Default 300000. */
  waitMs?: number;
  signal?: AbortSignal;
}

/** A PKCE pair (RFC 7636 §4.1, §4.2): 32 random bytes as the verifier, its SHA-256 as the challenge. */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** The authorization request URL (RFC 6749 §4.1.1 with RFC 7636 §4.3). Pure. */
export function authorizationUrl(o: {
  authUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
  challenge: string;
  scope?: string;
  loginHint?: string;
  params?: Record<string, string>;
}): string {
  const url = new URL(o.authUrl);
  for (const [k, v] of Object.entries(o.params ?? {})) url.searchParams.set(k, v);
  const own: Record<string, string | undefined> = {
    response_type: "code",
    client_id: o.clientId,
    redirect_uri: o.redirectUri,
    state: o.state,
    code_challenge: o.challenge,
    code_challenge_method: "S256",
    scope: o.scope,
    login_hint: o.loginHint,
  };
  for (const [k, v] of Object.entries(own)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

/**
 * What the browser brought back to the redirect URI (RFC 6749 §4.1.2): the code, or the provider's
 * refusal (§4.1.2.1) as an AuthError. `undefined` when it is not for this request (state differs).
 */
export function readCallback(
  query: URLSearchParams,
  state: string,
): { code: string } | AuthError | undefined {
  if (query.get("state") !== state) return undefined;
  const error = query.get("error");
  if (error) {
    const description = query.get("error_description");
    return new AuthError(
      `the provider did not authorize the channel (${error.slice(0, 100)}${description ? `: ${description.slice(0, 200)}` : ""})`,
      { code: "OAUTH2_DENIED", stage: "oauth2", details: { error: error.slice(0, 100) } },
    );
  }
  const code = query.get("code");
  return code ? { code } : undefined;
}

const PAGE = (title: string, text: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1><p>${text}</p></body></html>`;

/**
 * Runs the whole sign-in: listener, authorization URL (to `onUrl`), the callback, the code redeemed.
 * Resolves with the tokens; fails with AuthError OAUTH2_DENIED (the person or provider said no),
 * OAUTH2_REFUSED (the code was not accepted), OAUTH2_NO_REFRESH_TOKEN, OAUTH2_NO_CALLBACK (time
 * limit), or AbortedError.
 */
export async function authorizeWithLoopback(
  o: LoopbackAuthorizationOptions,
): Promise<IssuedToken & { refreshToken: string }> {
  const { verifier, challenge } = pkcePair();
  const state = randomBytes(16).toString("base64url");
  let settle!: (result: { code: string } | Error) => void;
  const outcome = new Promise<{ code: string } | Error>((resolve) => {
    settle = resolve;
  });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method !== "GET" || url.pathname !== "/callback") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    const result = readCallback(url.searchParams, state);
    if (result === undefined) {
      res.writeHead(400, { "content-type": "text/plain" }).end("not the sign-in this listener waits for\n");
      return;
    }
    const ok = !(result instanceof Error);
    res
      .writeHead(ok ? 200 : 400, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" })
      .end(
        ok
          ? PAGE("Signed in", "email-channel has the authorization. You can close this window.")
          : PAGE("Not signed in", "The provider did not authorize email-channel; the terminal says why."),
      );
    settle(result);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        new EmailChannelError(
          `cannot listen on 127.0.0.1:${o.port ?? 0} for the browser to come back (${error.code ?? error.message})`,
          { code: "OAUTH2_LISTEN", stage: "oauth2", kind: "config", cause: error },
        ),
      ),
    );
    server.listen(o.port ?? 0, "127.0.0.1", () => resolve());
  });
  server.on("error", (error) => settle(error));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;
  const timer = setTimeout(
    () =>
      settle(
        new AuthError("no browser came back with an authorization in time", {
          code: "OAUTH2_NO_CALLBACK",
          stage: "oauth2",
        }),
      ),
    o.waitMs ?? 300_000,
  );
  const onAbort = () => settle(new AbortedError("oauth2", o.signal?.reason));
  o.signal?.addEventListener("abort", onAbort, { once: true });
  let result: { code: string } | Error;
  try {
    if (o.signal?.aborted) onAbort();
    else
      o.onUrl(
        authorizationUrl({
          authUrl: o.authUrl,
          clientId: o.clientId,
          redirectUri,
          state,
          challenge,
          ...(o.scope ? { scope: o.scope } : {}),
          ...(o.loginHint ? { loginHint: o.loginHint } : {}),
          ...(o.params ? { params: o.params } : {}),
        }),
      );
    result = await outcome;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener("abort", onAbort);
    server.closeAllConnections();
    server.close();
  }
  if (result instanceof Error) throw result;
  const issued = await redeemAuthorizationCode(
    {
      tokenUrl: o.tokenUrl,
      clientId: o.clientId,
      ...(o.clientSecret ? { clientSecret: o.clientSecret } : {}),
      code: result.code,
      redirectUri,
      codeVerifier: verifier,
    },
    {
      ...(o.fetch ? { fetch: o.fetch } : {}),
      ...(o.dispatcher ? { dispatcher: o.dispatcher } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    },
  );
  if (!issued.refreshToken) {
    throw new AuthError(
      "the provider issued an access token but no refresh token (Google: add the parameters access_type=offline and prompt=consent; Microsoft: add offline_access to the scope)",
      { code: "OAUTH2_NO_REFRESH_TOKEN", stage: "oauth2" },
    );
  }
  return { ...issued, refreshToken: issued.refreshToken };
}
