/**
 * convertMessage: raw RFC 5322 bytes (Buffer or stream) -> ParsedInbound. Flow: walkMime streams
 * every leaf to a role (body text, calendar, report, signature, attachment); headers are decoded
 * from the raw lines; the body text is assembled and stripped of quoted history.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { AbortedError, EmailChannelError, InputError } from "../errors/index.js";
import { AttachmentCollector, type AttachmentMeta, drain } from "./attachments.js";
import { bodyText, type HtmlToText, isDigestMessage, leafRole } from "./body.js";
import { decodeBytes } from "./charset.js";
import { decodeFlowed } from "./flowed.js";
import { decodeHeaderLines, firstAddress, parseAddressList, parseContentType } from "./headers.js";
import { boundHtml, htmlTagsStripped, htmlToReadableText } from "./html-text.js";
import { resolveConvertOptions } from "./limits.js";
import {
  attachmentFolderName,
  generatedMessageIdFromDigest,
  parseMessageId,
  parseMessageIds,
} from "./message-id.js";
import { type LeafPart, type MimeNode, walkMime } from "./parser.js";
import { readStream } from "./read-stream.js";
import { stripReply } from "./reply-strip.js";
import type { CalendarPart, ConvertOptions, ParsedInbound, ReportPart } from "./types.js";

/** Keeps the first `max` bytes of the chunks it is given and counts them all. */
function capture(max: number): { tap: (chunk: Buffer) => void; bytes: () => Buffer; total: () => number } {
  const parts: Buffer[] = [];
  let total = 0;
  return {
    tap: (chunk) => {
      if (total < max) parts.push(chunk.subarray(0, max - total));
      total += chunk.length;
    },
    bytes: () => Buffer.concat(parts),
    total: () => total,
  };
}

/** Collects a stream's bytes up to `max`, counting the rest. */
async function collect(stream: Readable, max: number): Promise<{ bytes: Buffer; total: number }> {
  const kept = capture(max);
  await readStream(stream, kept.tap);
  return { bytes: kept.bytes(), total: kept.total() };
}

const FORWARD_SUBJECT =
  /^\s*(?:\[[^\]]*\]\s*)?(?:fwd?|fw|wg|tr|rv|enc|i|vs|vb|doorst|továbbítás|пересл|転送|转发)\s*[:：]/i;

function parseDate(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value.replace(/\([^)]*\)/g, " ").trim());
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function stripNul(s: string): string {
  return s.includes("\u0000") ? s.replace(/\u0000/g, "") : s;
}

/**
 * Converts one raw message. Throws InputError MIME_UNPARSEABLE (not a message at all),
 * MIME_TOO_LARGE / MIME_TOO_MANY_PARTS / MIME_TOO_DEEP / MIME_HEADER_TOO_LARGE (limits, see
 * ConvertOptions) and AbortedError; nothing is left on disk when it throws.
 */
export function convertMessage(
  raw: Buffer | Uint8Array | Readable,
  options: ConvertOptions = {},
): Promise<ParsedInbound> {
  return convertWith(raw, options, {});
}

/** What the caller of convertWith may run elsewhere. */
export interface ConvertSteps {
  /**
   * HTML -> readable text, in place of htmlToReadableText in this thread (ConvertPool runs it on a
   * worker for the messages it converts in this thread). When it fails (other than by an abort),
   * the HTML's tags are stripped instead and a note says so.
   */
  htmlToText?: HtmlToText;
}

