import { describe, expect, it } from "vitest";
import { Secret } from "../../../src/config/index.js";
import { AuthError } from "../../../src/errors/index.js";
import {
  authorizeWithLoopback,
  pkcePair,
  redeemAuthorizationCode,
  requestAccessToken,
} from "../../../src/oauth2/index.js";
import { rejectionOf } from "../../support/errors.js";
import { oauthStats } from "../../support/oauth.js";
import { loadStackEnv } from "../../support/stack.js";

const stack = loadStackEnv();
const oauth = stack.oauth;
const { hello } = stack.users;

/** What a browser does with the authorization URL: the provider redirects it to our loopback listener. */
async function browse(url: string): Promise<{ provider: Response; landing?: Response }> {
  const provider = await fetch(url, { redirect: "manual" });
  const location = provider.headers.get("location");
  return location ? { provider, landing: await fetch(location) } : { provider };
}

describe.skipIf(!oauth)(
  "the first refresh token: authorization code with PKCE and a loopback redirect",
  () => {
    const client = () => ({
      authUrl: oauth!.authUrl,
      tokenUrl: oauth!.tokenUrl,
      clientId: oauth!.clientId,
      clientSecret: new Secret(oauth!.clientSecret),
    });

    it("signs in, redeems the code once, and the refresh token it gives works", async () => {
      let landing: Response | undefined;
      let asked = "";
      const issued = await authorizeWithLoopback({
        ...client(),
        scope: "mail",
        loginHint: hello.address,
        onUrl: (url) => {
          asked = url;
          void browse(url).then((b) => {
            landing = b.landing;
          });
        },
      });
      const request = new URL(asked);
      expect(request.searchParams.get("code_challenge_method")).toBe("S256");
      expect(request.searchParams.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      expect(landing?.status).toBe(200);
      expect(await landing?.text()).toContain("Signed in");
      expect(issued.accessToken).toBeTruthy();
      // The refresh token is a real grant for hello: it buys an access token.
      const before = await oauthStats(oauth!);
      const again = await requestAccessToken({
        tokenUrl: oauth!.tokenUrl,
        clientId: oauth!.clientId,
        clientSecret: new Secret(oauth!.clientSecret),
        refreshToken: new Secret(issued.refreshToken),
      });
      expect(again.accessToken).toBeTruthy();
      expect((await oauthStats(oauth!)).grants - before.grants).toBe(1);
    });

    it("ignores a callback with another state and goes on waiting for its own", async () => {
      let stray: Response | undefined;
      const issued = await authorizeWithLoopback({
        ...client(),
        loginHint: hello.address,
        onUrl: (url) => {
          const redirect = new URL(url).searchParams.get("redirect_uri")!;
          void (async () => {
            stray = await fetch(`${redirect}?code=forged&state=not-yours`);
            await browse(url);
          })();
        },
      });
      expect(stray?.status).toBe(400);
      expect(issued.refreshToken).toBeTruthy();
    });

    it("a user the provider does not authorize ends the sign-in with OAUTH2_DENIED", async () => {
      const error = await rejectionOf(
        authorizeWithLoopback({
          ...client(),
          loginHint: "nobody@example.test",
          onUrl: (url) => void browse(url),
        }),
      );
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).code).toBe("OAUTH2_DENIED");
      expect(error.message).toContain("access_denied");
    });

    it("the provider refuses a code with the wrong PKCE verifier, and a code twice", async () => {
      const { verifier, challenge } = pkcePair();
      const redirectUri = "http://127.0.0.1:9/callback";
      const codeFor = async () => {
        const url = new URL(oauth!.authUrl);
        for (const [k, v] of Object.entries({
          response_type: "code",
          client_id: oauth!.clientId,
          redirect_uri: redirectUri,
          state: "s",
          code_challenge: challenge,
          code_challenge_method: "S256",
          login_hint: hello.address,
        }))
          url.searchParams.set(k, v);
        const res = await fetch(url, { redirect: "manual" });
        return new URL(res.headers.get("location")!).searchParams.get("code")!;
      };
      const redeem = (code: string, codeVerifier: string) =>
        redeemAuthorizationCode({ ...client(), code, redirectUri, codeVerifier });
      const wrong = await rejectionOf(redeem(await codeFor(), pkcePair().verifier));
      expect((wrong as AuthError).code).toBe("OAUTH2_REFUSED");
      expect(wrong.message).toMatch(/refused the authorization code \(invalid_grant/);
      const code = await codeFor();
      expect((await redeem(code, verifier)).refreshToken).toBeTruthy();
      expect(((await rejectionOf(redeem(code, verifier))) as AuthError).code).toBe("OAUTH2_REFUSED");
    });

    it("stops waiting when aborted", async () => {
      const abort = new AbortController();
      const waiting = authorizeWithLoopback({
        ...client(),
        signal: abort.signal,
        onUrl: () => abort.abort(),
      });
      expect((await rejectionOf(waiting)).name).toBe("AbortedError");
    });
  },
);
