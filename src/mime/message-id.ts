/**
 * Message-ID, In-Reply-To and References (RFC 5322 §3.6.4). Ids are handled without their angle
 * brackets everywhere in the library.
 */
import { createHash } from "node:crypto";

/** The pseudo-domain of ids we make up; ".invalid" can never be a real domain (RFC 2606). */
export const GENERATED_ID_DOMAIN = "email-channel.invalid";

/**
 * Extracts msg-ids from a header value, in order, without <> and without duplicates. Accepts the
 * sloppy forms seen in the wild: ids without brackets, separated by commas, with comments such as
 * `<id> (Alice's message of ...)`, or folded mid-id.
 */
export function parseMessageIds(value: string | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (id: string) => {
    const clean = id.replace(/\s+/g, "").trim();
    if (clean && !seen.has(clean)) {
      seen.add(clean);
      out.push(clean);
    }
  };
  const bracketed = [...value.matchAll(/<([^<>]*)>/g)];
  if (bracketed.length > 0) {
    for (const m of bracketed) if ((m[1] ?? "").trim()) add(m[1] as string);
    return out;
  }
  // No brackets at all: take the tokens that look like ids (they contain "@").
  for (const token of value.replace(/\([^)]*\)/g, " ").split(/[\s,]+/)) {
    if (token.includes("@")) add(token.replace(/^["']|["']$/g, ""));
  }
  return out;
}

/** The id of a Message-ID header value, or undefined when it holds none. */
export function parseMessageId(value: string | undefined): string | undefined {
  const ids = parseMessageIds(value);
  if (ids[0]) return ids[0];
  const bare = (value ?? "").replace(/[<>\s]/g, "");
  return bare || undefined;
}

/** `generated-<sha256 hex>@email-channel.invalid` from a hex digest of the raw message. */
export function generatedMessageIdFromDigest(sha256Hex: string): string {
  return `generated-${sha256Hex.toLowerCase()}@${GENERATED_ID_DOMAIN}`;
}

/**
 * A deterministic id for a message that has no Message-ID: the same raw bytes always give the same
 * id, so a message fetched twice is recognised as one.
 */
export function generatedMessageId(raw: Uint8Array): string {
  return generatedMessageIdFromDigest(createHash("sha256").update(raw).digest("hex"));
}

/** The per-message attachment folder name: derived from the Message-ID only, never from content. */
export function attachmentFolderName(messageId: string): string {
  return createHash("sha256").update(messageId).digest("hex").slice(0, 32);
}
