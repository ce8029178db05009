import { createHash } from "node:crypto";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { loadFileConfig, oauth2ClientFor } from "../../../src/config/index.js";
import { AuthError, ConfigError, type EmailChannelError } from "../../../src/errors/index.js";
import {
  authorizationUrl,
  authorizeWithLoopback,
  pkcePair,
  readCallback,
} from "../../../src/oauth2/index.js";
import { rejectionOf } from "../../support/errors.js";

describe("PKCE and the authorization request", () => {
  it("makes a 43-character verifier and its S256 challenge (RFC 7636 §4.1, §4.2), fresh each time", () => {
    const a = pkcePair();
    const b = pkcePair();
    expect(a.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.challenge).toBe(createHash("sha256").update(a.verifier).digest("base64url"));
    expect(a.verifier).not.toBe(b.verifier);
  });

  it("builds the code request with PKCE, keeps the provider's own query and extra parameters, never lets them replace ours", () => {
    const url = new URL(
      authorizationUrl({
        authUrl: "https://login.example.test/authorize?tenant=t1",
        clientId: "client-1",
        redirectUri: "http://127.0.0.1:5000/callback",
        state: "st",
        challenge: "ch",
        scope: "mail offline_access",
        loginHint: "hello@example.test",
        params: { access_type: "offline", state: "attacker", redirect_uri: "https://evil.test/" },
      }),
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      tenant: "t1",
      access_type: "offline",
      response_type: "code",
      client_id: "client-1",
      redirect_uri: "http://127.0.0.1:5000/callback",
      state: "st",
      code_challenge: "ch",
      code_challenge_method: "S256",
      scope: "mail offline_access",
      login_hint: "hello@example.test",
    });
  });

  it("reads the callback: the code for our state, the provider's refusal as OAUTH2_DENIED, anything else is not ours", () => {
    expect(readCallback(new URLSearchParams("code=c1&state=s"), "s")).toEqual({ code: "c1" });
    expect(readCallback(new URLSearchParams("code=c1&state=other"), "s")).toBeUndefined();
    expect(readCallback(new URLSearchParams("code=c1"), "s")).toBeUndefined();
    expect(readCallback(new URLSearchParams("state=s"), "s")).toBeUndefined();
    const denied = readCallback(
      new URLSearchParams("error=access_denied&error_description=The+user+said+no&state=s"),
      "s",
    );
    expect(denied).toBeInstanceOf(AuthError);
    expect((denied as AuthError).code).toBe("OAUTH2_DENIED");
    expect((denied as AuthError).message).toContain("access_denied: The user said no");
  });
});

describe("authorizeWithLoopback without a provider", () => {
  it("names a listener port that is taken, and never prints an address to open", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as AddressInfo).port;
    let shown = false;
    const error = await rejectionOf(
      authorizeWithLoopback({
        authUrl: "http://127.0.0.1:9/authorize",
        tokenUrl: "http://127.0.0.1:9/token",
        clientId: "c",
        port,
        onUrl: () => {
          shown = true;
        },
      }),
    );
    taken.close();
    expect((error as EmailChannelError).code).toBe("OAUTH2_LISTEN");
    expect(error.message).toContain(`cannot listen on 127.0.0.1:${port}`);
    expect(shown).toBe(false);
  });

  it("gives up after the wait with OAUTH2_NO_CALLBACK, and the listener is gone", async () => {
    let redirect = "";
    const error = await rejectionOf(
      authorizeWithLoopback({
        authUrl: "http://127.0.0.1:9/authorize",
        tokenUrl: "http://127.0.0.1:9/token",
        clientId: "c",
        waitMs: 50,
        onUrl: (url) => {
          redirect = new URL(url).searchParams.get("redirect_uri")!;
        },
      }),
    );
    expect((error as AuthError).code).toBe("OAUTH2_NO_CALLBACK");
    expect((await rejectionOf(fetch(redirect))).message).toMatch(/fetch failed/);
  });
});

describe("oauth2ClientFor: the settings oauth2-login reads", () => {
  const env = {
    EMAIL_IMAP_SERVER: "imap.example.test:993",
    EMAIL_SMTP_SERVER: "smtp.example.test:587",
    EMAIL_MONITORED_ACCOUNTS: "Hello@example.test",
    EMAIL_OAUTH2_AUTH_URL: "https://login.example.test/authorize",
    EMAIL_OAUTH2_TOKEN_URL: "https://login.example.test/token",
    EMAIL_OAUTH2_CLIENT_ID: "client-1",
    EMAIL_OAUTH2_SCOPE: "mail",
  };

  it("needs no refresh token or password, and takes an account's own block over the top-level one", async () => {
    const { data, ca } = await loadFileConfig({ env });
    expect(oauth2ClientFor(data, ca)).toMatchObject({
      account: "hello@example.test",
      authUrl: "https://login.example.test/authorize",
      tokenUrl: "https://login.example.test/token",
      clientId: "client-1",
      scope: "mail",
    });
    const yaml = [
      "channels:",
      "  email:",
      "    monitored_accounts:",
      "      - { address: a@example.test, oauth2: { client_id: client-a } }",
      "      - { address: b@example.test }",
    ].join("\n");
    const { EMAIL_MONITORED_ACCOUNTS: _m, ...rest } = env;
    const two = await loadFileConfig({ yaml, env: rest });
    expect(oauth2ClientFor(two.data, two.ca, "A@example.test").clientId).toBe("client-a");
    expect(oauth2ClientFor(two.data, two.ca, "b@example.test").clientId).toBe("client-1");
    expect(() => oauth2ClientFor(two.data, two.ca)).toThrow(/several accounts; say which one \(--account\)/);
    expect(() => oauth2ClientFor(two.data, two.ca, "c@example.test")).toThrow(
      /c@example\.test is not a monitored account/,
    );
  });

  it("names what is missing, with its variable", async () => {
    const { EMAIL_OAUTH2_AUTH_URL: _a, EMAIL_OAUTH2_CLIENT_ID: _c, ...rest } = env;
    const { data, ca } = await loadFileConfig({ env: rest });
    const error = await rejectionOf(Promise.resolve().then(() => oauth2ClientFor(data, ca)));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/oauth2\.auth_url: required for oauth2-login \(EMAIL_OAUTH2_AUTH_URL\)/);
    expect(error.message).toMatch(/oauth2\.client_id: required for oauth2-login \(EMAIL_OAUTH2_CLIENT_ID\)/);
  });
});
