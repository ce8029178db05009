/**
 * Value decoding for vCard content lines: transfer encodings (quoted-printable + CHARSET, as 2.1 and
 * Outlook write them), then text escapes, then compound values. Pure.
 */
import type { ContentLine } from "./content-lines.js";

/** First value of a parameter (upper-cased name), if any. */
export const param = (line: ContentLine, name: string): string | undefined => line.params.get(name)?.[0];

/**
 * RFC 2045 §6.7 quoted-printable to bytes. Literal characters are ASCII in a well-formed value; any
 * that are not (the data was already decoded upstream) are kept as UTF-8 so nothing is lost.
 */
function quotedPrintableBytes(value: string): Uint8Array {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    const hex = value.slice(i + 1, i + 3);
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (c.charCodeAt(0) < 0x80) {
      bytes.push(c.charCodeAt(0));
    } else {
      bytes.push(...encoder.encode(c));
    }
  }
  return Uint8Array.from(bytes);
}

/**
 * WHATWG index-windows-1252 for 0x80..0x9F (the rest equals ISO-8859-1). Node 20's TextDecoder runs
 * "windows-1252" (and its aliases latin1, iso-8859-1) through a Latin-1 fast path that turns these
 * into C1 controls, and Outlook writes exactly these bytes: =80 euro, =96 en dash, =93/=94 quotes.
 */
const WINDOWS_1252_HIGH = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d,
  0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a,
  0x153, 0x9d, 0x17e, 0x178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) {
    text += String.fromCodePoint(byte >= 0x80 && byte <= 0x9f ? WINDOWS_1252_HIGH[byte - 0x80]! : byte);
  }
  return text;
}

/** Decodes bytes in a named charset; unknown charsets fall back to UTF-8 and say so. */
function decodeCharset(bytes: Uint8Array, charset: string | undefined): { text: string; warning?: string } {
  const label = (charset ?? "utf-8").trim();
  let decoder: InstanceType<typeof TextDecoder>;
  try {
    decoder = new TextDecoder(label);
  } catch {
    return {
      text: new TextDecoder("utf-8").decode(bytes),
      warning: `unknown CHARSET ${label}, read as UTF-8`,
    };
  }
  return { text: decoder.encoding === "windows-1252" ? decodeWindows1252(bytes) : decoder.decode(bytes) };
}

/**
 * The value with its transfer encoding removed. A JS string has already been decoded from bytes,
 * so CHARSET only matters where quoted-printable carries raw bytes (`=FC` in windows-1252).
 */
export function transferDecoded(line: ContentLine): { raw: string; warning?: string } {
  const encoding = param(line, "ENCODING")?.toUpperCase();
  if (encoding !== "QUOTED-PRINTABLE") return { raw: line.value };
  const decoded = decodeCharset(quotedPrintableBytes(line.value), param(line, "CHARSET"));
  // A decoded quoted-printable value carries real line breaks; text values escape them.
  const raw = decoded.text.replace(/\r\n|\r|\n/g, "\\n");
  return decoded.warning === undefined ? { raw } : { raw, warning: decoded.warning };
}

/**
 * RFC 6350 §3.4 / RFC 2426 §4: `\\`, `\,`, `\;`, `\n`, `\N`. vcard4 also writes `\:`, which is read
 * back as ":". Any other backslash is kept as written (2.1 producers do not escape backslashes).
 */
export function unescapeText(value: string): string {
  return value.replace(/\\([\\,;:nN])/g, (_m, c: string) => (c === "n" || c === "N" ? "\n" : c));
}

/** Splits on a delimiter that is not backslash-escaped, keeping the escapes in the parts. */
export function splitUnescaped(value: string, delimiter: ";" | ","): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\" && i + 1 < value.length) {
      current += c + value[i + 1];
      i++;
    } else if (c === delimiter) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

/** A single text value, unescaped and trimmed. */
export const textValue = (raw: string): string => unescapeText(raw).trim();

/**
 * A structured value (N, ADR, ORG): components split on unescaped ';'. Comma sub-lists inside a
 * component (RFC 6350 §6.2.2 "additional names") are kept as one string with their commas.
 */
export const structuredValue = (raw: string): string[] =>
  splitUnescaped(raw, ";").map((part) => unescapeText(part).trim());

/** A list value (CATEGORIES, NICKNAME): split on unescaped ',', empty items dropped. */
export const listValue = (raw: string): string[] =>
  splitUnescaped(raw, ",")
    .map((part) => unescapeText(part).trim())
    .filter((part) => part !== "");

/** Lower-cased TYPE values, split further on commas that survived as one token. */
export function typesOf(line: ContentLine): string[] {
  const types = line.params.get("TYPE") ?? [];
  return types
    .flatMap((t) => t.split(","))
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== "");
}

/**
 * Preference level, lower is more preferred (RFC 6350 §5.3: PREF=1..100). vCard 3.0 and 2.1 mark
 * the preferred instance with TYPE=pref (or the bare PREF); that reads as level 1.
 */
export function prefOf(line: ContentLine): number | undefined {
  const pref = param(line, "PREF");
  if (pref !== undefined) {
    const level = Number.parseInt(pref, 10);
    if (Number.isFinite(level) && level >= 1) return Math.min(level, 100);
    return 1; // a PREF whose value is not a number still marks the preferred instance
  }
  return typesOf(line).includes("pref") ? 1 : undefined;
}
