/**
 * Finds where, in the lines of a plain-text body, the person's own words end: quote attribution lines,
 * "-----Original Message-----", Outlook/Gmail header blocks, forward markers, signature delimiters
 * and mobile signatures. Pure and line-local (see reply-patterns.ts for the patterns).
 */
import {
  headerField,
  isAttribution,
  looksLikeHeaderStart,
  isForwardMarker,
  isMobileSignature,
  isOriginalMessageMarker,
  isSeparatorLine,
  isSignatureDelimiter,
  isUnderscoreRule,
} from "./reply-patterns.js";

export type BoundaryKind = "attribution" | "original" | "block" | "forward" | "signature" | "rule";

export interface Boundary {
  kind: BoundaryKind;
  /** First line of the boundary. */
  start: number;
  /** First line after it (its header lines are start..end-1). */
  end: number;
  /** A forward marker inside a quote ("> Begin forwarded message:"), Apple Mail style. */
  quoted?: boolean;
}

export const isBlank = (line: string | undefined): boolean => line === undefined || /^\s*$/.test(line);
export const isQuoted = (line: string | undefined): boolean => line !== undefined && /^\s*>/.test(line);
/** A line the person wrote: not blank, not quoted, not a bare separator. */
export const isText = (line: string | undefined): boolean =>
  line !== undefined && !isBlank(line) && !isQuoted(line) && !isSeparatorLine(line);

/** Removes one level of "> " quoting. */
export const unquote = (line: string): string => line.replace(/^\s?>\s?/, "");

/** End (exclusive) of an Outlook/Gmail header block starting at `i`, or -1 when there is none there. */
export function headerBlockEnd(lines: readonly string[], i: number): number {
  if (headerField(lines[i] ?? "") === 0) return -1;
  let fields = 0;
  let hasFrom = false;
  let continuation = 0;
  let j = i;
  for (; j < lines.length && j < i + 12 && !isBlank(lines[j]); j++) {
    const kind = headerField(lines[j] as string);
    if (kind > 0) {
      fields++;
      continuation = 0;
      if (kind === 1) hasFrom = true;
    } else if (++continuation > 2 || (lines[j] as string).length > 200) break;
  }
  // Prose can have a "From:" and a "To:" line; a real block names an address or has more fields.
  const block = lines.slice(i, j).join("\n");
  return fields >= 2 && hasFrom && (block.includes("@") || fields >= 3) ? j : -1;
}

function skipBlank(lines: readonly string[], i: number, max = 3): number {
  let j = i;
  while (j < lines.length && j < i + max && isBlank(lines[j])) j++;
  return j;
}

/** Number of lines (1-3) of an attribution starting at `i`, or 0. Prefers the latest start. */
function attributionLength(lines: readonly string[], i: number): number {
  const first = lines[i] as string;
  if (isBlank(first) || isQuoted(first)) return 0;
  if (isAttribution(first)) return 1;
  // Clients wrap long attributions ("... schreef X <\nx@y> het volgende geschreven:").
  if (first.length > 200 || /[.!?…]\s*$/.test(first)) return 0;
  let joined = first.trim();
  for (let k = 2; k <= 3; k++) {
    const next = lines[i + k - 1];
    // ">:" is the tail of a wrapped "<address\n>:", not a quote.
    const tail = next !== undefined && /^>\s*[:：]\s*$/.test(next);
    if (next === undefined || isBlank(next) || (isQuoted(next) && !tail) || next.length > 120) return 0;
    joined += tail ? next.trim() : ` ${next.trim()}`;
    if (isAttribution(joined)) {
      // "Thanks\nOn Tue, Alice <a@x> wrote:": the header starts on the next line, not here.
      const later = lines[i + 1] as string;
      return looksLikeHeaderStart(later) && attributionLength(lines, i + 1) > 0 ? 0 : k;
    }
  }
  return 0;
}

/** The boundary that starts at line `i`, if any. `forward` treats a header block as a forward. */
export function boundaryAt(lines: readonly string[], i: number): Boundary | undefined {
  const line = lines[i];
  if (line === undefined || isBlank(line)) return undefined;
  if (isQuoted(line)) {
    return isForwardMarker(unquote(line).trim())
      ? { kind: "forward", start: i, end: i + 1, quoted: true }
      : undefined;
  }
  if (isForwardMarker(line)) return { kind: "forward", start: i, end: i + 1 };
  if (isSignatureDelimiter(line)) return { kind: "signature", start: i, end: i + 1 };
  if (isOriginalMessageMarker(line)) {
    const next = skipBlank(lines, i + 1);
    const blockEnd = headerBlockEnd(lines, next);
    return { kind: "original", start: i, end: blockEnd > 0 ? blockEnd : i + 1 };
  }
  if (isSeparatorLine(line)) {
    // A rule right above a header block or attribution belongs to it (Outlook, Outlook for iOS).
    const next = skipBlank(lines, i + 1);
    const blockEnd = headerBlockEnd(lines, next);
    if (blockEnd > 0) return { kind: "block", start: i, end: blockEnd };
    const attr = attributionLength(lines, next);
    if (attr > 0) return { kind: "attribution", start: i, end: next + attr };
    if (isUnderscoreRule(line)) return { kind: "rule", start: i, end: i + 1 };
    return undefined;
  }
  const blockEnd = headerBlockEnd(lines, i);
  if (blockEnd > 0) return { kind: "block", start: i, end: blockEnd };
  if (isMobileSignature(line) && (i === 0 || isBlank(lines[i - 1])))
    return { kind: "signature", start: i, end: i + 1 };
  const attr = attributionLength(lines, i);
  if (attr > 0) return { kind: "attribution", start: i, end: i + attr };
  return undefined;
}

/** The first boundary at or after `from`. */
export function nextBoundary(lines: readonly string[], from: number): Boundary | undefined {
  for (let i = from; i < lines.length; i++) {
    const b = boundaryAt(lines, i);
    if (b) return b;
  }
  return undefined;
}

/**
 * After a quote header ending at `end`: is there a `>` quote followed by new, unquoted text that is
 * not itself a signature or another header? That is an inline (interleaved) reply.
 */
export function quoteThenText(lines: readonly string[], end: number): boolean {
  let j = end;
  while (j < lines.length && isBlank(lines[j])) j++;
  if (!isQuoted(lines[j])) return false;
  while (j < lines.length && (isQuoted(lines[j]) || isBlank(lines[j]))) j++;
  return j < lines.length && isText(lines[j]) && boundaryAt(lines, j) === undefined;
}

/** Does a `>` quote follow `end` (after blank lines)? */
export function quoteFollows(lines: readonly string[], end: number): boolean {
  let j = end;
  while (j < lines.length && isBlank(lines[j])) j++;
  return isQuoted(lines[j]);
}
