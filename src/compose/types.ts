/**
 * Shapes of the composition stage: what the channel hands in (agent Markdown, addresses, threading
 * headers it computed) and what comes out (the finished RFC 5322 bytes, produced once, so that the
 * outbox can store them and a retry after a restart sends exactly the same message).
 */
import type { OutgoingAttachment } from "../contract/types.js";

/** A mailbox: an address and an optional display name. */
export interface Addr {
  address: string;
  name?: string;
}

/**
 * Why the message is sent; it picks the RFC 3834 §5 `Auto-Submitted` value.
 * - `reply`: an answer to a person's message -> `auto-replied`.
 * - `reminder`, `new`: mail the assistant starts itself (a reminder, a new conversation) -> `auto-generated`.
 */
export type OutgoingKind = "reply" | "reminder" | "new";

/** The original message, quoted below the answer the way a mail client quotes it. */
export interface QuoteSource {
  /** Who wrote it, as it should appear in the attribution line (e.g. `Alice <alice@example.com>`). */
  from: string;
  /** When it was written; the attribution line leaves the date out when absent. */
  date?: Date;
  /** Its plain text (the full text, not the stripped content). */
  text: string;
}

export interface ComposeInput {
  from: Addr;
  to: Addr[];
  cc?: Addr[];
  /** Subject as the threading stage computed it (`Re: ` handling is not done here). */
  subject: string;
  /** Default `reply`. */
  kind?: OutgoingKind;
  /** The Message-ID the channel generated, with or without angle brackets. Must hold one `@`. */
  messageId: string;
  /** Parent Message-ID (with or without angle brackets), written exactly as given. */
  inReplyTo?: string;
  /** Oldest first, written exactly as given (RFC 5322 §3.6.4 order). */
  references?: string[];
  /** What the agent wrote. */
  markdown: string;
  attachments?: OutgoingAttachment[];
  /** Quote the original below the answer; off unless given. */
  quote?: QuoteSource;
  /**
   * Extra header fields (e.g. `X-Email-Channel-Conversation`). Names must be RFC 5322 field names and
   * must not replace a field the composer owns (From, To, Subject, Message-ID, MIME, threading...).
   */
  headers?: Record<string, string>;
  /** Date header; default: the clock of the compose options. */
  date?: Date;
}

export interface ComposedMessage {
  /** The complete message, CRLF line ends, ready for SMTP DATA and for IMAP APPEND. */
  raw: Buffer;
  /** The Message-ID without angle brackets (as `SentMessage.messageId` and `MessageFormat.messageId`). */
  messageId: string;
  /** The Message-ID header value, with angle brackets. */
  messageIdHeader: string;
  /** SMTP envelope: MAIL FROM and RCPT TO (To + Cc, de-duplicated case-insensitively). */
  envelope: { from: string; to: string[] };
}

/** Limits for outgoing attachments. */
export interface AttachmentLimits {
  /** Most attachments in one message. Default 20; one more fails with InputError `ATTACHMENT_COUNT`. */
  maxCount?: number;
  /** Largest single attachment in bytes. Default 10 MiB; larger fails with InputError `ATTACHMENT_TOO_LARGE`. */
  maxBytes?: number;
  /**
   * Largest sum of attachment bytes in one message. Default 15 MiB (about 20.5 MB once base64 encoded,
   * under the 25 MB most providers accept); more fails with InputError `ATTACHMENTS_TOO_LARGE`.
   */
  maxTotalBytes?: number;
  /**
   * Folders a `path` attachment may come from. When set, a relative path is resolved against the first
   * root and the file's real path (symlinks resolved) must lie inside one of them, or InputError
   * `ATTACHMENT_PATH`. When unset (default), a path must be absolute. In both cases the last path
   * component must not be a symlink and the file must be a readable regular file.
   */
  roots?: string[];
  /**
   * Folders a `path` attachment may never come from, wherever `roots` allow (checked on the real
   * path, symlinks resolved), except from `exceptions` inside them: InputError `ATTACHMENT_PATH`.
   * The channel denies its state folder (the store holds OAuth refresh tokens and the threading
   * secret) but for its `attachments` folder, and /proc and /sys (/proc/self/environ holds the
   * process's environment, passwords included): an agent talked into attaching them must not mail
   * them out.
   */
  denied?: { folders: string[]; exceptions?: string[] };
}

export interface ComposeOptions {
  attachments?: AttachmentLimits;
  /** Clock for the Date header when the input has none. Default `() => new Date()`. */
  now?: () => Date;
  /**
   * Seed for the multipart boundaries. Default: random per message. Tests set it (with a fixed date)
   * to compare bytes with a stored expected output.
   */
  boundarySeed?: string;
  /**
   * Time zone of the quote attribution line (`On <date>, <from> wrote:`), an IANA name.
   * Default "UTC" (the channel passes EMAIL_TIMEZONE).
   */
  timeZone?: string;
  /**
   * Longest quoted original in characters. Default 20 000; a longer one is cut and ends with `> [...]`.
   */
  maxQuoteChars?: number;
}
