/**
 * The host contract (../shared/CONTRACT.md): the shapes every channel of the runtime shares.
 * Names and semantics are fixed by the runtime; fields may be added, never removed.
 */
import type { BaseChannel } from "./base-channel.js";

/** One inbound message, as every channel hands it to the agent. */
export interface MessageFormat {
  /** What the person wrote in this message: plain text, quoted history and signature removed. */
  content: string;
  /** `"<channel>:<stable id>"`; for email `"email:alice@example.com"` (address lower-cased). */
  userId: string;
  /** Stable for a whole thread, the same for every message of it. */
  conversationId: string;
  /** Unique per message within the channel (for email: its Message-ID). */
  messageId: string;
  attachments: Attachment[];
  /**
   * Channel specifics. For email at least: subject, from, to, cc, date, inReplyTo, references,
   * fullText (unstripped), account, mailbox, uid.
   */
  metadata: Record<string, unknown>;
}

export interface Attachment {
  filename: string;
  contentType: string;
  size: number;
  /** Where the bytes were stored, when they were stored on disk. */
  path?: string;
  /** The bytes, when small enough to keep in memory. */
  content?: Uint8Array;
  contentId?: string;
  inline?: boolean;
}

/** An attachment the agent sends: bytes in memory or a file on disk. */
export interface OutgoingAttachment {
  filename: string;
  contentType?: string;
  content?: Uint8Array | string;
  path?: string;
  contentId?: string;
  inline?: boolean;
}

/** What the agent yields while it works on a message; a plain string is shorthand for `{ content }`. */
export type AgentOutput =
  | string
  | { content: string; attachments?: OutgoingAttachment[]; kind?: "reply" | "status" };

export interface AgentContext {
  threadId: string;
  channel: BaseChannel;
  signal: AbortSignal;
}

/** The runtime's agent. It may return one answer or stream several. */
export type Agent = (
  message: MessageFormat,
  context: AgentContext,
) => AsyncIterable<AgentOutput> | Promise<AgentOutput | AgentOutput[] | undefined | void>;

/** Optional host hook that records every message (the runtime's registry). */
export interface Registry {
  logMessage(entry: {
    direction: "in" | "out";
    channel: string;
    conversationId: string;
    userId?: string;
    messageId: string;
    content: string;
    at: Date;
  }): void | Promise<void>;
}

/** Options for `sendMessage`. For email: recipients and subject of a new conversation, attachments. */
export interface SendOptions {
  /** Recipients when starting a new conversation (or to override the reply recipients). */
  to?: string | string[];
  cc?: string | string[];
  /** Subject of a new conversation; replies derive theirs from the parent ("Re: " once). */
  subject?: string;
  attachments?: OutgoingAttachment[];
  /** Which monitored account sends a new conversation; default: the first monitored account. */
  from?: string;
  /** The inbound message this answers, when known (threading headers come from it). */
  inReplyTo?: string;
  /** Idempotency key: a second send with the same key returns the first result and sends nothing. */
  idempotencyKey?: string;
  /** "reply" (default) or "status"; email drops status notes unless configured otherwise. */
  kind?: "reply" | "status";
  signal?: AbortSignal;
}

/** What `sendMessage` reports. */
export interface SentMessage {
  /** The Message-ID that was sent (with angle brackets stripped). */
  messageId: string;
  conversationId: string;
  /** `sent` once the server accepted it, `queued` when it waits in the outbox for a retry. */
  status: "sent" | "queued" | "failed";
  recipients: string[];
  /** The server's last words (e.g. "250 2.0.0 Ok: queued as ..."). */
  response?: string;
}
