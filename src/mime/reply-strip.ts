/**
 * Quote and signature stripping: what did the person write in THIS message?
 *
 * Semantics (tested on test/fixtures/mail and the corpus, see test/unit/mime):
 * - Top-posting: the text above the first quote header / "Original Message" / header block / forward
 *   marker / signature is the content; everything from there on is `quoted` (or `signature`).
 * - Inline replies: when a quote header is followed by `>` quotes and then by new text, the quotes
 *   between new text are kept as context (attribution lines dropped); trailing quotes are removed.
 * - Bottom-posting: a quote header at the very top is skipped; the content is what follows.
 * - Signatures: "-- " blocks and mobile signatures ("Sent from my iPhone", "Get Outlook for iOS" and
 *   translations) are removed, with everything after them. Sign-offs ("Best regards, Jef") are kept.
 * - Forwards: the person's note above the forward is the content and the forwarded message is
 *   returned as `forwarded`; a forward without a note has the forwarded body as its content.
 * When our own patterns find nothing, email-reply-parser (crisp-oss) gets a second look, which
 * adds its single-line "From: Name <address>" headers (see replyParserFallback).
 */
import EmailReplyParser from "email-reply-parser";
import {
  type Boundary,
  boundaryAt,
  headerBlockEnd,
  isBlank,
  isQuoted,
  isText,
  nextBoundary,
  quoteFollows,
  quoteThenText,
  unquote,
} from "./reply-boundaries.js";
import { isMobileSignature, isSeparatorLine } from "./reply-patterns.js";

export interface StrippedReply {
  /** The new text, trimmed. */
  content: string;
  /** The removed history (quote headers, quoted and unquoted earlier messages), trimmed. */
  quoted: string;
  /** The removed signature block, when there was one. */
  signature?: string;
  /** The forwarded message (its header lines and body), when the text forwards one. */
  forwarded?: string;
}

export interface StripOptions {
  /**
   * The caller knows the message is a forward (subject "Fwd:", "FW:", "WG:", "TR:", "RV:" ...): a
   * header block without a forward marker (Outlook's forward looks exactly like its reply) is then
   * read as the start of the forwarded message instead of as quoted history. Default false.
   */
  forward?: boolean;
}

const join = (lines: readonly string[]): string =>
  lines
    .join("\n")
    .replace(/^(?:[ \t]*\n)+/, "")
    .trimEnd();

/** Keeps lines up to the last line of new text: trailing quotes, rules and blank lines go. */
function upToLastText(lines: readonly string[]): { kept: string[]; rest: string[] } {
  let last = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] as string;
    if (isText(l) && !isMobileSignature(l)) last = i;
  }
  return { kept: lines.slice(0, last + 1), rest: lines.slice(last + 1) };
}

/**
 * Walks an inline reply from `start`: quotes and new text alternate; attribution lines of quotes that
 * are answered are dropped; stops at a signature, a footer rule or history that nobody answers.
 */
function interleave(lines: readonly string[], start: number): { kept: string[]; stop: number; at: number } {
  const kept: string[] = [];
  let i = start;
  while (i < lines.length) {
    const b = isQuoted(lines[i]) ? undefined : boundaryAt(lines, i);
    if (b) {
      const answered =
        (b.kind === "attribution" || b.kind === "original" || b.kind === "block") &&
        quoteThenText(lines, b.end);
      if (!answered) break;
      i = b.end;
      continue;
    }
    kept.push(lines[i] as string);
    i++;
  }
  const { kept: upTo, rest } = upToLastText(kept);
  return { kept: upTo, stop: i - rest.length, at: i };
}

/** The signature block starting at `at` (a "-- " or mobile signature), up to the next quote or header. */
function signatureFrom(lines: readonly string[], at: number): string | undefined {
  const b = boundaryAt(lines, at);
  if (b?.kind !== "signature") return undefined;
  let end = b.end;
  while (end < lines.length && !isQuoted(lines[end])) {
    const next = boundaryAt(lines, end);
    if (next && next.kind !== "signature" && next.kind !== "rule") break;
    end++;
  }
  return join(lines.slice(b.start, end)).trim() || undefined;
}

/**
 * Bottom-posting: one quote and the answer below it. The quote is the previous message, which the
 * thread already holds, so it goes. Two or more answered quotes are an inline reply and stay.
 */
function dropLeadingQuoteIfOnlyOne(kept: readonly string[]): readonly string[] {
  let i = 0;
  while (i < kept.length && (isQuoted(kept[i]) || isBlank(kept[i]))) i++;
  if (i === 0) return kept;
  const rest = kept.slice(i);
  return rest.some(isQuoted) ? kept : rest;
}

/**
 * A long quoted line followed by an unquoted line and then a quoted one again is a quote that a
 * client re-wrapped without re-quoting ("> ... pharetra d\nignissim odio?\n>"): mark it quoted.
 */
function requoteBrokenWraps(lines: string[]): string[] {
  return lines.map((line, i) => {
    const prev = lines[i - 1];
    const next = lines[i + 1];
    const broken =
      isQuoted(prev) &&
      (prev as string).length >= 60 &&
      isText(line) &&
      (next === undefined || isQuoted(next));
    return broken ? `> ${line}` : line;
  });
}

