import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createDavClient } from "../../../src/dav/client.js";
import { DavHttp, bearerChallenge, parseRetryAfter } from "../../../src/dav/http.js";
import { AbortedError, AuthError, NetworkError, ServerError } from "../../../src/errors/index.js";
import { createLogger } from "../../../src/log/index.js";
import { explainFailure } from "../../../src/cli/explain.js";
import {
  type FakeAnswer,
  type FakeServer,
  fixture,
  refusedUrl,
  startFakeServer,
} from "./support/fake-server.js";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("DavHttp", () => {
  it("sends Basic auth from the account's credentials (UTF-8), Depth and an XML content type", async () => {
    server = await startFakeServer(() => ({ status: 207, body: "<multistatus xmlns='DAV:'/>" }));
    const http = new DavHttp({ username: "jürgen@example.org", password: "pa:ss wörd" });
    const res = await http.send({ method: "PROPFIND", url: server.url, depth: "1", body: "<x/>" });
    expect(res.status).toBe(207);
    const sent = server.requests[0]!;
    const decoded = Buffer.from(sent.headers.authorization!.replace(/^Basic /, ""), "base64").toString(
      "utf8",
    );
    expect(decoded).toBe("jürgen@example.org:pa:ss wörd");
    expect(sent.headers.depth).toBe("1");
    expect(sent.headers["content-type"]).toBe("application/xml; charset=utf-8");
    expect(http.requestCount).toBe(1);
    expect(http.auth).toBe("basic");
  });

  it("never logs the Authorization header or the password", async () => {
    server = await startFakeServer(() => ({
      status: 401,
      headers: { "WWW-Authenticate": 'Basic realm="x"' },
    }));
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = createLogger({ level: "trace", destination, pretty: false });
    const http = new DavHttp({ username: "alice", password: "s3cret-pw", logger });
    const res = await http.send({ method: "PROPFIND", url: server.url });
    const error = http.statusError(res, "PROPFIND");
    logger.error({ err: error }, "failed");
    const all = lines.join("");
    expect(all).toContain("dav request");
    expect(all).not.toContain("s3cret-pw");
    expect(all).not.toContain(Buffer.from("alice:s3cret-pw").toString("base64"));
    expect(error.message).not.toContain("s3cret-pw");
  });

  it("maps statuses: 401 AuthError, bare 403 AuthError, 403 with a precondition ServerError, 5xx retryable", async () => {
    const answers: FakeAnswer[] = [
      { status: 401 },
      { status: 403, body: "Forbidden" },
      {
        status: 403,
        headers: { "Content-Type": "application/xml" },
        body: fixture("protocol/error-valid-sync-token.xml"),
      },
      { status: 503, headers: { "Retry-After": "30" }, body: fixture("protocol/error-server.html") },
      { status: 429, headers: { "Retry-After": "5" } },
      { status: 404 },
      { status: 501 },
    ];
    let i = 0;
    server = await startFakeServer(() => answers[i++]!);
    const http = new DavHttp({ username: "alice", password: "pw", stage: "caldav" });
    const errors = [];
    for (const _ of answers)
      errors.push(http.statusError(await http.send({ method: "REPORT", url: server.url }), "REPORT"));
    expect(errors[0]).toBeInstanceOf(AuthError);
    expect(errors[0]!.code).toBe("DAV_AUTH_FAILED");
    expect(errors[1]).toBeInstanceOf(AuthError);
    expect(errors[1]!.code).toBe("DAV_FORBIDDEN");
    expect(errors[2]).toBeInstanceOf(ServerError);
    expect(errors[2]!.details?.precondition).toBe("{DAV:}valid-sync-token");
    expect(errors[3]).toMatchObject({
      status: 503,
      retryable: true,
      retryAfter: 30,
      code: "DAV_SERVER_ERROR",
      stage: "caldav",
    });
    expect((errors[3] as ServerError).response).toContain("Internal Server Error");
    expect(errors[4]).toMatchObject({
      status: 429,
      retryable: true,
      retryAfter: 5,
      code: "DAV_RATE_LIMITED",
    });
    expect(errors[5]).toMatchObject({ status: 404, retryable: false, code: "DAV_NOT_FOUND" });
    expect(errors[6]).toMatchObject({ status: 501, retryable: false });
  });

  it("times out a hanging server as a retryable NetworkError", async () => {
    server = await startFakeServer(() => ({ status: 207, delayMs: 2_000 }));
    const http = new DavHttp({ timeoutMs: 100 });
    const error = await http.send({ method: "PROPFIND", url: server.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).code).toBe("DAV_TIMEOUT");
  });

  it("reports a refused connection as a NetworkError and an abort as AbortedError", async () => {
    const http = new DavHttp();
    const refused = await http.send({ method: "GET", url: await refusedUrl() }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NetworkError);
    expect((refused as NetworkError).code).toBe("DAV_NETWORK");
    expect((refused as NetworkError).details?.code).toBe("ECONNREFUSED");

    server = await startFakeServer(() => ({ status: 200, delayMs: 2_000 }));
    const controller = new AbortController();
    const pending = http.send({ method: "GET", url: server.url, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    // A client-wide signal aborts as well, before anything is sent.
    const stopped = new DavHttp({ signal: AbortSignal.abort() });
    await expect(stopped.send({ method: "GET", url: server.url })).rejects.toBeInstanceOf(AbortedError);
  });

  it("abandons a response larger than maxResponseBytes", async () => {
    server = await startFakeServer(() => ({ status: 200, body: "x".repeat(10_000) }));
    const http = new DavHttp({ maxResponseBytes: 1_000 });
    const error = await http.send({ method: "GET", url: server.url }).catch((e: unknown) => e);
    expect((error as ServerError).code).toBe("DAV_RESPONSE_TOO_LARGE");
  });

  it("hands the dispatcher to fetch", async () => {
    const dispatcher = { marker: "agent-with-ca" };
    let seen: unknown;
    const http = new DavHttp({
      dispatcher: dispatcher as never,
      fetch: async (_url, init) => {
        seen = (init as { dispatcher?: unknown }).dispatcher;
        return new Response("ok", { status: 200 });
      },
    });
    await http.send({ method: "GET", url: "http://127.0.0.1:1/" });
    expect(seen).toBe(dispatcher);
  });
});

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates", () => {
    expect(parseRetryAfter("120")).toBe(120);
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", new Date("2015-10-21T07:28:00Z"))).toBe(30);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe("createDavClient", () => {
  it("refuses base URLs that are not http(s) or that carry credentials, without echoing them", () => {
    expect(() => createDavClient({ baseUrl: "ftp://example.org/" })).toThrow(/http or https/);
    let message = "";
    try {
      createDavClient({ baseUrl: "http://alice:hunter2@127.0.0.1:5232/" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/must not contain credentials/);
    expect(message).not.toContain("hunter2");
  });
});

describe("DavHttp with bearer tokens (RFC 6750)", () => {
  /** Hands out tok-1, tok-2, ... and records what was refused. */
  function tokenSource() {
    let n = 0;
    const refused: string[] = [];
    return {
      refused,
      get issued() {
        return n;
      },
      bearer: {
        token: async () => `tok-${++n}`,
        refused: (token: string) => {
          refused.push(token);
        },
      },
    };
  }

  it("sends Authorization: Bearer and no Basic header, whatever username is given", async () => {
    server = await startFakeServer(() => ({ status: 207, body: "<multistatus xmlns='DAV:'/>" }));
    const tokens = tokenSource();
    const http = new DavHttp({ username: "alice", password: "unused-pw", bearer: tokens.bearer });
    expect((await http.send({ method: "PROPFIND", url: server.url })).status).toBe(207);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer tok-1"]);
    expect(http.auth).toBe("bearer");
    expect(tokens.refused).toEqual([]);
  });

  it("a 401 drops the token and sends the request once more with a new one", async () => {
    server = await startFakeServer((req) =>
      req.headers.authorization === "Bearer tok-1"
        ? { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="x", error="invalid_token"' } }
        : { status: 207, body: "<multistatus xmlns='DAV:'/>" },
    );
    const tokens = tokenSource();
    const http = new DavHttp({ username: "alice", bearer: tokens.bearer });
    const res = await http.send({ method: "REPORT", url: server.url, body: "<x/>", depth: "1" });
    expect(res.status).toBe(207);
    expect(tokens.refused).toEqual(["tok-1"]);
    expect(server.requests.map((r) => [r.headers.authorization, r.body])).toEqual([
      ["Bearer tok-1", "<x/>"],
      ["Bearer tok-2", "<x/>"],
    ]);
  });

  it("a second 401 is the answer: AuthError naming the server's RFC 6750 reason, never the token", async () => {
    server = await startFakeServer(() => ({
      status: 401,
      headers: {
        "WWW-Authenticate": 'Bearer realm="x", error="invalid_token", error_description="token revoked"',
      },
    }));
    const tokens = tokenSource();
    const http = new DavHttp({ username: "alice@example.test", bearer: tokens.bearer, stage: "caldav" });
    const res = await http.send({ method: "PROPFIND", url: server.url });
    expect(server.requests).toHaveLength(2);
    expect(tokens.refused).toEqual(["tok-1", "tok-2"]);
    const error = http.statusError(res, "PROPFIND");
    expect(error).toBeInstanceOf(AuthError);
    expect(error.code).toBe("DAV_AUTH_FAILED");
    expect(error.message).toMatch(
      /refused the OAuth 2\.0 access token of "alice@example\.test" \(401; OAuth 2\.0: invalid_token \(token revoked\)\)/,
    );
    expect(error.message).not.toContain("tok-");
    expect(explainFailure(error, "CalDAV")).toBe(
      "authentication failed: the CalDAV server refused the OAuth 2.0 access token (invalid_token (token revoked)) (check that the grant has this service's scope)",
    );
  });

  it("names the scope a 403 insufficient_scope asks for", async () => {
    server = await startFakeServer(() => ({
      status: 403,
      headers: {
        "WWW-Authenticate":
          'Bearer error="insufficient_scope", scope="https://www.googleapis.com/auth/calendar"',
      },
    }));
    const http = new DavHttp({ username: "alice", bearer: tokenSource().bearer });
    const error = http.statusError(await http.send({ method: "PROPFIND", url: server.url }), "PROPFIND");
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(
      /forbidden for "alice" \(403; OAuth 2\.0: insufficient_scope, scope needed: https:\/\/www\.googleapis\.com\/auth\/calendar\)/,
    );
  });

  it("a token that cannot be had fails the request with that error, and nothing is sent", async () => {
    server = await startFakeServer(() => ({ status: 207 }));
    const refusedGrant = new AuthError("the provider refused the refresh token", {
      code: "OAUTH2_REFUSED",
      stage: "oauth2",
    });
    const http = new DavHttp({
      bearer: { token: () => Promise.reject(refusedGrant), refused: () => undefined },
    });
    await expect(http.send({ method: "PROPFIND", url: server.url })).rejects.toBe(refusedGrant);
    expect(server.requests).toHaveLength(0);
  });

  it("passes the request's abort signal to the token source", async () => {
    server = await startFakeServer(() => ({ status: 207 }));
    const abort = new AbortController();
    let seen: AbortSignal | undefined;
    const http = new DavHttp({
      bearer: {
        token: (signal) => {
          seen = signal;
          return new Promise((_resolve, reject) =>
            signal?.addEventListener("abort", () => reject(new AbortedError("oauth2"))),
          );
        },
        refused: () => undefined,
      },
    });
    const sending = http.send({ method: "PROPFIND", url: server.url, signal: abort.signal });
    abort.abort();
    await expect(sending).rejects.toBeInstanceOf(AbortedError);
    expect(seen?.aborted).toBe(true);
    expect(server.requests).toHaveLength(0);
  });
});

describe("DavHttp and a redirect to another host", () => {
  let other: FakeServer | undefined;
  afterEach(async () => {
    await other?.close();
    other = undefined;
  });

  it.each(["basic", "bearer"] as const)(
    "%s: a 401 from the host redirected to is named as such, and a bearer token is not blamed for it",
    async (auth) => {
      // fetch drops Authorization on a cross-origin redirect: the other host never sees credentials.
      other = await startFakeServer(() => ({
        status: 401,
        headers: { "WWW-Authenticate": 'Bearer realm="x"' },
      }));
      const target = other.url;
      server = await startFakeServer(() => ({ status: 301, headers: { Location: target } }));
      const refused: string[] = [];
      const http = new DavHttp({
        username: "alice",
        ...(auth === "basic"
          ? { password: "pw" }
          : { bearer: { token: async () => "tok-1", refused: (t: string) => void refused.push(t) } }),
        stage: "carddav",
      });
      const res = await http.send({ method: "PROPFIND", url: server.url });
      expect(res.redirectedFrom).toBe(new URL(server.url).origin);
      expect(other.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
      expect(server.requests).toHaveLength(1);
      expect(refused).toEqual([]);
      const error = http.statusError(res, "PROPFIND");
      expect(error).toBeInstanceOf(AuthError);
      expect(error.code).toBe("DAV_CROSS_ORIGIN_REDIRECT");
      expect(error.message).toContain(`configure the DAV URL on ${new URL(target).origin}`);
      expect(explainFailure(error, "CardDAV")).toMatch(/^CardDAV: .*redirected to another host/);
    },
  );

  it("a redirect on the same host keeps the credentials", async () => {
    server = await startFakeServer((req) =>
      req.path === "/.well-known/carddav"
        ? { status: 301, headers: { Location: "/dav/" } }
        : { status: 207, body: "<multistatus xmlns='DAV:'/>" },
    );
    const http = new DavHttp({ bearer: { token: async () => "tok-1", refused: () => undefined } });
    const res = await http.send({
      method: "PROPFIND",
      url: new URL("/.well-known/carddav", server.url).href,
    });
    expect(res.status).toBe(207);
    expect(res.redirectedFrom).toBeUndefined();
    expect(server.requests.map((r) => r.headers.authorization)).toEqual(["Bearer tok-1", "Bearer tok-1"]);
  });
});

describe("bearerChallenge", () => {
  it("reads error, error_description and scope of the Bearer challenge only", () => {
    expect(bearerChallenge('Bearer realm="x"')).toEqual({});
    expect(
      bearerChallenge(
        'Basic realm="y", Bearer error="insufficient_scope", scope="a b", error_description="needs \\"a b\\""',
      ),
    ).toEqual({ error: "insufficient_scope", scope: "a b", description: 'needs "a b"' });
    expect(bearerChallenge('Bearer error=invalid_token Basic error="not-this-one"')).toEqual({
      error: "invalid_token",
    });
    expect(bearerChallenge('Basic realm="Bearer"')).toBeUndefined();
    expect(bearerChallenge(null)).toBeUndefined();
  });
});