/** convertMessage, with some steps run by the caller (see ConvertSteps). */
export async function convertWith(
  raw: Buffer | Uint8Array | Readable,
  options: ConvertOptions,
  steps: ConvertSteps,
): Promise<ParsedInbound> {
  const opts = resolveConvertOptions(options);
  if (opts.signal?.aborted) throw new AbortedError("mime", opts.signal.reason);
  // The digest only matters for a message without Message-ID (generatedMessageId); a message in
  // memory is hashed at the end if it needs one, a stream as it passes.
  const whole = raw instanceof Readable ? undefined : raw;
  const hash = whole ? undefined : createHash("sha256");
  const collector = new AttachmentCollector(opts);
  const problems = new Set<string>();
  const onProblem = (p: string) => problems.add(p);
  const notes: string[] = [];
  const calendar: CalendarPart[] = [];
  const reports: ReportPart[] = [];
  /** The header block a multipart/report returns as text/rfc822-headers (RFC 6522), as read. */
  let returnedHeaders: string | undefined;
  let size = 0;

  /** Decoded text of a part; line endings become LF, except in iCalendar (CRLF by RFC 5545). */
  const decodeText = (
    node: MimeNode,
    bytes: Buffer,
    total: number,
    what: string,
    keepEol = false,
  ): string => {
    if (total > bytes.length)
      notes.push(`${what} truncated at maxTextBytes (${opts.maxTextBytes} of ${total} bytes)`);
    const decoded = decodeBytes(bytes, node.charset);
    if (decoded.problem) onProblem(`${node.contentType}: ${decoded.problem}`);
    const text = stripNul(decoded.text);
    return keepEol ? text : text.replace(/\r\n?/g, "\n");
  };

  const onLeaf = async ({ node, contentType, stream }: LeafPart): Promise<void> => {
    const role = leafRole(node);
    const meta: AttachmentMeta = {
      contentType: isDigestMessage(node) ? "message/rfc822" : contentType,
      inline:
        node.disposition === "inline" ||
        (!!node.contentId && node.parent?.contentType === "multipart/related"),
      ...(node.filename ? { filename: stripNul(node.filename) } : {}),
      ...(node.contentId ? { contentId: node.contentId } : {}),
    };
    if (role === "body") {
      const { bytes, total } = await collect(stream, opts.maxTextBytes);
      const text = decodeText(node, bytes, total, `${node.contentType} part`);
      node.text = node.flowed && node.contentType === "text/plain" ? decodeFlowed(text, node.delSp) : text;
    } else if (role === "calendar") {
      const alsoAttachment =
        node.disposition === "attachment" || !!node.filename || node.contentType === "application/ics";
      const kept = capture(opts.maxTextBytes);
      if (alsoAttachment) await collector.consume(meta, stream, kept.tap);
      else await drain(stream, kept.tap);
      const ics = decodeText(node, kept.bytes(), kept.total(), "calendar part", true);
      const method =
        parseContentType(node.headerLines.find((l) => l.key === "content-type")?.line.replace(/^[^:]*:/, ""))
          .params.method ?? /^METHOD:(.+)$/im.exec(ics)?.[1];
      calendar.push({ ics, alsoAttachment, ...(method ? { method: method.trim().toUpperCase() } : {}) });
    } else if (role === "report") {
      const { bytes, total } = await collect(stream, opts.maxTextBytes);
      reports.push({ contentType: node.contentType, text: decodeText(node, bytes, total, "report part") });
    } else if (role === "signature") {
      await collector.skip(meta, stream, "signature", "signature part of multipart/signed");
    } else if (isReturnedHeaders(node) && returnedHeaders === undefined) {
      // Kept as an attachment like any part; its header block is read on the way for its Message-ID.
      const kept = capture(opts.maxHeaderBytes);
      await collector.consume(meta, stream, kept.tap);
      returnedHeaders = kept.bytes().toString("latin1");
    } else {
      await collector.consume(meta, stream);
    }
  };

  const offloaded = steps.htmlToText;
  const convertHtml: HtmlToText = !offloaded
    ? async (html) => htmlToReadableText(html)
    : async (html) => {
        try {
          return await offloaded(html);
        } catch (error) {
          if (opts.signal?.aborted) throw new AbortedError("mime", error);
          notes.push(`HTML part not converted (${(error as Error).message}): its tags were stripped instead`);
          return htmlTagsStripped(html);
        }
      };
  // Cut here rather than only in htmlToReadableText: the note says so, and less crosses to a worker.
  const toText: HtmlToText = (html) => {
    const bounded = boundHtml(html);
    if (bounded.cut) notes.push(`HTML part cut (${bounded.cut}): the rest of it was not converted`);
    return convertHtml(bounded.html);
  };

  let root: MimeNode;
  try {
    root = await walkMime(raw, {
      maxParts: opts.maxParts,
      maxDepth: opts.maxDepth,
      maxHeaderBytes: opts.maxHeaderBytes,
      maxMessageBytes: opts.maxMessageBytes,
      onLeaf,
      onChunk: (chunk) => {
        size += chunk.length;
        hash?.update(chunk);
      },
      backlog: () => collector.backlog(),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (error) {
    await collector.discard();
    if (opts.signal?.aborted) throw new AbortedError("mime", error);
    if (error instanceof EmailChannelError) throw error;
    throw new InputError(`message cannot be parsed: ${(error as Error).message}`, {
      code: "MIME_UNPARSEABLE",
      stage: "mime",
      cause: error,
    });
  }

  try {
    if (size === 0 || !root.headerLines.some((l) => l.key && l.line.includes(":"))) {
      throw new InputError(size === 0 ? "message is empty" : "message has no header fields", {
        code: "MIME_UNPARSEABLE",
        stage: "mime",
      });
    }
    const firstBody = findCharset(root);
    const { decoded, raw: rawHeaders } = decodeHeaderLines(root.headerLines, firstBody, onProblem);
    for (const key of Object.keys(decoded)) decoded[key] = (decoded[key] as string[]).map(stripNul);
    const parsedId = parseMessageId(rawHeaders["message-id"]?.[0]);
    const messageId =
      parsedId ??
      generatedMessageIdFromDigest((hash ?? createHash("sha256").update(whole as Uint8Array)).digest("hex"));
    // Folding whitespace inside a subject is layout, not content.
    const subject = (decoded.subject?.[0] ?? "").replace(/\s+/g, " ").trim();
    const ct = parseContentType(rawHeaders["content-type"]?.[0]);
    const body = await bodyText(root, onProblem, toText);
    const stripped = stripReply(body.text, { forward: FORWARD_SUBJECT.test(subject) });
    const date = parseDate(decoded.date?.[0]);
    const from = firstAddress(rawHeaders, "from", onProblem);
    const sender = firstAddress(rawHeaders, "sender", onProblem);
    const deliveredTo = firstAddress(rawHeaders, "delivered-to", onProblem)?.address;
    const inReplyTo = parseMessageIds(rawHeaders["in-reply-to"]?.[0])[0];
    const list = (key: string) => (rawHeaders[key] ?? []).flatMap((v) => parseAddressList(v, onProblem));
    const returnedMessageId = ct.type === "multipart/report" ? returnedId(root, returnedHeaders) : undefined;
    const folder = collector.wroteFiles ? await collector.finish(attachmentFolderName(messageId)) : undefined;
    return {
      messageId,
      messageIdGenerated: parsedId === undefined,
      subject,
      ...(date ? { date } : {}),
      ...(from ? { from } : {}),
      ...(sender ? { sender } : {}),
      replyTo: list("reply-to"),
      to: list("to"),
      cc: list("cc"),
      ...(deliveredTo ? { deliveredTo } : {}),
      ...(inReplyTo ? { inReplyTo } : {}),
      references: parseMessageIds((rawHeaders.references ?? []).join(" ")),
      headers: decoded,
      contentType: ct.type,
      contentTypeParams: ct.params,
      ...(ct.type === "multipart/report" && ct.params["report-type"]
        ? { reportType: ct.params["report-type"].toLowerCase() }
        : {}),
      ...(returnedMessageId ? { returnedMessageId } : {}),
      text: body.text,
      textSource: body.textSource,
      content: stripped.content,
      quoted: stripped.quoted,
      ...(stripped.signature ? { signature: stripped.signature } : {}),
      ...(stripped.forwarded ? { forwarded: stripped.forwarded } : {}),
      ...(opts.keepHtml && body.html !== undefined ? { html: body.html } : {}),
      attachments: collector.attachments,
      skippedAttachments: collector.skipped,
      ...(folder ? { attachmentFolder: folder } : {}),
      calendar,
      reports,
      charsetProblems: [...problems],
      notes,
      size,
    };
  } catch (error) {
    await collector.discard();
    throw error;
  }
}

/** RFC 6522 §3: a report's third part returns the original message, or its header block alone. */
const RETURNED_TYPES = new Set(["text/rfc822-headers", "message/rfc822", "message/global"]);

function isReturnedHeaders(node: MimeNode): boolean {
  return RETURNED_TYPES.has(node.contentType) && node.parent?.contentType === "multipart/report";
}

/**
 * The Message-ID of the message a multipart/report returns: from the header block read off its
 * returned part, or from the header of a returned message the parser descended into.
 */
function returnedId(root: MimeNode, headers: string | undefined): string | undefined {
  if (headers !== undefined) {
    const block = headers.split(/\r?\n\r?\n/, 1)[0] ?? "";
    const field = /^message-id[ \t]*:((?:.*)(?:\r?\n[ \t].*)*)/im.exec(block);
    return field ? parseMessageId(field[1]) : undefined;
  }
  const returned = root.children.find((c) => RETURNED_TYPES.has(c.contentType))?.children[0];
  const line = returned?.headerLines.find((l) => l.key === "message-id")?.line;
  return line ? parseMessageId(line.slice(line.indexOf(":") + 1)) : undefined;
}

/** The declared charset of the first body text part: the best guess for raw 8-bit header bytes. */
function findCharset(node: MimeNode): string | undefined {
  if (node.children.length === 0) return node.charset && leafRole(node) === "body" ? node.charset : undefined;
  for (const child of node.children) {
    const found = findCharset(child);
    if (found) return found;
  }
  return undefined;
}
