/**
 * Security on the real stack: certificate trust, secrets kept out of logs, spoofed senders, robot
 * mail, two assistants talking to each other, and Reply-To redirection. Each check has a positive
 * control beside it (the same path admitting what it should), so that a refusal proves the guard and
 * not a broken setup.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger, EmailChannel, loadConfig, type MessageFormat } from "../../src/index.js";
import { stackChannel, stackChannelEnv } from "../support/channel.js";
import { purgeMailbox, readMailbox, sendAs, waitForMail } from "../support/mail.js";
import { issuedAccessTokens } from "../support/oauth.js";
import { deliverRaw, loadStackEnv } from "../support/stack.js";
import { bare, sleep, waitFor, withMessageId } from "./helpers.js";

const stack = loadStackEnv();
const { assistant, hello, support, alice, bob, mallory } = stack.users;
/** The stack's OAuth 2.0 provider (absent on Stalwart: the secrets run then has no OAuth account). */
const oauth = stack.oauth;
const channels: EmailChannel[] = [];

beforeEach(async () => {
  for (const u of [assistant, hello, support, alice, bob, mallory]) await purgeMailbox(u);
});
afterEach(async () => {
  for (const c of channels.splice(0)) await c.stop();
});

const fixture = (path: string) => readFileSync(new URL(`../fixtures/${path}`, import.meta.url));
const quiet = () => createLogger({ level: process.env.LOG_LEVEL ?? "silent", pretty: false });

function recordingAgent(answer = "noted") {
  const seen: MessageFormat[] = [];
  const agent = async (m: MessageFormat) => {
    seen.push(m);
    return `${answer} (${m.messageId})`;
  };
  return { seen, agent };
}

/** `email-channel check` as a person runs it (the CLI through tsx), with EMAIL_* from `env`. */
function runCheck(env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("EMAIL_")));
    const p = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "check"], {
      env: { ...clean, ...env, LOG_LEVEL: "silent" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (out += d.toString()));
    p.on("exit", (code) => resolve({ code: code ?? -1, out }));
  });
}

describe("TLS: a server whose certificate no configured CA vouches for is refused", () => {
  const envWithoutCa = () => {
    const env = stackChannelEnv(stack);
    delete env.EMAIL_TLS_CA_FILE;
    return env;
  };

  it("channel start fails with a TlsError for IMAP without the CA, and works with it", async () => {
    const channel = new EmailChannel(async () => "x", {
      config: await loadConfig({ env: envWithoutCa() }),
      logger: quiet(),
    });
    channels.push(channel);
    const error = await channel.start().then(
      () => undefined,
      (e: unknown) => e as Error & { code?: string; kind?: string },
    );
    expect(error?.name).toBe("TlsError");
    expect(error?.kind).toBe("tls");
    expect(channel.store).toBeUndefined(); // stopped again: nothing left running
    const trusted = new EmailChannel(async () => "x", {
      config: await loadConfig({ env: stackChannelEnv(stack) }),
      logger: quiet(),
    });
    channels.push(trusted);
    await trusted.start();
    expect(trusted.health().map((h) => h.state)).toEqual(["watching"]);
  });

  it("`check` names the untrusted certificate for IMAP and SMTP, and passes with the CA", async () => {
    const bad = await runCheck(envWithoutCa());
    expect(bad.code).not.toBe(0);
    const lines = bad.out.split("\n");
    expect(lines.find((l) => /\bimap\b/.test(l))).toMatch(/^FAIL.*certificate/);
    expect(lines.find((l) => /\bsmtp\b/.test(l))).toMatch(/^FAIL.*certificate/);
    const good = await runCheck(stackChannelEnv(stack));
    expect(good.out).toMatch(/^ok\s+imap/m);
    expect(good.out).toMatch(/^ok\s+smtp/m);
    expect(good.code).toBe(0);
  }, 60_000);
});

