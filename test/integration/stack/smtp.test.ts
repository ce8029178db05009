/**
 * Proves the MTA of the stack is real and safe: authenticated submission (STARTTLS and implicit TLS)
 * delivers into the recipient's mailbox, AUTH is required, unknown local users and foreign domains
 * are refused at RCPT TO with a 5xx, and the inbound port takes raw mail from "the Internet".
 */
import { existsSync, readFileSync } from "node:fs";
import { simpleParser } from "mailparser";
import MailComposer from "nodemailer/lib/mail-composer";
import { describe, expect, it } from "vitest";
import { deliverRaw } from "../../support/stack.js";
import { env, newMessageId, submissionTransport, waitForMessage } from "./helpers.js";

const { alice, bob, assistant, hello } = env.users;
const CORPUS = new URL("../../../../shared/corpus/", import.meta.url);

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  response?: string;
}

async function sendFailure(promise: Promise<unknown>): Promise<SmtpFailure> {
  return promise.then(
    () => {
      throw new Error("the server accepted a message it should have refused");
    },
    (error: SmtpFailure) => error,
  );
}

describe("stack SMTP", () => {
  it("delivers mail submitted with STARTTLS + AUTH into the recipient's INBOX", async () => {
    const messageId = newMessageId();
    const transport = submissionTransport(alice);
    try {
      const info = await transport.sendMail({
        from: `Alice <${alice.address}>`,
        to: `Bob <${bob.address}>`,
        subject: "Lunch on Thursday?",
        text: "Shall we try the new place on the corner?",
        messageId,
      });
      expect(info.accepted).toEqual([bob.address]);
      expect(info.rejected).toEqual([]);
    } finally {
      transport.close();
    }
    const found = await waitForMessage(bob, messageId);
    const parsed = await simpleParser(found.source);
    expect(parsed.messageId).toBe(messageId);
    expect(parsed.subject).toBe("Lunch on Thursday?");
    expect(parsed.text?.trim()).toBe("Shall we try the new place on the corner?");
  });

  it("delivers mail submitted over implicit TLS (smtps)", async () => {
    const messageId = newMessageId();
    const transport = submissionTransport(alice, { implicitTls: true });
    try {
      await transport.sendMail({
        from: alice.address,
        to: assistant.address,
        subject: "Over implicit TLS",
        text: "Port 465 style.",
        messageId,
      });
    } finally {
      transport.close();
    }
    const found = await waitForMessage(assistant, messageId);
    expect(found.source.toString("utf8")).toContain("Port 465 style.");
  });

  it("requires AUTH on the submission port", async () => {
    const transport = submissionTransport(undefined);
    try {
      const error = await sendFailure(
        transport.sendMail({ from: alice.address, to: bob.address, subject: "no auth", text: "x" }),
      );
      expect(error.responseCode).toBeGreaterThanOrEqual(500);
      expect(error.responseCode).toBeLessThan(600);
    } finally {
      transport.close();
    }
  });

  it("refuses a wrong submission password with 535", async () => {
    const transport = submissionTransport(alice, { password: `${alice.password}-wrong` });
    try {
      const error = await sendFailure(
        transport.sendMail({ from: alice.address, to: bob.address, text: "x" }),
      );
      expect(error.code).toBe("EAUTH");
      expect(error.responseCode).toBe(535);
    } finally {
      transport.close();
    }
  });

  it("refuses an unknown local user at RCPT TO with a 5xx", async () => {
    const transport = submissionTransport(alice);
    try {
      const nobody = `nobody@${env.domain}`;
      const error = await sendFailure(
        transport.sendMail({ from: alice.address, to: nobody, text: "hello?" }),
      );
      expect(error.code).toBe("EENVELOPE");
      expect(error.responseCode).toBeGreaterThanOrEqual(500);
      expect(error.responseCode).toBeLessThan(600);
      if (env.kind === "local") expect(error.responseCode).toBe(550);
    } finally {
      transport.close();
    }
  });

  it("does not relay to an outside domain, even for an authenticated user", async () => {
    const transport = submissionTransport(alice);
    try {
      const outsider = "someone@example.org";
      const error = await sendFailure(
        transport.sendMail({ from: alice.address, to: outsider, text: "relay?" }),
      );
      expect(error.code).toBe("EENVELOPE");
      expect(error.responseCode).toBeGreaterThanOrEqual(500);
      expect(error.responseCode).toBeLessThan(600);

      // With a local recipient beside it, only the local one is accepted.
      const messageId = newMessageId();
      const info = await transport.sendMail({
        from: alice.address,
        to: [bob.address, outsider],
        subject: "half local",
        text: "One of you is far away.",
        messageId,
      });
      expect(info.accepted).toEqual([bob.address]);
      expect(info.rejected).toEqual([outsider]);
      await waitForMessage(bob, messageId);
    } finally {
      transport.close();
    }
  });

  it("does not relay from the unauthenticated inbound port", async () => {
    const raw = await new MailComposer({ from: "spammer@sender.test", to: "victim@example.org", text: "buy" })
      .compile()
      .build();
    const error = await sendFailure(
      deliverRaw(raw, { from: "spammer@sender.test", to: "victim@example.org" }),
    );
    expect(error.responseCode).toBeGreaterThanOrEqual(500);
    expect(error.responseCode).toBeLessThan(600);
  });

  it("takes raw mail for a local user on the inbound port, envelope apart from the headers", async () => {
    const messageId = newMessageId();
    // The To: header names someone else, as in a Bcc or a mailing list: the envelope decides.
    const raw = await new MailComposer({
      from: "Dave <dave@sender.test>",
      to: "announce@lists.sender.test",
      subject: "Envelope, not header",
      text: "You are on the list.",
      messageId,
    })
      .compile()
      .build();
    const info = await deliverRaw(raw, { from: "bounces@lists.sender.test", to: hello.address });
    expect(info.accepted).toEqual([hello.address]);
    const found = await waitForMessage(hello, messageId);
    const parsed = await simpleParser(found.source);
    // RFC 5321 §4.4: the delivering server records the envelope sender as Return-Path.
    expect(found.source.toString("utf8")).toMatch(/^Return-Path: <bounces@lists\.sender\.test>\r?$/m);
    expect(parsed.to).toMatchObject({ text: "announce@lists.sender.test" });
    expect(parsed.text?.trim()).toBe("You are on the list.");
  });

  it.runIf(existsSync(CORPUS))("carries a real-world message from the corpus through unchanged", async () => {
    const manifest = JSON.parse(readFileSync(new URL("MANIFEST.json", CORPUS), "utf8")) as {
      files: { file: string; kind: string; tags: string[]; line_endings: string }[];
    };
    // First CRLF message with a Message-ID and no mbox "From " line: deterministic across runs.
    const entry = manifest.files.find((f) => {
      if (f.kind !== "message" || f.line_endings !== "crlf" || f.tags.includes("mbox-from-line"))
        return false;
      const head = readFileSync(new URL(f.file, CORPUS)).toString("latin1").split("\r\n\r\n")[0]!;
      return /^message-id:/im.test(head);
    });
    expect(entry, "a CRLF message with a Message-ID in the corpus").toBeDefined();
    const original = readFileSync(new URL(entry!.file, CORPUS));
    const before = await simpleParser(original);
    await deliverRaw(original, { from: "sender@sender.test", to: assistant.address });
    const found = await waitForMessage(assistant, before.messageId!);
    const after = await simpleParser(found.source);
    expect(after.subject).toBe(before.subject);
    expect(after.text).toBe(before.text);
    expect(after.attachments.length).toBe(before.attachments.length);
  });

  it.runIf(env.bounceDomain !== undefined)(
    "bounces mail for the bounce domain back to the sender (DSN)",
    async () => {
      const messageId = newMessageId();
      const transport = submissionTransport(alice);
      try {
        const info = await transport.sendMail({
          from: alice.address,
          to: `gone@${env.bounceDomain}`,
          subject: "Are you still there?",
          text: "Hello?",
          messageId,
        });
        expect(info.accepted).toEqual([`gone@${env.bounceDomain}`]);
      } finally {
        transport.close();
      }
      // The report quotes the original headers in a text/rfc822-headers part: IMAP TEXT (not BODY)
      // searches those.
      const { source } = await waitForMessage(alice, { from: "MAILER-DAEMON", text: messageId });
      const report = await simpleParser(source);
      expect(report.headers.get("content-type")).toMatchObject({
        value: "multipart/report",
        params: { "report-type": "delivery-status" },
      });
      expect(report.from?.value[0]?.address?.toLowerCase()).toMatch(/^mailer-daemon@/);
    },
  );
});
