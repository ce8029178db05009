import { describe, expect, it } from "vitest";
import { Secret } from "../../../src/config/resolved.js";
import { AuthError, ServerError } from "../../../src/errors/index.js";
import {
  AccessTokens,
  type OAuth2Grant,
  requestAccessToken,
  type TokenFetch,
} from "../../../src/oauth2/index.js";
import { rejectionOf } from "../../support/errors.js";

/**
 * What the token client makes of the answers a provider may give (RFC 6749 §5.1, §5.2), including
 * the odd ones the stack's server never sends; the exchange itself is tested against that server
 * (test/integration/oauth2).
 */
const grant: OAuth2Grant = {
  tokenUrl: "https://login.example.test/oauth2/token?tenant=x",
  clientId: "client-1",
  clientSecret: new Secret("client-secret-1"),
  refreshToken: new Secret("refresh-1"),
  scope: "mail offline_access",
};

function answering(...answers: { status?: number; body: unknown }[]) {
  const forms: URLSearchParams[] = [];
  const fetch: TokenFetch = async (_url, init) => {
    forms.push(new URLSearchParams(String(init.body)));
    const a = answers[Math.min(forms.length - 1, answers.length - 1)]!;
    const text = typeof a.body === "string" ? a.body : JSON.stringify(a.body);
    return new Response(text, { status: a.status ?? 200, headers: { "content-type": "application/json" } });
  };
  return { fetch, forms };
}

describe("requestAccessToken", () => {
  it("posts the refresh grant with the client and scope in the form body", async () => {
    const { fetch, forms } = answering({
      body: { access_token: "at-1", token_type: "Bearer", expires_in: 3599 },
    });
    const token = await requestAccessToken(grant, { fetch, now: () => 1_000 });
    expect(token).toEqual({ accessToken: "at-1", expiresAt: 1_000 + 3_599_000 });
    expect(Object.fromEntries(forms[0]!)).toEqual({
      grant_type: "refresh_token",
      refresh_token: "refresh-1",
      client_id: "client-1",
      client_secret: "client-secret-1",
      scope: "mail offline_access",
    });
  });

  it("accepts a token without token_type or expires_in (some providers omit them) and a rotated refresh token", async () => {
    const { fetch } = answering({ body: { access_token: "at-2", refresh_token: "refresh-2" } });
    expect(await requestAccessToken(grant, { fetch })).toEqual({
      accessToken: "at-2",
      refreshToken: "refresh-2",
    });
  });

  it("refuses a 200 that carries no bearer token", async () => {
    for (const body of [
      "<html>gateway</html>",
      { token_type: "Bearer" },
      { access_token: "x", token_type: "mac" },
    ]) {
      const error = await rejectionOf(requestAccessToken(grant, answering({ body })));
      expect(error).toBeInstanceOf(ServerError);
      expect(error).toMatchObject({ code: "OAUTH2_BAD_RESPONSE", retryable: true });
    }
  });

  it("a refused grant is a non-retryable AuthError; an outage or rate limit is retryable", async () => {
    const refused = await rejectionOf(
      requestAccessToken(
        grant,
        answering({
          status: 400,
          body: { error: "invalid_grant", error_description: "AADSTS70008: expired" },
        }),
      ),
    );
    expect(refused).toBeInstanceOf(AuthError);
    expect(refused.message).toBe(
      "https://login.example.test/oauth2/token refused the refresh token grant (invalid_grant: AADSTS70008: expired)",
    );
    for (const status of [429, 500, 503]) {
      const error = await rejectionOf(requestAccessToken(grant, answering({ status, body: "busy" })));
      expect(error).toMatchObject({ code: "OAUTH2_UNAVAILABLE", status, retryable: true });
    }
    // A 400 for another reason (a malformed request) is not the grant's fault and not worth repeating.
    const malformed = await rejectionOf(
      requestAccessToken(grant, answering({ status: 400, body: { error: "invalid_request" } })),
    );
    expect(malformed).toMatchObject({ code: "OAUTH2_UNAVAILABLE", retryable: false });
  });

  it("never puts the refresh token or the client secret into an error, even when the provider echoes them", async () => {
    const error = await rejectionOf(
      requestAccessToken(
        grant,
        answering({
          status: 401,
          body: { error: "invalid_client", error_description: "bad refresh-1 / client-secret-1" },
        }),
      ),
    );
    expect(error.message).toBe(
      "https://login.example.test/oauth2/token refused the refresh token grant (invalid_client: bad [redacted] / [redacted])",
    );
    expect(JSON.stringify(error)).not.toMatch(/refresh-1|client-secret-1|tenant=x/);
  });
});