describe("secrets never reach a log line", () => {
  it("logs no password, token or Authorization header at level trace through a full round trip", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "ec-proof-secrets-"));
    const wrong = `wrong-${randomUUID()}`;
    const file = join(stateDir, "config.yaml");
    // Three accounts with their own credentials: the assistant's real one, support with a wrong
    // password (IMAP and DAV both refuse it), and hello on OAuth 2.0 only (IMAP, SMTP, and DAV with
    // bearer tokens, which this Radicale refuses: each refusal drops the token and another is fetched,
    // so several tokens pass through the Authorization header). Both DAV URLs are Radicale (Basic).
    writeFileSync(
      file,
      [
        "channels:",
        "  email:",
        "    monitored_accounts:",
        `      - { address: ${assistant.address}, username: ${assistant.address}, password: "${assistant.password}" }`,
        `      - { address: ${support.address}, username: ${support.address}, password: "${wrong}" }`,
        ...(oauth
          ? [
              `      - { address: ${hello.address}, username: ${hello.address}, oauth2: { refresh_token: "${hello.refreshToken}" } }`,
              `    oauth2: { token_url: "${oauth.tokenUrl}", client_id: "${oauth.clientId}", client_secret: "${oauth.clientSecret}" }`,
            ]
          : []),
        `    caldav_url: "${stack.radicaleUrl}"`,
        `    carddav_url: "${stack.radicaleUrl}"`,
        "",
      ].join("\n"),
    );
    const env = stackChannelEnv(stack, { stateDir });
    for (const k of ["EMAIL_MONITORED_ACCOUNTS", "EMAIL_IMAP_USERNAME", "EMAIL_IMAP_PASSWORD"]) delete env[k];
    const lines: string[] = [];
    const capture = new Writable({
      write(chunk, _enc, done) {
        lines.push(...chunk.toString().split("\n").filter(Boolean));
        done();
      },
    });
    const { agent } = recordingAgent("here is your answer");
    const channel = new EmailChannel(agent, {
      config: await loadConfig({ file, env }),
      logger: createLogger({ level: "trace", destination: capture }),
    });
    channels.push(channel);
    await channel.start();
    const sent = await sendAs(alice, { to: assistant.address, subject: "Secrets?", text: "Any secrets?" });
    await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === sent), { timeoutMs: 60_000 });
    if (oauth) {
      const toHello = await sendAs(alice, { to: hello.address, subject: "Tokens?", text: "Any tokens?" });
      await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === toHello), { timeoutMs: 60_000 });
    }
    await channel.sendMessage("proof-secrets", "A new conversation", {
      to: bob.address,
      subject: "Hello Bob",
    });
    await channel.stop();

    const secrets = new Map<string, string>();
    const users = Object.values(stack.users).map((u) => ({ user: u.address, pass: u.password }));
    users.push(
      { user: support.address, pass: wrong },
      { user: stack.master.user, pass: stack.master.password },
    );
    for (const { user, pass } of users) {
      const b64 = (s: string) => Buffer.from(s).toString("base64");
      secrets.set(pass, `password of ${user}`);
      secrets.set(b64(pass), `base64 password of ${user}`);
      secrets.set(b64(`${user}:${pass}`), `Basic credentials of ${user}`);
      secrets.set(b64(`\u0000${user}\u0000${pass}`), `AUTH PLAIN of ${user}`);
      secrets.set(b64(`${user}\u0000${user}\u0000${pass}`), `AUTH PLAIN (authzid) of ${user}`);
      secrets.set(encodeURIComponent(pass), `url-encoded password of ${user}`);
    }
    if (oauth) {
      secrets.set(oauth.clientSecret, "OAuth 2.0 client secret");
      for (const u of Object.values(stack.users))
        if (u.refreshToken) secrets.set(u.refreshToken, `refresh token of ${u.address}`);
      for (const token of await issuedAccessTokens(oauth)) {
        const b64 = (s: string) => Buffer.from(s).toString("base64");
        secrets.set(token, "an access token");
        secrets.set(b64(`user=${hello.address}\u0001auth=Bearer ${token}\u0001\u0001`), "an XOAUTH2 login");
      }
    }
    const scan = (candidates: string[]) => {
      const found: string[] = [];
      for (const line of candidates) {
        for (const [secret, what] of secrets)
          if (line.includes(secret)) found.push(`${what}: ${line.slice(0, 200)}`);
        if (/authorization"?\s*[:=]\s*"?(basic|bearer|digest)\s/i.test(line))
          found.push(`Authorization: ${line.slice(0, 200)}`);
        if (/\b(Basic|Bearer) [A-Za-z0-9+/=._-]{12,}/.test(line))
          found.push(`credentials: ${line.slice(0, 200)}`);
      }
      return found;
    };
    // The scanner itself finds what it looks for (else a clean result would prove nothing).
    const basic = Buffer.from(`${assistant.address}:${assistant.password}`).toString("base64");
    expect(scan([`{"headers":{"authorization":"Basic ${basic}"}}`]).length).toBeGreaterThanOrEqual(2);
    expect(
      scan([
        `{"msg":"AUTH PLAIN ${Buffer.from(`\u0000${alice.address}\u0000${alice.password}`).toString("base64")}"}`,
      ]),
    ).toHaveLength(1);
    if (oauth) {
      const [token] = await issuedAccessTokens(oauth);
      expect(scan([`{"msg":"logged in with ${token}"}`])).toHaveLength(1);
    }
    const leaks = scan(lines);
    // The run did go through every path that handles a secret: logins (one refused), DAV with Basic
    // auth (one refused), SMTP AUTH, and the trace lines of the protocol clients.
    const text = lines.join("\n");
    expect({
      protocolChatter: /"level":20[^\n]*"component":"imapflow"[^\n]*"src":"c"/.test(text),
      imapLoginRefused: /IMAP login refused/.test(text),
      davRefused: /"status":401/.test(text),
      davBearerRefused: oauth ? /refused the OAuth 2\.0 access token/.test(text) : true,
      smtpSent: /"msg":"sent"/.test(text),
      oauthTokenIssued: oauth ? /OAuth 2\.0 access token issued/.test(text) : true,
    }).toEqual({
      protocolChatter: true,
      imapLoginRefused: true,
      davRefused: true,
      davBearerRefused: true,
      smtpSent: true,
      oauthTokenIssued: true,
    });
    console.log(`[proof] secrets in logs: ${leaks.length} in ${lines.length} lines at level trace`);
    expect(leaks).toEqual([]);
  }, 120_000);
});