function forwardParts(lines: readonly string[], b: Boundary): { forwarded: string; body: string } {
  let region: string[];
  if (b.quoted) {
    region = [];
    for (let i = b.end; i < lines.length && (isQuoted(lines[i]) || isBlank(lines[i])); i++)
      region.push(unquote(lines[i] as string));
  } else {
    region = lines.slice(b.kind === "forward" ? b.end : b.start);
  }
  let i = 0;
  while (i < region.length && isBlank(region[i])) i++;
  const blockEnd = headerBlockEnd(region, i);
  const body = blockEnd > 0 ? region.slice(blockEnd) : region.slice(i);
  return { forwarded: join(region.slice(i)).trim(), body: join(body).trim() };
}

function analyse(lines: string[], options: StripOptions, depth: number): StrippedReply {
  const b = nextBoundary(lines, 0) ?? replyParserFallback(lines);
  if (!b)
    return { content: join(upToLastText(lines).kept).trim(), quoted: join(upToLastText(lines).rest).trim() };
  const before = lines.slice(0, b.start);
  const hasText = before.some(isText);
  const isForward =
    b.kind === "forward" || (options.forward === true && (b.kind === "block" || b.kind === "original"));

  if (isForward) {
    const { forwarded, body } = forwardParts(lines, b);
    const note = hasText && depth < 3 ? analyse(before, {}, depth + 1) : undefined;
    const content = note?.content ? note.content : body;
    return {
      content,
      quoted: note?.quoted ?? "",
      forwarded,
      ...(note?.signature ? { signature: note.signature } : {}),
    };
  }

  if (b.kind === "signature" || b.kind === "rule") {
    const { kept, rest } = upToLastText(before);
    const signature = signatureFrom(lines, b.start);
    const sigLines = signature ? signature.split("\n").length : 0;
    const quoted = join([...rest, ...lines.slice(b.start + (signature ? sigLines : 0))]).trim();
    return { content: join(kept).trim(), quoted, ...(signature ? { signature } : {}) };
  }

  if (!hasText) {
    // The message starts with a quote header: bottom-posting or inline answers below it, or an
    // unquoted earlier message (then the header is noise and the rest is read again).
    if (quoteFollows(lines, b.end)) {
      const { kept, stop, at } = interleave(lines, b.end);
      const answer = dropLeadingQuoteIfOnlyOne(kept);
      const dropped = kept.slice(0, kept.length - answer.length);
      const signature = signatureFrom(lines, at);
      return {
        content: join(answer).trim(),
        quoted: join([...lines.slice(b.start, b.end), ...dropped, ...lines.slice(stop)]).trim(),
        ...(signature ? { signature } : {}),
      };
    }
    if (depth < 8) return analyse(lines.slice(b.end), options, depth + 1);
  }

  if (quoteThenText(lines, b.end)) {
    const { kept, stop, at } = interleave(lines, b.end);
    const content = join(upToLastText([...before, ...kept]).kept).trim();
    const signature = signatureFrom(lines, at);
    return { content, quoted: join(lines.slice(stop)).trim(), ...(signature ? { signature } : {}) };
  }
  const { kept, rest } = upToLastText(before);
  return { content: join(kept).trim(), quoted: join([...rest, ...lines.slice(b.start)]).trim() };
}

/** Bounds of the text we hand to email-reply-parser: its regexes backtrack on long lines. */
const FALLBACK_MAX_LINES = 120;
const FALLBACK_MAX_LINE = 160;

/**
 * Second opinion from email-reply-parser when none of our patterns matched: the first quoted
 * fragment whose first line is not a `>` line starts with a quote header it recognised.
 */
function replyParserFallback(lines: readonly string[]): Boundary | undefined {
  // Only the head of the text: a header the library can find sits below the new text, not 120 lines down.
  const bounded = lines.slice(0, FALLBACK_MAX_LINES).map((l) => (l.length > FALLBACK_MAX_LINE ? "" : l));
  let fragments: ReturnType<ReturnType<EmailReplyParser["read"]>["getFragments"]>;
  try {
    fragments = new EmailReplyParser().read(bounded.join("\n")).getFragments();
  } catch {
    return undefined;
  }
  for (const fragment of fragments) {
    if (!fragment.isQuoted()) continue;
    const header = fragment
      .getContent()
      .split("\n")
      .find((l) => !isBlank(l));
    if (!header || isQuoted(header) || isSeparatorLine(header)) continue;
    const start = bounded.findIndex((l) => l.trim() === header.trim());
    // Only a header with text both above and below it: the library calls many things headers.
    if (start > 0 && lines.slice(0, start).some(isText) && lines.slice(start + 1).some((l) => !isBlank(l))) {
      return { kind: "attribution", start, end: start + 1 };
    }
  }
  return undefined;
}

// "-Abhishek Kona", "--Tim": a dash sign-off as its own last paragraph (not "- milk", a list item).
const DASH_SIGNOFF = /\n\s*\n(-{1,2}\p{Lu}[\p{L}.'’-]*(?: \p{Lu}[\p{L}.'’-]*){0,3})\s*$/u;

/** Moves a trailing dash sign-off from the content to the signature. */
function splitDashSignoff(result: StrippedReply): StrippedReply {
  const m = DASH_SIGNOFF.exec(result.content);
  if (!m) return result;
  const signoff = m[1] as string;
  return {
    ...result,
    content: result.content.slice(0, m.index).trimEnd(),
    signature: result.signature ? `${signoff}\n${result.signature}` : signoff,
  };
}

/** Strips quoted history and signature from a plain-text body. Pure. */
export function stripReply(text: string, options: StripOptions = {}): StrippedReply {
  const lines = requoteBrokenWraps((text ?? "").replace(/\r\n?/g, "\n").split("\n"));
  return splitDashSignoff(analyse(lines, options, 0));
}
