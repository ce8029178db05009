import type { GuardInput } from "../guards/types.js";
import type { ParsedInbound } from "../mime/types.js";
import type { ThreadInput } from "../threading/types.js";

/** ParsedInbound -> what threading reads (pure). */
export function toThreadInput(parsed: ParsedInbound): ThreadInput {
  return {
    messageId: parsed.messageId,
    ...(parsed.inReplyTo ? { inReplyTo: parsed.inReplyTo } : {}),
    references: parsed.references,
    ...(parsed.from ? { from: parsed.from } : {}),
    to: parsed.to,
    cc: parsed.cc,
    headers: parsed.headers,
    subject: parsed.subject,
  };
}

/** ParsedInbound (+ its conversation) -> what the guards read (pure). */
export function toGuardInput(parsed: ParsedInbound, conversationId?: string): GuardInput {
  return {
    ...(parsed.from ? { from: parsed.from } : {}),
    replyTo: parsed.replyTo,
    to: parsed.to,
    cc: parsed.cc,
    headers: parsed.headers,
    contentType: [
      parsed.contentType,
      ...Object.entries(parsed.contentTypeParams).map(([k, v]) => `${k}=${v}`),
    ].join("; "),
    messageId: parsed.messageId,
    subject: parsed.subject,
    ...(conversationId ? { conversationId } : {}),
  };
}

/**
 * The people of a conversation after this message: who were in it before, plus everybody this
 * message names (From, To, Cc; lower-cased), minus the channel's own addresses. A person copied on
 * a message may reply into its thread; a stranger who only quotes a Message-ID may not (threading's
 * participant rule).
 */
export function conversationParticipants(
  before: readonly string[],
  parsed: ParsedInbound,
  own: readonly string[],
): string[] {
  const mine = new Set(own.map((a) => a.toLowerCase()));
  const named = [parsed.from, ...parsed.to, ...parsed.cc]
    .filter((a): a is NonNullable<typeof a> => Boolean(a?.address))
    .map((a) => a.address.toLowerCase());
  return [...new Set([...before, ...named])].filter((a) => !mine.has(a));
}
