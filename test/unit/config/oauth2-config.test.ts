import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { ConfigError } from "../../../src/errors/index.js";
import { davAuthFor } from "../../../src/sync/dav-connection.js";
import { rejectionOf } from "../../support/errors.js";

const REFRESH = "1//refresh-Token-of-hello";
const CLIENT_SECRET = "client-Secret-42";

/** One account that signs in with OAuth 2.0 only (no password anywhere). */
const oauthEnv = {
  EMAIL_IMAP_SERVER: "imap.example.test:993",
  EMAIL_SMTP_SERVER: "smtp.example.test:587",
  EMAIL_IMAP_USERNAME: "hello@example.test",
  EMAIL_MONITORED_ACCOUNTS: "hello@example.test",
  EMAIL_OAUTH2_TOKEN_URL: "https://oauth2.example.test/token",
  EMAIL_OAUTH2_CLIENT_ID: "client-1",
  EMAIL_OAUTH2_CLIENT_SECRET: CLIENT_SECRET,
  EMAIL_OAUTH2_REFRESH_TOKEN: REFRESH,
};

/** A YAML configuration on the example servers; `rest` is indented under `channels.email`. */
function loadYaml(rest: string) {
  const head =
    'channels:\n  email:\n    imap_server: "imap.example.test:993"\n    smtp_server: "smtp.example.test:587"\n';
  return loadConfig({ yaml: head + rest.replace(/^\n/, ""), env: {} });
}