describe("guards on the wire", () => {
  it("refuses a spoofed From under the enforce policy and answers an authenticated one", async () => {
    const { seen, agent } = recordingAgent();
    const { channel } = await stackChannel(agent, {
      logger: quiet(),
      env: { EMAIL_SENDER_AUTH_AUTHSERV_IDS: "mx.example.test", EMAIL_ALLOWED_SENDERS: `*@${stack.domain}` },
    });
    channels.push(channel);
    const ignored: { messageId: string; guard: string; code: string }[] = [];
    const handled: string[] = [];
    channel.events.on("ignored", (i) => ignored.push(i));
    channel.events.on("handled", (h: { messageId: string }) => handled.push(h.messageId));
    await channel.start();
    const ids: Record<string, string> = {};
    for (const f of ["spoof-dmarc-fail.eml", "spoof-no-auth-results.eml", "auth-pass-alice.eml"]) {
      ids[f] = `${randomUUID()}@proof.example.test`;
      await deliverRaw(withMessageId(fixture(`hostile/${f}`), ids[f]), {
        from: f.startsWith("spoof") ? mallory.address : alice.address,
        to: assistant.address,
      });
    }
    // (The reply's delivery copy, our own mail, is ignored by the loop guard too: not one of these.)
    const ours = (i: { messageId: string }) => Object.values(ids).includes(i.messageId);
    await waitFor(() => ignored.filter(ours).length + handled.length >= 3, "three verdicts", 30_000);
    expect(handled).toEqual([ids["auth-pass-alice.eml"]]);
    const verdicts = ignored.filter(ours);
    expect(verdicts.map((i) => [i.messageId, i.guard]).sort()).toEqual(
      [
        [ids["spoof-dmarc-fail.eml"], "sender-auth"],
        [ids["spoof-no-auth-results.eml"], "sender-auth"],
      ].sort(),
    );
    expect(seen.map((m) => m.messageId)).toEqual([ids["auth-pass-alice.eml"]]);
    await waitForMail(alice, (ms) => ms.some((m) => bare(m.inReplyTo) === ids["auth-pass-alice.eml"]));
    await sleep(2000);
    expect((await readMailbox(alice)).length).toBe(1); // nothing for the spoofed "Alice"
    expect((await readMailbox(bob)).length).toBe(0); // nor for the spoofed "Bob"
  });

  it("answers none of 100 auto-replies and bounces", async () => {
    const robots = [
      "exchange-oof.eml",
      "gmail-vacation.eml",
      "icloud-vacation.eml",
      "postfix-bounce.eml",
      "gmail-bounce.eml",
      "mailman-list.eml",
      "google-groups.eml",
      "discourse-notification.eml",
      "noreply-notification.eml",
    ];
    const { seen, agent } = recordingAgent("should never be sent");
    // Everybody allowed and no rate limit worth the name: only the loop guard stands in the way.
    const { channel } = await stackChannel(agent, { logger: quiet(), env: { EMAIL_ALLOWED_SENDERS: "*" } });
    channels.push(channel);
    const ignored: { code: string }[] = [];
    channel.events.on("ignored", (i: { code: string }) => ignored.push(i));
    await channel.start();
    for (let i = 0; i < 100; i++) {
      const raw = withMessageId(
        fixture(`guards/${robots[i % robots.length]}`),
        `robot-${i}-${randomUUID()}@proof.test`,
      );
      await deliverRaw(raw, { from: "", to: assistant.address });
    }
    await waitFor(
      () => ignored.length >= 100,
      () => `${ignored.length} of 100 recorded`,
      120_000,
    );
    await sleep(3000);
    const codes = [...new Set(ignored.map((i) => i.code))].sort();
    console.log(
      `[proof] robots: 100 delivered, ${seen.length} handed to the agent, ${channel.store!.outbox.countByStatus().sent ?? 0} replies; codes ${codes.join(",")}`,
    );
    expect(ignored).toHaveLength(100);
    expect(ignored.every((i) => i.code.startsWith("LOOP_"))).toBe(true);
    expect(seen).toHaveLength(0);
    expect(channel.store!.outbox.countByStatus()).toEqual({});
    expect(channel.store!.inbound.countByStatus()).toEqual({ ignored: 100 });
  }, 240_000);

  it("stops a ping-pong between two assistants after a few messages", async () => {
    const make = async (self: "hello" | "support", other: string) => {
      const { seen, agent } = recordingAgent(`${self} always answers`);
      const { channel } = await stackChannel(agent, {
        accounts: [self],
        logger: quiet(),
        env: { EMAIL_ALLOWED_SENDERS: other },
      });
      channels.push(channel);
      const ignored: { code: string }[] = [];
      channel.events.on("ignored", (i: { code: string }) => ignored.push(i));
      await channel.start();
      return { channel, seen, ignored };
    };
    const h = await make("hello", support.address);
    const s = await make("support", hello.address);
    // Kick-off 1: hello starts a conversation with support (the assistant's own "new" mail).
    await h.channel.sendMessage(`pingpong-${randomUUID()}`, "Hi support, can you help me?", {
      to: support.address,
      subject: "Ping",
    });
    // Kick-off 2: a message in hello's name that looks written by a person (no auto headers).
    await deliverRaw(withMessageId(fixture("hostile/pingpong-person.eml"), `${randomUUID()}@example.test`), {
      from: hello.address,
      to: support.address,
    });
    const count = async () => (await readMailbox(hello)).length + (await readMailbox(support)).length;
    let last = -1;
    let stableSince = Date.now();
    const started = Date.now();
    while (Date.now() - stableSince < 15_000 && Date.now() - started < 120_000) {
      const n = await count();
      if (n !== last) {
        last = n;
        stableSince = Date.now();
      }
      await sleep(1000);
    }
    console.log(
      `[proof] ping-pong: ${last} messages exchanged; agent calls hello ${h.seen.length}, support ${s.seen.length}; ` +
        `refusals ${[...h.ignored, ...s.ignored].map((i) => i.code).join(",")}`,
    );
    expect(Date.now() - stableSince).toBeGreaterThanOrEqual(15_000); // it stopped
    expect(last).toBeGreaterThanOrEqual(3); // both kick-offs arrived, and one was answered
    expect(last).toBeLessThanOrEqual(6);
    expect(h.seen.length + s.seen.length).toBeLessThanOrEqual(2);
    expect([...h.ignored, ...s.ignored].length).toBeGreaterThan(0);
  }, 240_000);

  it("sends the reply to the allowed sender, not to the outsider named in Reply-To", async () => {
    const { seen, agent } = recordingAgent();
    const { channel } = await stackChannel(agent, {
      logger: quiet(),
      env: { EMAIL_ALLOWED_SENDERS: alice.address },
    });
    channels.push(channel);
    await channel.start();
    const sent = await sendAs(alice, {
      to: assistant.address,
      subject: "Send it over there",
      text: "Please send the summary.",
      replyTo: mallory.address,
    });
    const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === sent));
    const reply = inbox.find((m) => m.inReplyTo === sent)!;
    expect(reply.to && !Array.isArray(reply.to) ? reply.to.value.map((a) => a.address) : []).toEqual([
      alice.address,
    ]);
    expect(reply.cc).toBeUndefined();
    expect(reply.bcc).toBeUndefined();
    expect(seen).toHaveLength(1);
    await sleep(3000);
    expect(await readMailbox(mallory)).toHaveLength(0);
    expect(channel.store!.outbox.pending()).toEqual([]);
    const entries = channel.store!.outbox.countByStatus();
    expect(entries).toEqual({ sent: 1 });
  });
});
