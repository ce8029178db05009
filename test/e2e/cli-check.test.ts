import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { stackChannelEnv } from "../support/channel.js";
import { oauthChannelEnv } from "../support/oauth.js";
import { loadStackEnv } from "../support/stack.js";

const run = promisify(execFile);
const stack = loadStackEnv();

/** Runs `email-channel check` as a person would (the CLI entry, env configuration). */
async function check(env: Record<string, string | undefined>): Promise<{ code: number; out: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("EMAIL_")));
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "src/cli/main.ts", "check"], {
      env: { ...clean, ...env } as NodeJS.ProcessEnv,
    });
    return { code: 0, out: stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout + e.stderr };
  }
}

const base = () => ({
  ...stackChannelEnv(stack),
  EMAIL_CALDAV_URL: stack.radicaleUrl,
  EMAIL_CARDDAV_URL: stack.radicaleUrl,
});

describe("email-channel check against the real stack", () => {
  it("prints ok for IMAP, SMTP, CalDAV and CardDAV", async () => {
    const { code, out } = await check(base());
    const lines = out.trim().split("\n");
    expect(lines.map((l) => l.split(/\s+/).slice(0, 2).join(" ")).sort()).toEqual([
      "ok caldav",
      "ok carddav",
      "ok imap",
      "ok smtp",
    ]);
    expect(out).toMatch(/imap\s+assistant@example\.test\s+.*STARTTLS, IDLE/);
    expect(code).toBe(0);
  });

  it("names the authentication failure for a wrong password, and never prints it", async () => {
    const { code, out } = await check({ ...base(), EMAIL_IMAP_PASSWORD: "wrong-password-123" });
    expect(code).toBe(1);
    expect(out).toMatch(/FAIL\s+imap\s+.*authentication failed/);
    expect(out).toMatch(/FAIL\s+smtp\s+.*authentication failed/);
    expect(out).not.toContain("wrong-password-123");
  });

  it.skipIf(!stack.oauth)(
    "checks IMAP and SMTP on OAuth 2.0 tokens, and names a refused refresh token",
    async () => {
      const oauthEnv = { ...stackChannelEnv(stack), ...oauthChannelEnv(stack, stack.users.assistant) };
      const good = await check(oauthEnv);
      expect(
        good.out
          .trim()
          .split("\n")
          .map((l) => l.split(/\s+/).slice(0, 2).join(" "))
          .sort(),
      ).toEqual(["ok imap", "ok smtp"]);
      expect(good.out).toMatch(/ok\s+imap\s+assistant@example\.test\s+.*STARTTLS, OAuth 2\.0, IDLE/);
      expect(good.out).toMatch(/ok\s+smtp\s+assistant@example\.test\s+.*XOAUTH2 accepted/);
      expect(good.code).toBe(0);
      const bad = await check({ ...oauthEnv, EMAIL_OAUTH2_REFRESH_TOKEN: "revoked-refresh-token-999" });
      expect(bad.code).toBe(1);
      expect(bad.out).toMatch(/FAIL\s+imap\s+.*refused the refresh token grant \(invalid_grant/);
      expect(bad.out).toMatch(/FAIL\s+smtp\s+.*refused the refresh token grant \(invalid_grant/);
      expect(bad.out).not.toContain("revoked-refresh-token-999");
      expect(bad.out).not.toContain(stack.oauth!.clientSecret);
    },
  );

  it.skipIf(!stack.oauth?.davUrl)(
    "checks CalDAV and CardDAV on OAuth 2.0 bearer tokens, and names a refused refresh token there too",
    async () => {
      const davUrl = stack.oauth!.davUrl!;
      const oauthEnv = {
        ...stackChannelEnv(stack),
        ...oauthChannelEnv(stack, stack.users.assistant),
        EMAIL_CALDAV_URL: davUrl,
        EMAIL_CARDDAV_URL: davUrl,
      };
      const good = await check(oauthEnv);
      expect(good.out).toMatch(
        /ok\s+caldav\s+assistant@example\.test\s+.*principal.*OAuth 2\.0 bearer token accepted/,
      );
      expect(good.out).toMatch(
        /ok\s+carddav\s+assistant@example\.test\s+.*principal.*OAuth 2\.0 bearer token accepted/,
      );
      expect(good.code).toBe(0);
      const bad = await check({ ...oauthEnv, EMAIL_OAUTH2_REFRESH_TOKEN: "revoked-refresh-token-998" });
      expect(bad.code).toBe(1);
      expect(bad.out).toMatch(/FAIL\s+caldav\s+.*refused the refresh token grant \(invalid_grant/);
      expect(bad.out).toMatch(/FAIL\s+carddav\s+.*refused the refresh token grant \(invalid_grant/);
      expect(bad.out).not.toContain("revoked-refresh-token-998");
    },
  );

  it("names the certificate problem when the self-signed CA is not configured", async () => {
    const { code, out } = await check({ ...base(), EMAIL_TLS_CA_FILE: undefined });
    expect(code).toBe(1);
    expect(out).toMatch(/FAIL\s+imap\s+.*TLS certificate not trusted.*EMAIL_TLS_CA_FILE/);
    expect(out).toMatch(/FAIL\s+smtp\s+.*TLS certificate not trusted/);
  });

  it("names a refused connection", async () => {
    const { code, out } = await check({ ...base(), EMAIL_IMAP_SERVER: "127.0.0.1:1" });
    expect(code).toBe(1);
    expect(out).toMatch(/FAIL\s+imap\s+.*connection refused/);
  });
});

describe.skipIf(!stack.oauth)("email-channel oauth2-login against the stack's authorization server", () => {
  /** Runs the command as a person would; `browser` gets the address it prints and plays the browser. */
  function login(
    env: Record<string, string | undefined>,
    args: string[],
    browser: (url: string) => Promise<void>,
  ): Promise<{ code: number; out: string; err: string }> {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("EMAIL_")));
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "oauth2-login", ...args], {
      env: { ...clean, ...env } as NodeJS.ProcessEnv,
    });
    let out = "";
    let err = "";
    let browsed = false;
    child.stdout.on("data", (c: Buffer) => (out += c));
    child.stderr.on("data", (c: Buffer) => {
      err += c;
      const url = /^\s+(http\S+authorize\S+)$/m.exec(err)?.[1];
      if (url && !browsed) {
        browsed = true;
        void browser(url);
      }
    });
    return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? 1, out, err })));
  }
  const oauth = stack.oauth!;
  const env = () => {
    const { EMAIL_OAUTH2_REFRESH_TOKEN: _r, ...rest } = oauthChannelEnv(stack, stack.users.assistant);
    return { ...stackChannelEnv(stack), ...rest, EMAIL_OAUTH2_AUTH_URL: oauth.authUrl };
  };
  const browse = async (url: string) => {
    const provider = await fetch(url, { redirect: "manual" });
    await fetch(provider.headers.get("location")!);
  };

  it("prints a refresh token that the channel then logs in with", async () => {
    const got = await login(env(), ["--param", "access_type=offline"], async (url) => {
      expect(new URL(url).searchParams.get("access_type")).toBe("offline");
      expect(new URL(url).searchParams.get("login_hint")).toBe(stack.users.assistant.address);
      await browse(url);
    });
    expect(got.err).toContain(`sign in as ${stack.users.assistant.address}`);
    expect(got.code).toBe(0);
    const line = got.out.trim();
    expect(line).toMatch(/^EMAIL_OAUTH2_REFRESH_TOKEN=\S{20,}$/);
    const refreshToken = line.split("=")[1]!;
    expect(got.err).not.toContain(refreshToken);
    const checked = await check({ ...env(), EMAIL_OAUTH2_REFRESH_TOKEN: refreshToken });
    expect(checked.out).toMatch(/ok\s+imap\s+assistant@example\.test\s+.*OAuth 2\.0/);
    expect(checked.code).toBe(0);
  });

  it("exits 1 naming the refusal when the provider does not authorize, and prints no token", async () => {
    const got = await login({ ...env(), EMAIL_MONITORED_ACCOUNTS: "nobody@example.test" }, [], browse);
    expect(got.code).toBe(1);
    expect(got.err).toMatch(/did not authorize the channel \(access_denied/);
    expect(got.out).toBe("");
  });

  it("says which setting is missing", async () => {
    const { EMAIL_OAUTH2_AUTH_URL: _a, ...noAuthUrl } = env();
    const got = await login(noAuthUrl, [], browse);
    expect(got.code).toBe(1);
    expect(got.err).toMatch(/oauth2\.auth_url: required for oauth2-login \(EMAIL_OAUTH2_AUTH_URL\)/);
  });
});
