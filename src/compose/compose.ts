/**
 * composeMessage: the whole outgoing message as bytes, built once with nodemailer's MailComposer.
 *
 * Structure (RFC 2046): multipart/alternative (text/plain, text/html); with inline `cid:` images the
 * html sits in multipart/related; with attachments everything sits in multipart/mixed.
 *
 * Headers written here:
 * - From, To, Cc, Subject (cleaned), Date, Message-ID, MIME-Version.
 * - In-Reply-To and References exactly as the threading stage computed them (only validated).
 * - `Auto-Submitted` (RFC 3834 §5): `auto-replied` for a reply, `auto-generated` for a reminder or
 *   a new message. Well-behaved responders (Sieve vacation, RFC 5230 §4.6) do not answer it.
 * - `X-Auto-Response-Suppress: All`: Exchange/Outlook's switch for its out-of-office and receipts.
 * - No `Precedence`: RFC 3834 §3.1.8 says not to rely on it, and `bulk`/`list` is a spam signal for
 *   some providers (and makes Gmail file the answer away from the inbox) on mail a person asked for.
 */
import { randomBytes } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer";
import { InputError } from "../errors/index.js";
import { resolveAttachments } from "./attachments.js";
import {
  cleanHeaderText,
  formatMessageId,
  parseMessageId,
  validateExtraHeaders,
  validateMailbox,
} from "./headers.js";
import { htmlDocument, normalizeMarkdown, renderMarkdownHtml } from "./markdown.js";
import { DEFAULT_MAX_QUOTE_CHARS, quoteHtml, quotePlain } from "./quote.js";
import type { Addr, ComposedMessage, ComposeInput, ComposeOptions, OutgoingKind } from "./types.js";

/** RFC 3834 §5 value for each kind of outgoing message. */
export function autoSubmittedFor(kind: OutgoingKind): "auto-replied" | "auto-generated" {
  return kind === "reply" ? "auto-replied" : "auto-generated";
}

function mailboxes(list: Addr[] | undefined, field: string): Addr[] {
  if (list === undefined) return [];
  if (!Array.isArray(list))
    throw new InputError(`${field}: expected a list of addresses`, {
      code: "ADDRESS_INVALID",
      stage: "mime",
    });
  return list.map((mailbox, i) => validateMailbox(mailbox, `${field}[${i}]`));
}

function uniqueAddresses(list: Addr[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const { address } of list) {
    const key = address.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(address);
  }
  return out;
}

/** The text/plain and text/html bodies: the agent's Markdown, then the optional quote. */
export function composeBodies(
  input: Pick<ComposeInput, "markdown" | "quote">,
  options: Pick<ComposeOptions, "timeZone" | "maxQuoteChars"> = {},
): { text: string; html: string } {
  const markdown = normalizeMarkdown(typeof input.markdown === "string" ? input.markdown : "");
  let text = markdown;
  let html = renderMarkdownHtml(markdown);
  if (input.quote) {
    const timeZone = options.timeZone ?? "UTC";
    const max = options.maxQuoteChars ?? DEFAULT_MAX_QUOTE_CHARS;
    text = `${markdown}${markdown ? "\n" : ""}${quotePlain(input.quote, timeZone, max)}`;
    html = `${html}\n${quoteHtml(input.quote, timeZone, max)}`;
  }
  return { text, html: htmlDocument(html) };
}

/**
 * Builds the message. Throws InputError for anything that cannot be written safely (invalid address,
 * Message-ID or extra header, an attachment over the limits); agent text is cleaned, never rejected.
 */
export async function composeMessage(
  input: ComposeInput,
  options: ComposeOptions = {},
): Promise<ComposedMessage> {
  const from = validateMailbox(input.from, "from");
  const to = mailboxes(input.to, "to");
  const cc = mailboxes(input.cc, "cc");
  if (to.length === 0)
    throw new InputError("to: at least one recipient is required", { code: "NO_RECIPIENTS", stage: "mime" });

  const messageIdHeader = formatMessageId(input.messageId, "messageId", true);
  const inReplyTo = input.inReplyTo === undefined ? undefined : formatMessageId(input.inReplyTo, "inReplyTo");
  const references = (input.references ?? []).map((id, i) => formatMessageId(id, `references[${i}]`));
  const kind: OutgoingKind = input.kind ?? "reply";
  const date = input.date ?? options.now?.() ?? new Date();
  if (Number.isNaN(date.getTime()))
    throw new InputError("date: invalid", { code: "DATE_INVALID", stage: "mime" });

  const extra = validateExtraHeaders(input.headers);
  const { text, html } = composeBodies(input, options);
  const attachments = await resolveAttachments(input.attachments, options.attachments);

  const composer = new MailComposer({
    from,
    to,
    ...(cc.length > 0 ? { cc } : {}),
    subject: cleanHeaderText(typeof input.subject === "string" ? input.subject : ""),
    messageId: messageIdHeader,
    date,
    ...(inReplyTo ? { inReplyTo } : {}),
    ...(references.length > 0 ? { references } : {}),
    headers: {
      ...extra,
      "Auto-Submitted": autoSubmittedFor(kind),
      "X-Auto-Response-Suppress": "All",
    },
    text,
    html,
    attachments,
    // Every byte was read above; nodemailer must not open files or URLs named in the data.
    disableFileAccess: true,
    disableUrlAccess: true,
    baseBoundary: options.boundarySeed ?? randomBytes(12).toString("hex"),
    // SMTP (RFC 5321 §2.3.8) and IMAP APPEND want CRLF everywhere, body lines included.
    newline: "windows",
  });
  const raw = await composer.compile().build();
  return {
    raw,
    messageId: parseMessageId(messageIdHeader)!,
    messageIdHeader,
    envelope: { from: from.address, to: uniqueAddresses([...to, ...cc]) },
  };
}
