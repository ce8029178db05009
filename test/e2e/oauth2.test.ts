import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from "vitest";
import type { EmailChannel, EmailChannelOptions, WatcherHealth } from "../../src/index.js";
import { loadConfig } from "../../src/index.js";
import { SmtpSender } from "../../src/smtp/index.js";
import { smtpAuthFor } from "../../src/smtp/account-auth.js";
import { stackChannel, stackChannelEnv } from "../support/channel.js";
import { purgeMailbox, sendAs, waitForMail } from "../support/mail.js";
import { expireAccessTokens, oauthChannelEnv, oauthStats, rotateRefreshTokens } from "../support/oauth.js";
import { loadStackEnv, restoreStack, stackCtl } from "../support/stack.js";

const stack = loadStackEnv();
const oauth = stack.oauth;
const { assistant, alice } = stack.users;
let channel: EmailChannel | undefined;

beforeEach(async () => {
  for (const u of [assistant, alice]) await purgeMailbox(u);
});
afterEach(async () => {
  await channel?.stop();
  channel = undefined;
  await restoreStack(stack);
});

/** The assistant's channel signing in with OAuth 2.0 only: its password is nowhere in the config. */
function oauthChannel(agent: Parameters<typeof stackChannel>[0], extra: Partial<EmailChannelOptions> = {}) {
  return stackChannel(agent, { env: oauthChannelEnv(stack, assistant), extra });
}