async function rejection(options: Parameters<typeof loadConfig>[0]): Promise<ConfigError> {
  const error = await rejectionOf(loadConfig(options));
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe("loadConfig: OAuth 2.0", () => {
  it("an account with a refresh token needs no password; the grant is resolved with secrets kept secret", async () => {
    const cfg = await loadConfig({ env: { ...oauthEnv, EMAIL_OAUTH2_SCOPE: "https://mail.google.com/" } });
    const [account] = cfg.accounts;
    expect(account!.imap).toEqual({ username: "hello@example.test" });
    expect(account!.smtp).toEqual({ username: "hello@example.test" });
    expect(account!.oauth2!.tokenUrl).toBe("https://oauth2.example.test/token");
    expect(account!.oauth2!.clientId).toBe("client-1");
    expect(account!.oauth2!.scope).toBe("https://mail.google.com/");
    expect(account!.oauth2!.refreshToken.reveal()).toBe(REFRESH);
    expect(account!.oauth2!.clientSecret!.reveal()).toBe(CLIENT_SECRET);
    const printed = `${inspect(cfg, { depth: 10 })}${JSON.stringify(cfg)}`;
    expect(printed).not.toContain(REFRESH);
    expect(printed).not.toContain(CLIENT_SECRET);
  });

  it("without a refresh token the account logs in with its password (no grant)", async () => {
    const { EMAIL_OAUTH2_REFRESH_TOKEN: _r, ...rest } = oauthEnv;
    const cfg = await loadConfig({ env: { ...rest, EMAIL_IMAP_PASSWORD: "pw-123" } });
    expect(cfg.accounts[0]!.oauth2).toBeUndefined();
    expect(cfg.accounts[0]!.imap.password?.reveal()).toBe("pw-123");
  });

  it("a public client has no secret", async () => {
    const { EMAIL_OAUTH2_CLIENT_SECRET: _s, ...rest } = oauthEnv;
    const cfg = await loadConfig({ env: rest });
    expect(cfg.accounts[0]!.oauth2!.clientSecret).toBeUndefined();
  });

  it("an account's own block overrides the top-level one key by key (a refresh token per account)", async () => {
    const cfg = await loadYaml(`
    oauth2: { token_url: "https://login.example.test/token", client_id: "shared-client", client_secret: "${CLIENT_SECRET}" }
    monitored_accounts:
      - { address: a@example.test, username: a@example.test, oauth2: { refresh_token: "rt-a-0001" } }
      - { address: b@example.test, username: b@example.test, oauth2: { refresh_token: "rt-b-0001", client_id: "own-client" } }
      - { address: c@example.test, username: c@example.test, password: "pw-c-0001" }
`);
    const [a, b, c] = cfg.accounts;
    expect(a!.oauth2!.clientId).toBe("shared-client");
    expect(a!.oauth2!.refreshToken.reveal()).toBe("rt-a-0001");
    expect(b!.oauth2!.clientId).toBe("own-client");
    expect(b!.oauth2!.tokenUrl).toBe("https://login.example.test/token");
    expect(b!.oauth2!.clientSecret!.reveal()).toBe(CLIENT_SECRET);
    expect(c!.oauth2).toBeUndefined();
    expect(c!.imap.password?.reveal()).toBe("pw-c-0001");
  });

  it("an OAuth account logs in as itself: its address by default, never through the master-user template", async () => {
    const cfg = await loadYaml(`
    login_template: "%u*master"
    imap_password: "master-pw-1"
    oauth2: { token_url: "https://login.example.test/token", client_id: "c" }
    monitored_accounts:
      - { address: A@example.test, oauth2: { refresh_token: "rt-a-0001" } }
      - b@example.test
`);
    expect(cfg.accounts.map((a) => [a.imap.username, a.smtp.username, a.oauth2 !== undefined])).toEqual([
      ["a@example.test", "a@example.test", true],
      ["b@example.test*master", "b@example.test*master", false],
    ]);
    // The shared password is the master user's: the OAuth account does not get it (nor use it for DAV).
    expect(cfg.accounts[0]!.imap.password).toBeUndefined();
    expect(cfg.accounts[1]!.imap.password?.reveal()).toBe("master-pw-1");
  });

  it("refuses one refresh token for several accounts, naming the key and not the token", async () => {
    const error = await rejection({
      env: { ...oauthEnv, EMAIL_MONITORED_ACCOUNTS: "hello@example.test,alice@example.test" },
    });
    expect(error.message).toMatch(
      /monitored_accounts\.0\.oauth2\.refresh_token: several accounts cannot share/,
    );
    expect(error.message).not.toContain(REFRESH);
  });

  it("an account with neither password nor refresh token is told how to get one", async () => {
    const { EMAIL_OAUTH2_REFRESH_TOKEN: _r, ...noToken } = oauthEnv;
    const error = await rejection({ env: noToken });
    expect(error.message).toMatch(
      /monitored_accounts\.0\.password: no IMAP password: .*`email-channel oauth2-login` gets one/,
    );
  });

  it("refuses a refresh token without the token endpoint or the client id", async () => {
    const { EMAIL_OAUTH2_TOKEN_URL: _u, ...noUrl } = oauthEnv;
    expect((await rejection({ env: noUrl })).message).toMatch(
      /channels\.email\.oauth2\.token_url: OAuth 2\.0 needs/,
    );
    const { EMAIL_OAUTH2_CLIENT_ID: _c, ...noClient } = oauthEnv;
    const error = await rejection({ env: noClient });
    expect(error.message).toMatch(/channels\.email\.oauth2\.client_id/);
    expect(error.message).not.toContain(REFRESH);
    expect(error.message).not.toContain(CLIENT_SECRET);
  });

  it("lets an OAuth-only account use CalDAV/CardDAV with bearer tokens; an account with a password keeps Basic", async () => {
    const dav = {
      EMAIL_CALDAV_URL: "https://dav.example.test/",
      EMAIL_CARDDAV_URL: "https://dav.example.test/",
    };
    const onlyOAuth = (await loadConfig({ env: { ...oauthEnv, ...dav } })).accounts[0]!;
    const bearer = davAuthFor(onlyOAuth, { rejectUnauthorized: true });
    expect(bearer.bearer).toBeDefined();
    expect(bearer.password).toBeUndefined();
    expect(bearer.username).toBe(onlyOAuth.imap.username);
    const withPassword = (await loadConfig({ env: { ...oauthEnv, ...dav, EMAIL_IMAP_PASSWORD: "dav-pw-1" } }))
      .accounts[0]!;
    expect(withPassword.oauth2).toBeDefined();
    const basic = davAuthFor(withPassword, { rejectUnauthorized: true });
    expect(basic.password).toBe("dav-pw-1");
    expect(basic.bearer).toBeUndefined();
  });

  it("a bad token URL is named with what is expected", async () => {
    const error = await rejection({ env: { ...oauthEnv, EMAIL_OAUTH2_TOKEN_URL: "not a url" } });
    expect(error.message).toMatch(/oauth2\.token_url \(EMAIL_OAUTH2_TOKEN_URL\): expected an http\(s\) URL/);
  });
});
