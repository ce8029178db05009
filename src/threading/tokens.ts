/**
 * Tokens that carry a conversation id through mail we send, so that a reply finds its thread even
 * when the store has never seen the id it answers (the client dropped References, the store was
 * reset) or the client kept no threading headers at all:
 *
 * - Outgoing Message-IDs `<ec.{conv}.{unique}.{mac}@{domain}>`.
 * - Reply tokens in a plus address `hello+{conv}{mac}@domain` (Reply-To of our mail).
 *
 * `{conv}` is the conversation id's UTF-8 bytes in base32, `{mac}` a truncated HMAC-SHA256 over the
 * purpose, the conversation id (and the unique part), keyed with the channel's secret: without the
 * secret nobody can mint an id or address that names a conversation of their choosing. All parts
 * are lower-case base32, so relays and clients that lower-case ids or addresses do not break them.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ConfigError, InputError } from "../errors/index.js";
import { base32Decode, base32Encode } from "./base32.js";
import { messageIdDomain, messageIdLocalPart } from "./message-id.js";

/** The channel's token secret: at least 16 bytes (a string is taken as UTF-8). */
export type ThreadSecret = string | Uint8Array;

/** Minimum secret length in bytes; a shorter secret is a ConfigError. */
export const MIN_SECRET_BYTES = 16;
/** Message-ID token MAC: 16 base32 characters = 80 bits. */
const MID_MAC_CHARS = 16;
/** Reply token MAC: 10 base32 characters = 50 bits (an address local part holds at most 64 octets). */
const REPLY_MAC_CHARS = 10;
/** Longest conversation id (UTF-8 bytes) a token carries; longer ids are an InputError. */
export const MAX_TOKEN_CONVERSATION_BYTES = 64;

const OUTGOING_RE = /^ec\.([a-z2-7]{2,110})\.([a-z0-9_-]{1,64})\.([a-z2-7]{16})$/i;

function keyOf(secret: ThreadSecret): Buffer {
  const key = typeof secret === "string" ? Buffer.from(secret, "utf8") : Buffer.from(secret);
  if (key.length < MIN_SECRET_BYTES) {
    throw new ConfigError(`threading secret must be at least ${MIN_SECRET_BYTES} bytes`, [
      { path: "threading.secret", message: `at least ${MIN_SECRET_BYTES} bytes expected` },
    ]);
  }
  return key;
}

function mac(secret: ThreadSecret, chars: number, ...parts: string[]): string {
  const h = createHmac("sha256", keyOf(secret));
  for (const p of parts) h.update(Buffer.from(`${p}\u0000`, "utf8"));
  return base32Encode(h.digest()).slice(0, chars);
}

function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}

function encodeConversation(conversationId: string): string {
  const bytes = Buffer.from(conversationId, "utf8");
  if (bytes.length === 0 || bytes.length > MAX_TOKEN_CONVERSATION_BYTES) {
    throw new InputError(`conversation id must be 1..${MAX_TOKEN_CONVERSATION_BYTES} UTF-8 bytes`, {
      code: "THREAD_TOKEN_CONVERSATION_INVALID",
      stage: "threading",
    });
  }
  return base32Encode(bytes);
}

function decodeConversation(text: string): string | undefined {
  const bytes = base32Decode(text);
  if (!bytes || bytes.length === 0) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** A fresh unique part for an outgoing Message-ID: 10 random bytes in base32 (16 characters). */
export function randomUnique(): string {
  return base32Encode(randomBytes(10));
}

/**
 * The Message-ID (without brackets) for a message the channel sends in `conversationId`.
 * `unique` makes it unique (see randomUnique; letters, digits, "-" and "_", lower-cased here);
 * `domain` is the right-hand side (a domain the channel sends from).
 */
export function encodeOutgoingMessageId(
  conversationId: string,
  unique: string,
  domain: string,
  secret: ThreadSecret,
): string {
  const u = unique.toLowerCase();
  if (!/^[a-z0-9_-]{1,64}$/.test(u)) {
    throw new InputError("unique part must be 1..64 letters, digits, '-' or '_'", {
      code: "THREAD_TOKEN_UNIQUE_INVALID",
      stage: "threading",
    });
  }
  const d = domain.trim().toLowerCase();
  if (!/^[^\s@<>]+$/.test(d)) {
    throw new InputError("Message-ID domain is empty or invalid", {
      code: "THREAD_TOKEN_DOMAIN_INVALID",
      stage: "threading",
    });
  }
  const conv = encodeConversation(conversationId);
  return `ec.${conv}.${u}.${mac(secret, MID_MAC_CHARS, "mid", conversationId, u)}@${d}`;
}

/** Whether an id has the shape of our outgoing Message-IDs (no secret needed, nothing verified). */
export function looksLikeOutgoingMessageId(id: string): boolean {
  return OUTGOING_RE.test(messageIdLocalPart(id));
}

export interface DecodedOutgoingMessageId {
  conversationId: string;
  unique: string;
  domain: string;
}

/**
 * The conversation an outgoing Message-ID names, when its MAC verifies with `secret`; undefined for
 * any other id, a forged one, or one minted with another secret. Never throws on the id.
 */
export function decodeOutgoingMessageId(
  id: string,
  secret: ThreadSecret,
): DecodedOutgoingMessageId | undefined {
  keyOf(secret);
  const m = OUTGOING_RE.exec(messageIdLocalPart(id));
  if (!m) return undefined;
  const conversationId = decodeConversation(m[1]!);
  if (conversationId === undefined) return undefined;
  const unique = m[2]!.toLowerCase();
  if (!sameMac(mac(secret, MID_MAC_CHARS, "mid", conversationId, unique), m[3]!)) return undefined;
  return { conversationId, unique, domain: messageIdDomain(id) };
}

/** The reply token for a plus address (`hello+<token>@…`): base32 conversation id + 10-char MAC. */
export function encodeReplyToken(conversationId: string, secret: ThreadSecret): string {
  return encodeConversation(conversationId) + mac(secret, REPLY_MAC_CHARS, "reply", conversationId);
}

/** The conversation a reply token names when its MAC verifies; undefined otherwise. Never throws on the token. */
export function decodeReplyToken(token: string, secret: ThreadSecret): string | undefined {
  keyOf(secret);
  const t = token.trim().toLowerCase();
  if (t.length <= REPLY_MAC_CHARS || !/^[a-z2-7]+$/.test(t)) return undefined;
  const conversationId = decodeConversation(t.slice(0, -REPLY_MAC_CHARS));
  if (conversationId === undefined) return undefined;
  return sameMac(mac(secret, REPLY_MAC_CHARS, "reply", conversationId), t.slice(-REPLY_MAC_CHARS))
    ? conversationId
    : undefined;
}

/**
 * `local+token@domain` for a base address, or undefined when the tagged local part would exceed the
 * 64 octets RFC 5321 §4.5.3.1.1 allows (send from the plain address then).
 * @param separator sub-address separator; default "+" (Postfix `recipient_delimiter`, Gmail, Fastmail).
 */
export function replyAddress(
  baseAddress: string,
  conversationId: string,
  secret: ThreadSecret,
  separator = "+",
): string | undefined {
  const at = baseAddress.lastIndexOf("@");
  if (at <= 0) return undefined;
  const local = baseAddress.slice(0, at);
  const tagged = `${local}${separator}${encodeReplyToken(conversationId, secret)}`;
  if (Buffer.byteLength(tagged, "utf8") > 64) return undefined;
  return `${tagged}@${baseAddress.slice(at + 1)}`;
}
