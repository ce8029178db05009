/**
 * A message the assistant sent bounces: Postfix accepts it, the final hop refuses the recipient, and
 * Postfix's delivery status notification comes back to the assistant's INBOX. The channel answers
 * nobody, files the report on the outbox entry and emits "bounced" (public API, real Dovecot +
 * Postfix; the stack's bounce domain is delivered over LMTP to a Dovecot that knows nobody there).
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryReportEvent, EmailChannel, MessageFormat } from "../../src/index.js";
import { stackChannel } from "../support/channel.js";
import { purgeMailbox, waitForMail } from "../support/mail.js";
import { loadStackEnv } from "../support/stack.js";

const stack = loadStackEnv();
const { assistant } = stack.users;
let channel: EmailChannel | undefined;

beforeEach(async () => {
  await purgeMailbox(assistant);
});
afterEach(async () => {
  await channel?.stop();
  channel = undefined;
});

function next<T>(c: EmailChannel, event: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs} ms`)), timeoutMs);
    c.events.once(event, (info: T) => {
      clearTimeout(timer);
      resolve(info);
    });
  });
}

describe.runIf(stack.bounceDomain !== undefined)("a sent message that bounces", () => {
  it("is reported on its outbox entry and as a 'bounced' event, found by the ENVID it was sent with", async () => {
    const handed: MessageFormat[] = [];
    ({ channel } = await stackChannel(async (m) => {
      handed.push(m);
      return "this must never be sent";
    }));
    await channel.start();
    const bounced = next<DeliveryReportEvent>(channel, "bounced", 30_000);
    const to = `gone@${stack.bounceDomain}`;
    const sent = await channel.sendMessage("conv-bounce", "Are you still there?", {
      to,
      subject: "Checking in",
    });
    expect(sent.status).toBe("sent");

    const event = await bounced;
    expect(event).toMatchObject({ messageId: sent.messageId, conversationId: "conv-bounce" });
    expect(event.recipients).toHaveLength(1);
    expect(event.recipients[0]).toMatchObject({ recipient: to, action: "failed" });
    // Dovecot's LMTP refuses the unknown user with 550 5.1.1; Postfix reports it as such.
    expect(event.recipients[0]?.status).toBe("5.1.1");
    expect(event.recipients[0]?.diagnostic).toMatch(/^550\b/);

    const entry = channel.store!.outbox.get(event.key)!;
    expect(entry.status).toBe("sent");
    expect(entry.envelopeId).toMatch(/^[0-9a-f]{32}$/);
    expect(entry.deliveryReport).toMatchObject({ outcome: "failed", recipients: [{ recipient: to }] });

    // The report names the ENVID (RFC 3461: Postfix was asked for it in MAIL FROM), so the entry is
    // found without the returned headers; and it returned headers only (RET=HDRS), not the body.
    const inbox = await waitForMail(assistant, (ms) =>
      ms.some((m) => /mailer-daemon/i.test(m.from?.value[0]?.address ?? "") && m.flags.has("\\Seen")),
    );
    const report = inbox.find((m) => /mailer-daemon/i.test(m.from?.value[0]?.address ?? ""))!;
    const source = report.source.toString("utf8");
    expect(source).toMatch(/^Content-Type: message\/delivery-status/m);
    expect(source).toMatch(new RegExp(`^Original-Envelope-Id: ${entry.envelopeId}\r?$`, "m"));
    expect(source).toMatch(/^Content-Type: text\/rfc822-headers/m);
    expect(source).toContain(sent.messageId);
    expect(source).not.toContain("Are you still there?");

    // Robot mail: recorded and marked seen, never handed to the agent or answered.
    expect(handed).toHaveLength(0);
    expect(channel.store!.outbox.countByStatus()).toEqual({ sent: 1 });
  });
});
