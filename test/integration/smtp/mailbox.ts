/**
 * Reading a stack user's INBOX over IMAP (imapflow, implicit TLS with the stack's CA): the
 * integration tests check delivery where a person would see it, counting by Message-ID.
 */
import { readFileSync } from "node:fs";
import { ImapFlow } from "imapflow";
import { type StackEnv, type StackUser, loadStackEnv } from "../../support/stack.js";

async function withInbox<T>(
  user: StackUser,
  env: StackEnv,
  fn: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = new ImapFlow({
    host: env.host,
    port: env.ports.imaps,
    secure: true,
    auth: { user: user.address, pass: user.password },
    ...(env.caFile ? { tls: { ca: readFileSync(env.caFile), rejectUnauthorized: true } } : {}),
    logger: false,
  });
  await client.connect();
  try {
    const lock = await client.getMailboxLock("INBOX");
    try {
      return await fn(client);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Full sources of the INBOX messages whose Message-ID header is `messageId` (bare or bracketed). */
export async function messagesById(
  user: StackUser,
  messageId: string,
  env = loadStackEnv(),
): Promise<Buffer[]> {
  const bracketed = messageId.startsWith("<") ? messageId : `<${messageId}>`;
  return withInbox(user, env, async (client) => {
    const uids = (await client.search({ header: { "message-id": bracketed } }, { uid: true })) || [];
    const out: Buffer[] = [];
    for (const uid of uids) {
      const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
      if (message !== false && message?.source) out.push(message.source);
    }
    return out;
  });
}

/** Number of INBOX messages whose Message-ID is one of `ids` (bare), keyed by id. */
export async function countByIds(
  user: StackUser,
  ids: string[],
  env = loadStackEnv(),
): Promise<Map<string, number>> {
  return withInbox(user, env, async (client) => {
    const counts = new Map<string, number>();
    for (const id of ids) {
      const uids = (await client.search({ header: { "message-id": `<${id}>` } }, { uid: true })) || [];
      counts.set(id, uids.length);
    }
    return counts;
  });
}

/** Polls until `check` holds for the INBOX (Postfix hands mail to Dovecot asynchronously). */
export async function waitFor<T>(
  probe: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value)) return value;
    if (Date.now() > end) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
}
