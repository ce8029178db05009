/**
 * SmtpSender against the stack's real Postfix: submission with STARTTLS and AUTH, implicit TLS,
 * certificate verification, wrong credentials, a 5xx recipient, and pooled sending. Delivery is
 * checked in the recipient's INBOX over IMAP.
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { simpleParser } from "mailparser";
import { afterEach, describe, expect, it } from "vitest";
import { composeMessage } from "../../../src/compose/index.js";
import { AuthError, ServerError, TlsError } from "../../../src/errors/index.js";
import { createLogger } from "../../../src/log/index.js";
import type { SmtpSender, SmtpSenderOptions } from "../../../src/smtp/index.js";
import { loadStackEnv } from "../../support/stack.js";
import { countByIds, messagesById, waitFor } from "./mailbox.js";
import { stackSmtpSender } from "../../support/stack-sender.js";

const env = loadStackEnv();
const hello = env.users.hello;
const ca = env.caFile ? readFileSync(env.caFile) : undefined;
const senders: SmtpSender[] = [];

afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
});

function sender(options: Partial<SmtpSenderOptions> = {}): SmtpSender {
  const s = stackSmtpSender(env, hello, options);
  senders.push(s);
  return s;
}

async function message(to: string, subject: string) {
  return composeMessage({
    from: { address: hello.address, name: "Cassey" },
    to: [{ address: to }],
    subject,
    kind: "new",
    messageId: `it-${randomUUID()}@${env.domain}`,
    markdown: `Integration test **${subject}**.\n\n- one\n- two`,
  });
}

describe("SmtpSender on Postfix", () => {
  it("sends over STARTTLS submission with AUTH and the message arrives byte for byte", async () => {
    const alice = env.users.alice;
    const composed = await message(alice.address, "starttls submission");
    const result = await sender().send(composed);
    expect(result.response).toMatch(/^250 /);
    expect(result.accepted).toEqual([alice.address]);
    expect(result.rejected).toEqual([]);
    const delivered = await waitFor(
      () => messagesById(alice, composed.messageId),
      (list) => list.length > 0,
    );
    expect(delivered).toHaveLength(1);
    // Postfix and Dovecot prepend trace headers (Return-Path, Received...); what we sent follows unchanged.
    const source = delivered[0]!;
    expect(source.subarray(source.length - composed.raw.length).equals(composed.raw)).toBe(true);
    const parsed = await simpleParser(source);
    expect(parsed.headers.get("auto-submitted")).toBe("auto-generated");
    // Postfix's Received header records that the submission was encrypted and authenticated.
    expect(String(parsed.headers.get("received"))).toMatch(/ESMTPSA|TLS/);
  });

  it("sends over implicit TLS (smtps)", async () => {
    const alice = env.users.alice;
    const s = sender({ port: env.ports.smtps, secure: "implicit" });
    await s.verify();
    const composed = await message(alice.address, "implicit tls");
    expect((await s.send(composed)).response).toMatch(/^250 /);
    const delivered = await waitFor(
      () => messagesById(alice, composed.messageId),
      (list) => list.length > 0,
    );
    expect(delivered).toHaveLength(1);
  });

  it.skipIf(!ca)(
    "refuses the stack's self-signed certificate without its CA (TlsError), on both ports",
    async () => {
      const starttls = sender({ tls: {} });
      await expect(starttls.verify()).rejects.toBeInstanceOf(TlsError);
      const implicit = sender({ port: env.ports.smtps, secure: "implicit", tls: {} });
      const composed = await message(env.users.alice.address, "must not arrive");
      const error = await implicit.send(composed).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TlsError);
      expect((error as TlsError).retryable).toBe(false);
    },
  );

  it("reports a wrong password as AuthError and never logs the password", async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const logger = createLogger({ level: "trace", destination, pretty: false });
    const wrongPassword = `wrong-${randomUUID()}`;
    const bad = sender({ auth: { user: hello.address, pass: wrongPassword }, logger, transactionLog: true });
    const error = await bad.verify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe("SMTP_AUTH_FAILED");
    expect((error as AuthError).message).toContain("535");
    // A good login with the same logging, to have AUTH lines that succeeded in the log as well.
    const good = sender({ logger, transactionLog: true });
    await good.verify();
    const log = lines.join("");
    expect(log.length).toBeGreaterThan(0);
    expect(log).toContain("AUTH");
    for (const secret of [wrongPassword, hello.password]) {
      expect(log).not.toContain(secret);
      expect(log).not.toContain(Buffer.from(`\u0000${hello.address}\u0000${secret}`).toString("base64"));
      expect(log).not.toContain(Buffer.from(secret).toString("base64"));
    }
    expect(JSON.stringify((error as AuthError).toJSON())).not.toContain(wrongPassword);
  });

  it("reports an unknown recipient as a permanent ServerError with Postfix's words", async () => {
    const composed = await message(`nobody@${env.domain}`, "unknown recipient");
    const error = await sender()
      .send(composed)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect((error as ServerError).status).toBe(550);
    expect((error as ServerError).retryable).toBe(false);
    expect((error as ServerError).response).toMatch(
      /^550 5\.1\.1 <nobody@example\.test>: Recipient address rejected/,
    );
  });

  it("reports partly refused recipients while delivering to the others", async () => {
    const alice = env.users.alice;
    const composed = await composeMessage({
      from: { address: hello.address },
      to: [{ address: alice.address }, { address: `nobody@${env.domain}` }],
      subject: "partly refused",
      messageId: `it-${randomUUID()}@${env.domain}`,
      markdown: "hi",
    });
    const result = await sender().send(composed);
    expect(result.accepted).toEqual([alice.address]);
    expect(result.rejected).toEqual([`nobody@${env.domain}`]);
  });

  it("sends many messages over a pool of 3 connections, each delivered once", async () => {
    const bob = env.users.bob;
    const pooled = sender({ pool: true, maxConnections: 3 });
    const messages = await Promise.all(
      Array.from({ length: 30 }, (_, i) => message(bob.address, `pool ${i}`)),
    );
    const results = await Promise.all(messages.map((m) => pooled.send(m)));
    expect(results.every((r) => /^250 /.test(r.response))).toBe(true);
    const ids = messages.map((m) => m.messageId);
    const counts = await waitFor(
      () => countByIds(bob, ids),
      (map) => [...map.values()].every((n) => n >= 1),
    );
    expect([...counts.values()]).toEqual(ids.map(() => 1));
  });
});
