import { ImapFlow } from "imapflow";
import { simpleParser } from "mailparser";
import nodemailer from "nodemailer";

/**
 * The quick start's proof: a person (alice of the local stack) writes to the assistant through
 * Postfix, and we wait for the assistant's reply to land in her INBOX over IMAP.
 */
export async function demoRoundTrip(
  stack: Record<string, string>,
  log: (line: string) => void,
  timeoutMs = 60_000,
): Promise<void> {
  const ca = stack.STACK_CA_FILE
    ? (await import("node:fs")).readFileSync(stack.STACK_CA_FILE, "utf8")
    : undefined;
  const alice = { user: stack.STACK_USER_ALICE!, pass: stack.STACK_PASS_ALICE! };
  const transport = nodemailer.createTransport({
    host: stack.STACK_HOST,
    port: Number(stack.STACK_SUBMISSION_PORT),
    secure: false,
    requireTLS: true,
    auth: alice,
    tls: { ...(ca ? { ca } : {}) },
  });
  const subject = `Hello assistant (${new Date().toISOString()})`;
  const info = await transport.sendMail({
    from: `Alice <${alice.user}>`,
    to: stack.STACK_USER_ASSISTANT,
    subject,
    text: "Hi! Can you hear me?\n\nAlice",
  });
  transport.close();
  log(
    `demo: alice sent "${subject}" (${info.messageId}) to ${stack.STACK_USER_ASSISTANT}; waiting for the reply in her INBOX...`,
  );
  const client = new ImapFlow({
    host: stack.STACK_HOST,
    port: Number(stack.STACK_IMAP_PORT),
    secure: false,
    doSTARTTLS: true,
    auth: alice,
    tls: { ...(ca ? { ca: [ca] } : {}) },
    logger: false,
  });
  client.on("error", () => undefined);
  await client.connect();
  try {
    const lock = await client.getMailboxLock("INBOX");
    try {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const uids =
          (await client.search({ header: { "in-reply-to": info.messageId } }, { uid: true })) || [];
        if (uids.length > 0) {
          const msg = await client.fetchOne(String(uids[uids.length - 1]), { source: true }, { uid: true });
          const source = msg ? msg.source : undefined;
          if (source) {
            const reply = await simpleParser(source);
            log(`demo: reply arrived in alice's INBOX: "${reply.subject}" from ${reply.from?.text}`);
            log(
              `    In-Reply-To: ${reply.inReplyTo}  Auto-Submitted: ${reply.headers.get("auto-submitted")}`,
            );
            log(
              (reply.text ?? "")
                .trim()
                .split("\n")
                .slice(0, 10)
                .map((l) => `    | ${l}`)
                .join("\n"),
            );
            return;
          }
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      throw new Error(`no reply arrived within ${timeoutMs / 1000} s`);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}