describe("AccessTokens", () => {
  it("reuses a token until shortly before it expires, then asks again with the rotated refresh token", async () => {
    let now = 0;
    const { fetch, forms } = answering(
      { body: { access_token: "at-1", expires_in: 3600, refresh_token: "refresh-2" } },
      { body: { access_token: "at-2", expires_in: 3600 } },
    );
    const tokens = new AccessTokens(grant, { fetch, now: () => now });
    expect((await tokens.get()).value).toBe("at-1");
    now = 3_600_000 - 61_000;
    expect((await tokens.get()).value).toBe("at-1");
    now = 3_600_000 - 59_000; // inside the 60 s margin
    expect((await tokens.get()).value).toBe("at-2");
    expect(forms.map((f) => f.get("refresh_token"))).toEqual(["refresh-1", "refresh-2"]);
  });

  it("a token without a stated lifetime is used for the assumed one; a short-lived one for at least half its life", async () => {
    let now = 0;
    const { fetch, forms } = answering(
      { body: { access_token: "a" } },
      { body: { access_token: "b", expires_in: 90 } },
      { body: { access_token: "c" } },
    );
    const tokens = new AccessTokens(grant, { fetch, now: () => now, assumedLifetimeMs: 600_000 });
    await tokens.get();
    now = 600_000 - 60_001;
    expect((await tokens.get()).value).toBe("a");
    now = 600_000 - 59_999;
    expect((await tokens.get()).value).toBe("b");
    now += 44_000;
    expect((await tokens.get()).value).toBe("b");
    now += 2_000;
    expect((await tokens.get()).value).toBe("c");
    expect(forms).toHaveLength(3);
  });

  it("a failed request is not cached: the next get() asks again", async () => {
    const { fetch, forms } = answering({ status: 503, body: "down" }, { body: { access_token: "at-1" } });
    const tokens = new AccessTokens(grant, { fetch });
    await expect(tokens.get()).rejects.toMatchObject({ code: "OAUTH2_UNAVAILABLE" });
    expect((await tokens.get()).value).toBe("at-1");
    expect(forms).toHaveLength(2);
  });

  it("a caller's abort ends its wait, not the request others share", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const fetch: TokenFetch = async () => {
      await gate;
      return new Response(JSON.stringify({ access_token: "shared" }), { status: 200 });
    };
    const tokens = new AccessTokens(grant, { fetch });
    const controller = new AbortController();
    const aborted = tokens.get({ signal: controller.signal });
    const other = tokens.get();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ kind: "aborted", stage: "oauth2" });
    release();
    expect((await other).value).toBe("shared");
  });

  it("keepRotated: goes on from a kept token and keeps each rotation", async () => {
    const kept: string[] = ["refresh-kept"];
    const { fetch, forms } = answering(
      { body: { access_token: "at-1", expires_in: 1, refresh_token: "refresh-next" } },
      { body: { access_token: "at-2", expires_in: 3600 } },
    );
    const tokens = new AccessTokens(grant, { fetch, marginMs: 0 });
    tokens.keepRotated({ load: () => kept.at(-1), save: (t) => kept.push(t) });
    await tokens.get();
    tokens.invalidate("at-1");
    await tokens.get();
    expect(forms.map((f) => f.get("refresh_token"))).toEqual(["refresh-kept", "refresh-next"]);
    expect(kept).toEqual(["refresh-kept", "refresh-next"]);
  });

  it("a rotated refresh token that cannot be kept is still used in this process", async () => {
    const { fetch, forms } = answering(
      { body: { access_token: "at-1", expires_in: 1, refresh_token: "refresh-next" } },
      { body: { access_token: "at-2", expires_in: 3600 } },
    );
    const tokens = new AccessTokens(grant, { fetch, marginMs: 0 });
    tokens.keepRotated({
      load: () => undefined,
      save: () => {
        throw new Error("the store is closed");
      },
    });
    expect((await tokens.get()).value).toBe("at-1");
    tokens.invalidate("at-1");
    expect((await tokens.get()).value).toBe("at-2");
    expect(forms.map((f) => f.get("refresh_token"))).toEqual(["refresh-1", "refresh-next"]);
  });
});
