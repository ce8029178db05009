/**
 * A person's side of the conversation in end-to-end tests: send mail as a stack user through Postfix
 * submission, and read their mailbox over IMAP. Everything goes through the real servers.
 */
import { ImapFlow } from "imapflow";
import { type ParsedMail, simpleParser } from "mailparser";
import nodemailer from "nodemailer";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import { deliverRaw, loadStackEnv, type StackEnv, type StackUser } from "./stack.js";

export interface PersonMail {
  to: string | string[];
  subject: string;
  text: string;
  cc?: string | string[];
  inReplyTo?: string;
  references?: string | string[];
  headers?: Record<string, string>;
  replyTo?: string;
  messageId?: string;
}

/** Sends as `user` through the submission port (STARTTLS + AUTH). Returns the Message-ID (with <>). */
export async function sendAs(
  user: StackUser,
  mail: PersonMail,
  env: StackEnv = loadStackEnv(),
): Promise<string> {
  const transport = nodemailer.createTransport({
    host: env.host,
    port: env.ports.submission,
    secure: false,
    requireTLS: true,
    auth: { user: user.address, pass: user.password },
    tls: { ...(env.caFile ? { ca: (await import("node:fs")).readFileSync(env.caFile) } : {}) },
  });
  try {
    const info = await transport.sendMail({ from: user.address, ...mail });
    return info.messageId;
  } finally {
    transport.close();
  }
}

/**
 * Delivers mail from `user` through the inbound (MX) port, as another server on the Internet would:
 * no login, so it works while Dovecot (the SASL backend) is down; Postfix queues it until LMTP is back.
 */
export async function deliverAs(
  user: StackUser,
  mail: PersonMail,
  env: StackEnv = loadStackEnv(),
): Promise<string> {
  const composer = new MailComposer({ from: user.address, ...mail });
  const node = composer.compile();
  const raw = await node.build();
  const messageId = node.messageId();
  const to = [mail.to, mail.cc ?? []].flat();
  await deliverRaw(raw, { from: user.address, to }, env);
  return messageId;
}

/**
 * Puts a message from `user` straight into `owner`'s mailbox with IMAP APPEND (no MTA involved: for
 * tests where Postfix is down, or for mail that was there before the channel). `where`: the mailbox
 * (default INBOX), or it with the message's flags and INTERNALDATE. Returns the Message-ID (with <>).
 */
export async function appendAs(
  user: StackUser,
  owner: StackUser,
  mail: PersonMail,
  where: string | { mailbox?: string; flags?: string[]; internalDate?: Date } = "INBOX",
  env: StackEnv = loadStackEnv(),
): Promise<string> {
  const { mailbox = "INBOX", flags, internalDate } = typeof where === "string" ? { mailbox: where } : where;
  const node = new MailComposer({ from: user.address, ...mail }).compile();
  const raw = await node.build();
  const client = await openMailbox(owner, env);
  try {
    await client.append(mailbox, raw, flags, internalDate);
  } finally {
    await client.logout().catch(() => client.close());
  }
  return node.messageId();
}

export async function openMailbox(
  user: StackUser,
  env: StackEnv = loadStackEnv(),
  extra: Partial<ConstructorParameters<typeof ImapFlow>[0]> = {},
): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: env.host,
    port: env.ports.imap,
    secure: false,
    doSTARTTLS: true,
    auth: { user: user.address, pass: user.password },
    tls: { ...(env.caFile ? { ca: [(await import("node:fs")).readFileSync(env.caFile, "utf8")] } : {}) },
    logger: false,
    ...extra,
  });
  client.on("error", () => undefined);
  await client.connect();
  return client;
}

/** Every message of a mailbox, parsed (small test mailboxes only). */
export async function readMailbox(
  user: StackUser,
  mailbox = "INBOX",
  env: StackEnv = loadStackEnv(),
): Promise<(ParsedMail & { uid: number; flags: Set<string>; source: Buffer })[]> {
  const client = await openMailbox(user, env);
  try {
    const lock = await client.getMailboxLock(mailbox);
    try {
      const all = await client.fetchAll("1:*", { uid: true, source: true, flags: true }).catch(() => []);
      const out = [];
      for (const m of all)
        if (m.source)
          out.push(
            Object.assign(await simpleParser(m.source), {
              uid: m.uid,
              flags: m.flags ?? new Set<string>(),
              source: m.source,
            }),
          );
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Polls a mailbox until `predicate` holds for the list of messages; returns that list. */
export async function waitForMail(
  user: StackUser,
  predicate: (messages: Awaited<ReturnType<typeof readMailbox>>) => boolean,
  options: { mailbox?: string; timeoutMs?: number; env?: StackEnv } = {},
): Promise<Awaited<ReturnType<typeof readMailbox>>> {
  const end = Date.now() + (options.timeoutMs ?? 30_000);
  let last = await readMailbox(user, options.mailbox, options.env);
  while (!predicate(last)) {
    if (Date.now() > end)
      throw new Error(
        `mailbox ${user.address}/${options.mailbox ?? "INBOX"} never matched; it holds ${last.length} messages: ${last.map((m) => m.subject).join(" | ")}`,
      );
    await new Promise((r) => setTimeout(r, 300));
    last = await readMailbox(user, options.mailbox, options.env);
  }
  return last;
}

/** Deletes every message of a mailbox (test isolation: each test starts from an empty INBOX). */
export async function purgeMailbox(
  user: StackUser,
  mailbox = "INBOX",
  env: StackEnv = loadStackEnv(),
): Promise<void> {
  const client = await openMailbox(user, env);
  try {
    const exists = (await client.list()).some((b) => b.path === mailbox);
    if (!exists) return;
    const lock = await client.getMailboxLock(mailbox);
    try {
      if (client.mailbox && client.mailbox.exists > 0) await client.messageDelete("1:*");
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Messages whose Message-ID (normalised) is `id`. */
export const byMessageId = (id: string) => (m: ParsedMail) =>
  (m.messageId ?? "").replace(/^<|>$/g, "") === id.replace(/^<|>$/g, "");
