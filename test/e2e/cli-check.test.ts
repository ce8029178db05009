import { execFile } from "node:child_process";
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
