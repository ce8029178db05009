import { describe, expect, it } from "vitest";
import { Secret } from "../../../src/config/resolved.js";
import { AuthError, NetworkError } from "../../../src/errors/index.js";
import { AccessTokens, type OAuth2Grant, requestAccessToken } from "../../../src/oauth2/index.js";
import { rejectionOf } from "../../support/errors.js";
import { oauthStats } from "../../support/oauth.js";
import { loadStackEnv } from "../../support/stack.js";

const stack = loadStackEnv();
const oauth = stack.oauth;
const { assistant } = stack.users;

function grantFor(refreshToken: string, clientSecret = oauth!.clientSecret): OAuth2Grant {
  return {
    tokenUrl: oauth!.tokenUrl,
    clientId: oauth!.clientId,
    clientSecret: new Secret(clientSecret),
    refreshToken: new Secret(refreshToken),
  };
}

describe.skipIf(!oauth)("OAuth 2.0 token endpoint (the stack's authorization server, RFC 6749 §6)", () => {
  it("trades the refresh token for a bearer token with its lifetime", async () => {
    const before = Date.now();
    const token = await requestAccessToken(grantFor(assistant.refreshToken!));
    expect(token.accessToken.length).toBeGreaterThan(20);
    expect(token.expiresAt! - before).toBeGreaterThan(3_500_000);
    expect(token.expiresAt! - before).toBeLessThanOrEqual(3_600_000 + (Date.now() - before));
  });

  it("one grant serves every caller until the token is refused; then exactly one new grant", async () => {
    const tokens = new AccessTokens(grantFor(assistant.refreshToken!));
    const start = await oauthStats(oauth!);
    const [a, b, c] = await Promise.all([tokens.get(), tokens.get(), tokens.get()]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect((await tokens.get()).value).toBe(a!.value);
    expect((await oauthStats(oauth!)).grants - start.grants).toBe(1);
    tokens.invalidate("some older token"); // not the current one: nothing changes
    expect((await tokens.get()).value).toBe(a!.value);
    tokens.invalidate(a!.value);
    const renewed = await tokens.get();
    expect(renewed.value).not.toBe(a!.value);
    expect((await oauthStats(oauth!)).grants - start.grants).toBe(2);
  });

  it("an unknown refresh token is an AuthError that names the refusal and never the token", async () => {
    const error = await rejectionOf(requestAccessToken(grantFor("not-a-refresh-token-0000")));
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ code: "OAUTH2_REFUSED", stage: "oauth2", retryable: false });
    expect(error.message).toMatch(/refused the refresh token grant \(invalid_grant: unknown or revoked/);
    expect(`${error.message}${JSON.stringify(error)}`).not.toContain("not-a-refresh-token-0000");
  });

  it("a wrong client secret is refused as invalid_client; the secret is not repeated", async () => {
    const error = await rejectionOf(
      requestAccessToken(grantFor(assistant.refreshToken!, "wrong-secret-1234")),
    );
    expect(error).toMatchObject({
      code: "OAUTH2_REFUSED",
      details: { status: 401, error: "invalid_client" },
    });
    expect(`${error.message}${JSON.stringify(error)}`).not.toContain("wrong-secret-1234");
    expect(`${error.message}${JSON.stringify(error)}`).not.toContain(assistant.refreshToken!);
  });

  it("an endpoint nobody listens on is a retryable NetworkError", async () => {
    const grant = { ...grantFor(assistant.refreshToken!), tokenUrl: `http://${stack.host}:9/token` };
    const error = await rejectionOf(requestAccessToken(grant, { timeoutMs: 5000 }));
    expect(error).toBeInstanceOf(NetworkError);
    expect(error).toMatchObject({ code: "OAUTH2_NETWORK", retryable: true });
  });
});
