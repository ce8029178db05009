import type { MessageFormat } from "../contract/types.js";
import type { ParsedInbound } from "../mime/types.js";

export interface InboundContext {
  account: string;
  mailbox: string;
  uid: number;
  uidValidity: string;
  conversationId: string;
  conversationVia: string;
  /** What the guards said (each guard's verdict), for metadata. */
  guards?: Record<string, unknown>;
  senderAuth?: unknown;
  senderProfile?: unknown;
}

const addr = (a: { address: string; name?: string }) => ({
  address: a.address.toLowerCase(),
  ...(a.name ? { name: a.name } : {}),
});

/**
 * ParsedInbound + where it came from -> the contract's MessageFormat. Pure. `userId` is
 * "email:<lower-cased From address>"; `messageId` is the Message-ID (the channel's idempotency key).
 */
export function toMessageFormat(parsed: ParsedInbound, ctx: InboundContext): MessageFormat {
  const from = parsed.from ? addr(parsed.from) : undefined;
  return {
    content: parsed.content,
    userId: `email:${from?.address ?? "unknown"}`,
    conversationId: ctx.conversationId,
    messageId: parsed.messageId,
    attachments: parsed.attachments.map(({ sha256: _sha, ...a }) => a),
    metadata: {
      subject: parsed.subject,
      from,
      to: parsed.to.map(addr),
      cc: parsed.cc.map(addr),
      replyTo: parsed.replyTo.map(addr),
      date: parsed.date?.toISOString(),
      inReplyTo: parsed.inReplyTo,
      references: parsed.references,
      fullText: parsed.text,
      ...(parsed.html !== undefined ? { html: parsed.html } : {}),
      quoted: parsed.quoted,
      ...(parsed.signature ? { signature: parsed.signature } : {}),
      ...(parsed.forwarded ? { forwarded: parsed.forwarded } : {}),
      account: ctx.account,
      mailbox: ctx.mailbox,
      uid: ctx.uid,
      uidValidity: ctx.uidValidity,
      conversationVia: ctx.conversationVia,
      messageIdGenerated: parsed.messageIdGenerated,
      ...(parsed.skippedAttachments.length ? { skippedAttachments: parsed.skippedAttachments } : {}),
      ...(parsed.calendar.length ? { calendar: parsed.calendar } : {}),
      ...(parsed.charsetProblems.length ? { charsetProblems: parsed.charsetProblems } : {}),
      ...(parsed.notes.length ? { notes: parsed.notes } : {}),
      ...(ctx.senderAuth !== undefined ? { senderAuth: ctx.senderAuth } : {}),
      ...(ctx.guards !== undefined ? { guards: ctx.guards } : {}),
      ...(ctx.senderProfile !== undefined ? { senderProfile: ctx.senderProfile } : {}),
    },
  };
}
