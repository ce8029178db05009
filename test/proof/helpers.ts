/**
 * Shared pieces of the proof suites: a seeded random source (the seed is printed so a failing run
 * can be replayed with PROOF_SEED), waiting, fixtures with fresh Message-IDs, and an index of
 * the mail that reached people's INBOXes (the assistant's replies), read incrementally over IMAP.
 */
import type { ImapFlow } from "imapflow";
import { openMailbox } from "../support/mail.js";
import { loadStackEnv, type StackEnv, type StackUser } from "../support/stack.js";

/** PROOF_FULL=1 runs the counts the issue names; CI runs smaller ones. */
export const FULL = process.env.PROOF_FULL === "1";
export const pick = <T>(full: T, ci: T): T => (FULL ? full : ci);

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** mulberry32: small, fast, good enough to place faults; the seed makes a run repeatable. */
export function seededRandom(label: string): { random: () => number; seed: number } {
  const seed = Number(process.env.PROOF_SEED ?? Math.floor(Math.random() * 2 ** 31));
  console.log(`[proof] ${label}: PROOF_SEED=${seed}`);
  let a = seed >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { random, seed };
}

/** Polls `test` every `everyMs` until it holds; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(
  test: () => T | Promise<T>,
  what: string | (() => string),
  timeoutMs = 60_000,
  everyMs = 200,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await test();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms: ${typeof what === "string" ? what : what()}`);
    await sleep(everyMs);
  }
}

export const bare = (id: string | undefined) => (id ?? "").trim().replace(/^<|>$/g, "");

/** One message as seen in a person's INBOX. */
export interface SeenMail {
  owner: string;
  uid: number;
  messageId: string;
  inReplyTo: string;
  references: string[];
  subject: string;
  from: string;
  headers: string;
}

/**
 * Follows the INBOX of several people: every `refresh()` fetches the envelope and the raw header
 * block of messages it has not seen yet (UID above the last one), so that thousands of messages
 * cost one FETCH per refresh rather than a full re-read.
 */
export class InboxIndex {
  readonly mail: SeenMail[] = [];
  readonly #clients = new Map<string, ImapFlow>();
  readonly #lastUid = new Map<string, number>();
  readonly #users: StackUser[];
  readonly #env: StackEnv;

  constructor(users: StackUser[], env: StackEnv = loadStackEnv()) {
    this.#users = users;
    this.#env = env;
  }

  /** Replies (by In-Reply-To) to the given inbound Message-ID. */
  repliesTo(messageId: string): SeenMail[] {
    const id = bare(messageId);
    return this.mail.filter((m) => m.inReplyTo === id);
  }

  /**
   * The distinct SMTP submissions among the replies to an inbound Message-ID: Postfix's queue id of
   * the authenticated submission hop ("with ESMTPSA id ..."). One submission delivered twice (Dovecot
   * saved it, then answered the LMTP DATA with 421 while shutting down, and Postfix delivered it
   * again) has one id; a reply the channel sent twice has two. Without that line (another MTA), each
   * copy counts.
   */
  submissionsOf(messageId: string): string[] {
    const ids = this.repliesTo(messageId).map(
      (m) => /with ESMTPSA id ([0-9A-Za-z]+)/.exec(m.headers)?.[1] ?? `copy:${m.owner}:${m.uid}`,
    );
    return [...new Set(ids)];
  }

  async refresh(): Promise<void> {
    for (const user of this.#users) {
      let client = this.#clients.get(user.address);
      if (!client?.usable) {
        client = await openMailbox(user, this.#env);
        await client.mailboxOpen("INBOX");
        this.#clients.set(user.address, client);
      } else {
        await client.noop();
      }
      const from = (this.#lastUid.get(user.address) ?? 0) + 1;
      if ((client.mailbox && client.mailbox.exists === 0) || !client.mailbox) continue;
      for await (const m of client.fetch(
        `${from}:*`,
        { uid: true, envelope: true, headers: true },
        { uid: true },
      )) {
        if (m.uid < from) continue; // "n:*" always returns the last message
        this.#lastUid.set(user.address, Math.max(m.uid, this.#lastUid.get(user.address) ?? 0));
        const headers = m.headers?.toString("utf8") ?? "";
        const refs = /^references:\s*((?:.*\r?\n[ \t].*)*.*)$/im.exec(headers)?.[1] ?? "";
        this.mail.push({
          owner: user.address,
          uid: m.uid,
          messageId: bare(m.envelope?.messageId),
          inReplyTo: bare(m.envelope?.inReplyTo),
          references: refs.match(/<[^>]+>/g)?.map(bare) ?? [],
          subject: m.envelope?.subject ?? "",
          from: m.envelope?.from?.[0]?.address ?? "",
          headers,
        });
      }
    }
  }

  async close(): Promise<void> {
    for (const c of this.#clients.values()) await c.logout().catch(() => c.close());
    this.#clients.clear();
  }
}

/**
 * A fixture with a new Message-ID (so the same file can be delivered many times, and never meets a
 * ledger entry of an earlier run). Only that header's value changes; the bytes stay the client's.
 */
export function withMessageId(raw: Buffer, messageId: string): Buffer {
  const text = raw.toString("latin1");
  const end = text.search(/\r?\n\r?\n/);
  const head = text.slice(0, end);
  const header = /^Message-ID:\s*<[^>\r\n]*>/im; // may be folded (Exchange)
  if (!header.test(head)) throw new Error("fixture has no Message-ID header");
  return Buffer.from(head.replace(header, `Message-ID: <${messageId}>`) + text.slice(end), "latin1");
}
