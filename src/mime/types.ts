/**
 * Shapes of the converter stage: raw RFC 5322 bytes in, everything the channel needs to build a
 * MessageFormat out. See convert.ts for the flow and limits.ts for the defaults.
 */
import type { Attachment } from "../contract/types.js";
import type { HeaderMap } from "./headers.js";

export type { HeaderMap };

export interface MailAddress {
  /** As written (not lower-cased); the channel lower-cases for user ids. */
  address: string;
  /** Decoded display name, when there is one that differs from the address. */
  name?: string;
}

/** Options of `convertMessage`. Every limit says what happens when it is reached. */
export interface ConvertOptions {
  /**
   * Folder under which attachments are written, one sub-folder per message named after the SHA-256 of
   * its Message-ID (never after mail content). Default: undefined = nothing is written; attachments up
   * to `keepInMemoryBytes` are kept in memory (`content`), bigger ones are skipped with a reason.
   */
  attachmentDir?: string;
  /** Per attachment, decoded bytes. Default 25 MiB. Bigger: not stored, listed in skippedAttachments ("too-large"). */
  maxAttachmentBytes?: number;
  /** Attachments stored per message. Default 50. Further ones: listed in skippedAttachments ("too-many"). */
  maxAttachments?: number;
  /** Attachments up to this size (bytes) also carry their bytes in `content`. Default 256 KiB. */
  keepInMemoryBytes?: number;
  /**
   * MIME type patterns ("image/*", "application/pdf") an attachment must match to be stored.
   * Default: undefined = every type not denied. A non-matching attachment is skipped ("type-not-allowed").
   */
  allowTypes?: string[];
  /**
   * MIME type patterns never stored, checked before allowTypes. Default: executables and scripts
   * (DEFAULT_DENY_TYPES). A matching attachment is skipped ("type-denied").
   */
  denyTypes?: string[];
  /**
   * File extensions (lower case, without dot) never stored whatever their declared type.
   * Default: DEFAULT_DENY_EXTENSIONS (exe, scr, bat, js, vbs, ...). Skipped as "type-denied".
   */
  denyExtensions?: string[];
  /** Include the HTML body as `html`. Default false. */
  keepHtml?: boolean;
  /** Whole message, bytes. Default 100 MiB. Beyond: InputError MIME_TOO_LARGE, nothing kept. */
  maxMessageBytes?: number;
  /** MIME parts (every node of the tree). Default 1000. Beyond: InputError MIME_TOO_MANY_PARTS. */
  maxParts?: number;
  /** Nesting depth of multiparts and embedded messages. Default 24. Beyond: InputError MIME_TOO_DEEP. */
  maxDepth?: number;
  /** Header block of one MIME node (one header line can be most of it), bytes. Default 1 MiB. Beyond: InputError MIME_HEADER_TOO_LARGE. */
  maxHeaderBytes?: number;
  /**
   * Decoded bytes kept per text part (body, calendar, report). Default 4 MiB. Beyond: the part is
   * truncated at this size and a note is added to `notes`.
   */
  maxTextBytes?: number;
  /** Aborts the conversion: rejects with AbortedError and removes anything written. */
  signal?: AbortSignal;
}

/** An attachment as the converter hands it over: the contract's Attachment plus a digest. */
export interface InboundAttachment extends Attachment {
  /** SHA-256 (hex) of the decoded bytes. */
  sha256: string;
}

export type SkipCode =
  | "too-large"
  | "too-many"
  | "type-denied"
  | "type-not-allowed"
  | "no-storage"
  | "signature";

export interface SkippedAttachment {
  /** Sanitised file name (or a generated one). */
  filename: string;
  contentType: string;
  /** Decoded bytes seen (all of them, even though they were not kept). */
  size: number;
  code: SkipCode;
  /** Human-readable reason, e.g. "31457280 bytes exceed maxAttachmentBytes (26214400)". */
  reason: string;
}

/** A text/calendar (or application/ics) part: an invitation, a reply to one, a cancellation. */
export interface CalendarPart {
  /** iTIP method (RFC 5546) from the Content-Type parameter or the METHOD property: REQUEST, REPLY, CANCEL ... */
  method?: string;
  /** The iCalendar text, decoded. */
  ics: string;
  /** Whether the same bytes are also in `attachments` (an .ics file rather than an alternative body). */
  alsoAttachment: boolean;
}

/** A machine-readable report part (RFC 3464 DSN, RFC 3798 MDN, RFC 5965 ARF). */
export interface ReportPart {
  /** message/delivery-status, message/global-delivery-status, message/disposition-notification, message/feedback-report ... */
  contentType: string;
  text: string;
}

export interface ParsedInbound {
  /** Message-ID without angle brackets, or `generated-<sha256 of the raw bytes>@email-channel.invalid`. */
  messageId: string;
  messageIdGenerated: boolean;
  /** Decoded subject; "" when missing. */
  subject: string;
  /** Date header; undefined when missing or unparseable. */
  date?: Date;
  from?: MailAddress;
  sender?: MailAddress;
  replyTo: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  /** The topmost Delivered-To (the mailbox this copy was delivered to), when present. */
  deliveredTo?: string;
  /** The first id of In-Reply-To, without <>. */
  inReplyTo?: string;
  /** References ids without <>, in header order. */
  references: string[];
  /** Every header field: lower-cased name -> decoded values, topmost first (Received order). */
  headers: HeaderMap;
  /** Root Content-Type value without parameters, e.g. "multipart/report". */
  contentType: string;
  /** Root Content-Type parameters (lower-cased names), e.g. { "report-type": "delivery-status" }. */
  contentTypeParams: Record<string, string>;
  /** report-type of a multipart/report root. */
  reportType?: string;
  /**
   * Message-ID of the message a multipart/report returns (RFC 6522: its text/rfc822-headers or
   * message/rfc822 part): for a bounce, the message that was not delivered.
   */
  returnedMessageId?: string;
  /** The whole readable text: the plain part(s), or the HTML converted when there is no plain part. */
  text: string;
  /** Where `text` came from. */
  textSource: "plain" | "html" | "none";
  /** What the person wrote in this message: quoted history and signature removed. */
  content: string;
  /** The quoted history that was removed from `text`. */
  quoted: string;
  /** A removed signature ("-- " block, "Sent from my iPhone"), when one was found. */
  signature?: string;
  /** A forwarded message's text, when the message forwards one inline. */
  forwarded?: string;
  /** The HTML body, when ConvertOptions.keepHtml. */
  html?: string;
  attachments: InboundAttachment[];
  skippedAttachments: SkippedAttachment[];
  /** The per-message attachment folder, when something was written. */
  attachmentFolder?: string;
  calendar: CalendarPart[];
  reports: ReportPart[];
  /** Charset declarations that did not decode and what was used instead. */
  charsetProblems: string[];
  /** Truncations and other non-fatal surprises. */
  notes: string[];
  /** Raw size in bytes. */
  size: number;
}
