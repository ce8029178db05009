/** Shapes shared by the guards. Pure data: the lead maps ParsedInbound onto GuardInput. */

export interface GuardAddress {
  address: string;
  name?: string;
}

/** What the guards read from an inbound message. */
export interface GuardInput {
  /** The From address (the first one when there are several); absent when the message has none. */
  from?: GuardAddress;
  replyTo: GuardAddress[];
  to: GuardAddress[];
  cc: GuardAddress[];
  /** Lower-cased header name -> unfolded values in message order, topmost first. */
  headers: Record<string, string[]>;
  /** The root Content-Type with its parameters, e.g. `multipart/report; report-type=delivery-status`. */
  contentType: string;
  /** Message-ID, with or without angle brackets. */
  messageId: string;
  /** Decoded subject. */
  subject: string;
  /** The conversation, when threading ran first: enables the per-conversation rate limit. */
  conversationId?: string;
}

export type GuardName = "loop" | "sender-auth" | "allowlist" | "rate-limit";

export interface GuardPass {
  ok: true;
  guard: GuardName;
}

export interface GuardRefusal {
  ok: false;
  guard: GuardName;
  /** Stable code, e.g. LOOP_AUTO_REPLY, SENDER_AUTH_FAILED, ALLOWLIST_DENIED, RATE_LIMIT_SENDER. */
  code: string;
  /** One sentence for logs and the inbound record. */
  reason: string;
  /** Refused mail is never answered: answering robots is how loops start. */
  reply: false;
}

export type GuardResult = GuardPass | GuardRefusal;

export function refusal(guard: GuardName, code: string, reason: string): GuardRefusal {
  return { ok: false, guard, code, reason, reply: false };
}
