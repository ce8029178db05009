/**
 * Header decoding from the raw header lines mailparser hands over (binary strings: one char per byte,
 * folded lines kept). We do it ourselves instead of using mailparser's decoded values because those
 * read raw 8-bit bytes as UTF-8 only (windows-1252 subjects become U+FFFD) and pass unknown
 * encoded-word charsets through without a word.
 */
import addressparser from "nodemailer/lib/addressparser";
import { decodeRawHeaderBytes } from "./charset.js";
import { decodeEncodedWords } from "./encoded-words.js";
import type { MailAddress } from "./types.js";

/** One raw header field as mailsplit keeps it: lower-cased key and the whole line in "binary". */
export interface RawHeaderLine {
  key: string;
  line: string;
}

/** Lower-cased header name -> values in header order (topmost first). */
export type HeaderMap = Record<string, string[]>;

export interface DecodedHeaders {
  /** Unfolded, 8-bit decoded, encoded-words decoded: for display and for the guards. */
  decoded: HeaderMap;
  /** Unfolded and 8-bit decoded, encoded-words still encoded: for structured parsing (addresses). */
  raw: HeaderMap;
}

function push(map: HeaderMap, key: string, value: string): void {
  const list = map[key];
  if (list) list.push(value);
  else map[key] = [value];
}

/**
 * Unfolds and decodes header lines. `hintCharset` is the body's declared charset, tried for raw
 * 8-bit header bytes that are not UTF-8 before windows-1252 (old Asian clients send raw Big5 or GBK
 * subjects along with a body in the same charset).
 */
export function decodeHeaderLines(
  lines: readonly RawHeaderLine[],
  hintCharset: string | undefined,
  onProblem: (problem: string) => void,
): DecodedHeaders {
  const decoded: HeaderMap = Object.create(null);
  const raw: HeaderMap = Object.create(null);
  for (const { key, line } of lines) {
    const colon = line.indexOf(":");
    if (!key || colon < 0) continue;
    // RFC 5322 §2.2.3: unfolding removes the CRLF before the folding whitespace.
    const binary = line
      .slice(colon + 1)
      .replace(/\r?\n(?=[ \t])/g, "")
      .replace(/[\r\n]+/g, " ");
    const text = decodeRawHeaderBytes(Buffer.from(binary, "latin1"), hintCharset);
    if (text.problem) onProblem(`${key} ${text.problem}`);
    const value = text.text.trim();
    push(raw, key, value);
    push(decoded, key, decodeEncodedWords(value, (p) => onProblem(`${key}: ${p}`)).replace(/[\r\n]+/g, " "));
  }
  return { decoded, raw };
}

// "=?ks_c_5601-1987?B?...?=name@example.com": an encoded display name glued to a bare address,
// which some Korean clients write. RFC 2047 §5 forbids encoded-words in an addr-spec, so we split.
const GLUED_NAME = /^((?:=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)+)([^\s@<>]+@[^\s@<>]+)$/;

/**
 * Parses an address-list header value (raw form, encoded-words intact). Groups are flattened;
 * display names are decoded after parsing so that an encoded comma or "<" cannot fabricate an
 * address; entries without an address are dropped.
 */
export function parseAddressList(
  value: string | undefined,
  onProblem: (problem: string) => void,
): MailAddress[] {
  if (!value) return [];
  const out: MailAddress[] = [];
  for (const entry of addressparser(value, { flatten: true })) {
    let address = (entry.address ?? "").trim();
    let name = (entry.name ?? "").trim();
    const glued = GLUED_NAME.exec(address);
    if (glued) {
      name = name || (glued[1] as string);
      address = glued[2] as string;
    }
    if (!address || address.includes("=?")) continue;
    name = decodeEncodedWords(name, onProblem).trim();
    out.push(name && name !== address ? { address, name } : { address });
  }
  return out;
}

/** The first parsed address of a header, if any. */
export function firstAddress(
  map: HeaderMap,
  key: string,
  onProblem: (problem: string) => void,
): MailAddress | undefined {
  for (const value of map[key] ?? []) {
    const [first] = parseAddressList(value, onProblem);
    if (first) return first;
  }
  return undefined;
}

/** Parses a Content-Type value into its lower-cased type and its (lower-cased name) parameters. */
export function parseContentType(value: string | undefined): {
  type: string;
  params: Record<string, string>;
} {
  const params: Record<string, string> = {};
  if (!value) return { type: "text/plain", params };
  const [head, ...rest] = splitParams(value);
  for (const part of rest) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const v = part
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/s, "$1")
      .replace(/\\(.)/g, "$1");
    if (name && !(name in params)) params[name] = v;
  }
  return { type: (head ?? "").trim().toLowerCase() || "text/plain", params };
}

/** Splits "a; b=\"x;y\"; c" at semicolons outside quoted strings. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === "\\" && quoted) {
      cur += ch + (value[i + 1] ?? "");
      i++;
    } else if (ch === '"') {
      quoted = !quoted;
      cur += ch;
    } else if (ch === ";" && !quoted) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}
