/**
 * Small client-side helpers for the stack smoke tests: IMAP and SMTP clients configured for the
 * stack (TLS verified against STACK_CA_FILE), waiting for a message to land, and a namespace-agnostic
 * reading of WebDAV multistatus bodies (Radicale writes "DAV:" as the default namespace, Xandikos as
 * "ns0:").
 */
import { randomUUID } from "node:crypto";
import { ImapFlow, type SearchObject } from "imapflow";
import nodemailer from "nodemailer";
import { type StackEnv, type StackUser, loadStackEnv, stackTls } from "../../support/stack.js";

export const env: StackEnv = loadStackEnv();

export interface ImapLogin {
  /** Implicit TLS port (true) or the plain port with required STARTTLS (false, the default). */
  implicitTls?: boolean;
  /** Login name; defaults to the user's address. */
  login?: string;
  password?: string;
  tls?: Record<string, unknown>;
}

export function imapClient(user: StackUser, options: ImapLogin = {}): ImapFlow {
  const implicit = options.implicitTls ?? false;
  return new ImapFlow({
    host: env.host,
    port: implicit ? env.ports.imaps : env.ports.imap,
    secure: implicit,
    ...(implicit ? {} : { doSTARTTLS: true }),
    auth: { user: options.login ?? user.address, pass: options.password ?? user.password },
    tls: options.tls ?? stackTls(env),
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: 15_000,
  });
}

/** STATUS of one mailbox; imapflow answers `false` when the server refused the command. */
export async function mailboxStatus(
  client: ImapFlow,
  path: string,
): Promise<{ messages: number; uidValidity: bigint }> {
  const status = await client.status(path, { messages: true, uidValidity: true });
  if (!status || status.messages === undefined || status.uidValidity === undefined) {
    throw new Error(`STATUS ${path} failed`);
  }
  return { messages: status.messages, uidValidity: status.uidValidity };
}

export async function withImap<T>(
  user: StackUser,
  fn: (client: ImapFlow) => Promise<T>,
  options: ImapLogin = {},
): Promise<T> {
  const client = imapClient(user, options);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

export interface FoundMessage {
  uid: number;
  source: Buffer;
}

/**
 * Polls `mailbox` of `user` until a message matches (delivery is asynchronous): `query` is a
 * Message-ID, or an imapflow search object for anything else.
 */
export async function waitForMessage(
  user: StackUser,
  query: string | SearchObject,
  options: { mailbox?: string; timeoutMs?: number; login?: string; password?: string } = {},
): Promise<FoundMessage> {
  const search: SearchObject = typeof query === "string" ? { header: { "message-id": query } } : query;
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  return withImap(
    user,
    async (client) => {
      for (;;) {
        const lock = await client.getMailboxLock(options.mailbox ?? "INBOX");
        try {
          const uids = await client.search(search, { uid: true });
          const uid = uids && uids.length > 0 ? uids[0] : undefined;
          if (uid !== undefined) {
            const message = await client.fetchOne(String(uid), { source: true }, { uid: true });
            // fetchOne answers false (or nothing) when the message vanished in between.
            const source = message ? message.source : undefined;
            if (source) return { uid, source };
          }
        } finally {
          lock.release();
        }
        if (Date.now() > deadline) {
          throw new Error(
            `no message ${JSON.stringify(query)} in ${user.address}/${options.mailbox ?? "INBOX"}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    },
    options,
  );
}

/** Submission client: STARTTLS required on the submission port, or implicit TLS on the smtps port. */
export function submissionTransport(
  user: StackUser | undefined,
  options: { implicitTls?: boolean; password?: string } = {},
) {
  const implicit = options.implicitTls ?? false;
  return nodemailer.createTransport({
    host: env.host,
    port: implicit ? env.ports.smtps : env.ports.submission,
    secure: implicit,
    requireTLS: !implicit,
    ...(user ? { auth: { user: user.address, pass: options.password ?? user.password } } : {}),
    tls: stackTls(env),
    name: "client.example.test",
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
}

/** A fresh RFC 5322 msg-id in the stack's domain. */
export function newMessageId(): string {
  return `<${randomUUID()}@${env.domain}>`;
}

export interface DavResponse {
  status: number;
  body: string;
  headers: Headers;
}

export async function propfind(
  url: string,
  body: string,
  options: { depth?: "0" | "1"; user?: StackUser; password?: string } = {},
): Promise<DavResponse> {
  const headers: Record<string, string> = {
    Depth: options.depth ?? "0",
    "Content-Type": "application/xml; charset=utf-8",
  };
  if (options.user) {
    const secret = `${options.user.address}:${options.password ?? options.user.password}`;
    headers.Authorization = `Basic ${Buffer.from(secret).toString("base64")}`;
  }
  const response = await fetch(url, { method: "PROPFIND", headers, body, redirect: "manual" });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

/** The hrefs inside every `<prefix:element>` of a multistatus body, whatever the namespace prefix. */
export function hrefsIn(xml: string, element: string): string[] {
  const hrefs: string[] = [];
  const block = new RegExp(`<(?:[\\w.-]+:)?${element}\\b[^>]*>([\\s\\S]*?)</(?:[\\w.-]+:)?${element}>`, "g");
  for (const match of xml.matchAll(block)) {
    for (const href of match[1]!.matchAll(/<(?:[\w.-]+:)?href\b[^>]*>([^<]*)</g)) {
      hrefs.push(decodeURIComponent(href[1]!.trim()));
    }
  }
  return hrefs;
}

/** One entry per `<response>`: its href and the local names inside its `<resourcetype>`. */
export function resourceTypes(xml: string): { href: string; types: string[] }[] {
  const out: { href: string; types: string[] }[] = [];
  for (const match of xml.matchAll(/<(?:[\w.-]+:)?response\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?response>/g)) {
    const part = match[1]!;
    const href = /<(?:[\w.-]+:)?href\b[^>]*>([^<]*)</.exec(part)?.[1];
    const typeBlock =
      /<(?:[\w.-]+:)?resourcetype\b[^>]*>([\s\S]*?)<\/(?:[\w.-]+:)?resourcetype>/.exec(part)?.[1] ?? "";
    const types = [...typeBlock.matchAll(/<(?:[\w.-]+:)?([\w-]+)\b[^>]*\/?>/g)].map((t) => t[1]!);
    if (href !== undefined) out.push({ href: decodeURIComponent(href.trim()), types });
  }
  return out;
}

export const PROPFIND_PRINCIPAL = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:current-user-principal/></d:prop></d:propfind>`;

export const PROPFIND_HOMES = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:a="urn:ietf:params:xml:ns:carddav">
  <d:prop><c:calendar-home-set/><a:addressbook-home-set/></d:prop>
</d:propfind>`;

export const PROPFIND_RESOURCETYPE = `<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:"><d:prop><d:resourcetype/><d:displayname/></d:prop></d:propfind>`;