describe.skipIf(!oauth)(
  "OAuth 2.0 (XOAUTH2/OAUTHBEARER) against Dovecot and Postfix, tokens from the stack's provider",
  () => {
    it("reads with IMAP and replies with SMTP on access tokens alone", async () => {
      const start = await oauthStats(oauth!);
      ({ channel } = await oauthChannel(async (m) => `token-authenticated answer to: ${m.content}`, {}));
      await channel.start();
      expect(channel.health().map((h) => h.state)).toEqual(["watching"]);
      const sent = await sendAs(alice, {
        to: assistant.address,
        subject: "Via OAuth",
        text: "Does this work?",
      });
      const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === sent));
      expect(inbox.find((m) => m.inReplyTo === sent)!.text).toContain(
        "token-authenticated answer to: Does this work?",
      );
      const after = await oauthStats(oauth!);
      // One grant for the account: its watcher, IDLE listener, Sent-folder client and SMTP pool share it.
      expect(after.grants - start.grants).toBe(1);
      // Dovecot checked a live token for each IMAP session and for the SMTP login (through its SASL socket).
      expect(after.active - start.active).toBeGreaterThanOrEqual(3);
      expect(after.refused - start.refused).toBe(0);
    });

    it("a revoked token is replaced at the next login: the session comes back and mail is answered", async () => {
      ({ channel } = await oauthChannel(async () => "still here"));
      await channel.start();
      const seen: { state: string; code?: string; failures: number }[] = [];
      channel.events.on(
        "health",
        (h: { state: string; lastError?: { code: string }; consecutiveAuthFailures: number }) =>
          seen.push({
            state: h.state,
            failures: h.consecutiveAuthFailures,
            ...(h.lastError ? { code: h.lastError.code } : {}),
          }),
      );
      const start = await oauthStats(oauth!);
      expect(await expireAccessTokens(oauth!)).toBeGreaterThan(0);
      // Dovecot restarts: every session drops; the watcher and the IDLE listener log in again with the
      // token they hold (dead at the provider); the first one refused drops it for all, the next login
      // gets a new one.
      await stackCtl("restart", "dovecot", stack);
      const deadline = Date.now() + 30_000;
      while (channel.health()[0]!.reconnects === 0 || channel.health()[0]!.state !== "watching") {
        if (Date.now() > deadline) throw new Error(`never back: ${JSON.stringify(channel.health())}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // Never refused twice in a row.
      expect(Math.max(...seen.map((h) => h.failures))).toBeLessThanOrEqual(1);
      const sent = await sendAs(alice, {
        to: assistant.address,
        subject: "After revocation",
        text: "hello?",
      });
      const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === sent));
      expect(inbox.find((m) => m.inReplyTo === sent)!.text).toContain("still here");
      const after = await oauthStats(oauth!);
      expect(after.grants - start.grants).toBe(1);
      // The dead token was presented and refused (Dovecot asked, the provider said inactive).
      expect(
        after.introspections - start.introspections - (after.active - start.active),
      ).toBeGreaterThanOrEqual(1);
    });

    it("SMTP: a token the server refuses is renewed and the login retried once (nodemailer XOAUTH2)", async () => {
      const config = await loadConfig({
        env: { ...stackChannelEnv(stack), ...oauthChannelEnv(stack, assistant) },
      });
      const account = config.accounts[0]!;
      expect(account.imap.password).toBeUndefined();
      const sender = new SmtpSender({
        host: config.smtp.host,
        port: config.smtp.port,
        secure: config.smtp.tls,
        auth: smtpAuthFor(account, config.tls),
        tls: { ...(config.tls.ca ? { ca: config.tls.ca } : {}) },
        pool: false,
      });
      const raw = (n: number) =>
        Buffer.from(
          `From: ${assistant.address}\r\nTo: ${alice.address}\r\nSubject: oauth smtp ${n}\r\nMessage-ID: <oauth-smtp-${n}-${Date.now()}@${stack.domain}>\r\n\r\nbody ${n}\r\n`,
        );
      const envelope = { from: assistant.address, to: [alice.address] };
      try {
        await sender.send({ raw: raw(1), envelope });
        const start = await oauthStats(oauth!);
        await expireAccessTokens(oauth!);
        const result = await sender.send({ raw: raw(2), envelope });
        expect(result.accepted).toEqual([alice.address]);
        const after = await oauthStats(oauth!);
        expect(after.grants - start.grants).toBe(1);
        // The dead token was checked once (refused), the new one once (accepted).
        expect(after.introspections - start.introspections).toBe(2);
        await waitForMail(alice, (ms) => ms.some((m) => m.subject === "oauth smtp 2"));
      } finally {
        await sender.close();
      }
    });

    it("a refresh token the provider rotates is kept in the state store: a restart goes on from it", async () => {
      const { support } = stack.users;
      const stateDir = mkdtempSync(join(tmpdir(), "ec-oauth-rotation-"));
      const env = { ...oauthChannelEnv(stack, support) };
      await rotateRefreshTokens(oauth!, support, true);
      onTestFinished(() => rotateRefreshTokens(oauth!, support, false));
      const run = async (dir: string) => {
        const made = await stackChannel(async () => "x", { accounts: ["support"], env, stateDir: dir });
        channel = made.channel;
        const settled = new Promise<WatcherHealth>((resolve) =>
          made.channel.events.on("health", (h: WatcherHealth) => {
            if (h.state === "watching" || h.state === "failed") resolve(h);
          }),
        );
        await made.channel.start().catch(() => undefined);
        const health = await settled;
        await made.channel.stop();
        channel = undefined;
        return health;
      };
      // First run: the configured refresh token is used once and rotated (the provider revokes it).
      expect((await run(stateDir)).state).toBe("watching");
      // A restart from the same state dir goes on from the rotated token (and rotates it again).
      expect((await run(stateDir)).state).toBe("watching");
      // Control: the same configuration without that state is refused: the configured token is spent.
      const fresh = await run(mkdtempSync(join(tmpdir(), "ec-oauth-rotation-")));
      expect(fresh.state).toBe("failed");
      expect(fresh.lastError?.code).toBe("OAUTH2_REFUSED");
      // The store keeps the token under a hash of the configured one, never the configured token itself.
      const db = readFileSync(join(stateDir, "state.sqlite"));
      expect(db.includes(support.refreshToken!)).toBe(false);
      expect(statSync(join(stateDir, "state.sqlite")).mode & 0o777).toBe(0o600);
    });

    it("a refresh token the provider refuses stops the account with a clear error", async () => {
      ({ channel } = await stackChannel(async () => "x", {
        env: {
          ...oauthChannelEnv(stack, assistant),
          EMAIL_OAUTH2_REFRESH_TOKEN: "revoked-refresh-token-000",
        },
        extra: {},
      }));
      const failed = new Promise<WatcherHealth>((resolve) =>
        channel!.events.on("health", (h: WatcherHealth) => h.state === "failed" && resolve(h)),
      );
      await channel.start().catch(() => undefined);
      const health = await failed;
      expect(health.state).toBe("failed");
      expect(health.lastError?.code).toBe("OAUTH2_REFUSED");
      expect(health.lastError?.message).toMatch(/refused the refresh token grant \(invalid_grant/);
      expect(health.lastError?.message).not.toContain("revoked-refresh-token-000");
    });
  },
);
