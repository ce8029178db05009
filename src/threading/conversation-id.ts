/**
 * Conversation ids derived from a thread's root Message-ID.
 *
 * id = first 16 characters of base32(SHA-256("email-channel/conversation\0" + root [+ "\0" + sender]))
 *
 * 16 base32 characters are 80 bits: collisions between honest threads are out of reach (birthday
 * bound around 10^12 conversations) and nobody can craft a root that lands on someone else's id.
 * The id is lower-case [a-z2-7], so it is safe in file names, memory keys and tokens. The root is the
 * normalised Message-ID (see normaliseMessageId), so `<A@Example.COM>` and `A@example.com` agree.
 */
import { createHash } from "node:crypto";
import { base32Encode } from "./base32.js";
import { normaliseMessageId } from "./message-id.js";

/** Length of derived conversation ids in base32 characters (80 bits). */
export const CONVERSATION_ID_LENGTH = 16;

/**
 * The conversation id of a thread whose root is `rootMessageId`. With `sender` (a lower-cased
 * address) the id is scoped to that sender: used when the root belongs to a conversation the sender
 * is not part of, so that quoting someone else's Message-ID does not join their conversation.
 */
export function deriveConversationId(rootMessageId: string, sender?: string): string {
  const h = createHash("sha256");
  h.update("email-channel/conversation\u0000");
  h.update(normaliseMessageId(rootMessageId));
  if (sender !== undefined) h.update(`\u0000${sender.trim().toLowerCase()}`);
  return base32Encode(h.digest()).slice(0, CONVERSATION_ID_LENGTH);
}
