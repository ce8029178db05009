/**
 * Byte-level decoders under charset.ts's policy: strict/lenient decoding per WHATWG encoding name,
 * and the places where Node 20's TextDecoder (ICU) disagrees with the WHATWG Encoding Standard.
 */
import { TextDecoder } from "node:util";
import iconv from "iconv-lite";

export const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

export function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if ((bytes[i] as number) >= 0x80) return false;
  return true;
}

/** True when the bytes are well-formed UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    fatalUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

// windows-1252 0x80-0x9F (WHATWG index; the five undefined bytes map to the C1 control of the same value).
const CP1252_HIGH =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

/**
 * windows-1252, done by hand: Node 20's TextDecoder("windows-1252") decodes 0x80-0x9F as Latin-1 C1
 * controls (so "wasn=92t" lost its apostrophe); every other single-byte table in ICU is right.
 */
export function decodeWindows1252(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    const codes = Array.from(bytes.subarray(i, i + 8192), (b) =>
      b >= 0x80 && b < 0xa0 ? CP1252_HIGH.charCodeAt(b - 0x80) : b,
    );
    out += String.fromCharCode(...codes);
  }
  return out;
}

/**
 * Decodes UTF-8 and maps every byte that is not part of a well-formed UTF-8 sequence through
 * windows-1252, so a mostly-UTF-8 text with a stray Latin-1 byte loses nothing and shows no U+FFFD.
 * Returns the text and how many bytes needed the fallback.
 */
export function decodeUtf8WithFallback(bytes: Uint8Array): { text: string; invalid: number } {
  if (isValidUtf8(bytes)) return { text: fatalUtf8.decode(bytes), invalid: 0 };
  let out = "";
  let invalid = 0;
  let runStart = 0;
  let i = 0;
  const flush = (end: number) => {
    if (end > runStart) out += fatalUtf8.decode(bytes.subarray(runStart, end));
  };
  while (i < bytes.length) {
    const len = utf8SequenceLength(bytes, i);
    if (len > 0) {
      i += len;
      continue;
    }
    flush(i);
    out += decodeWindows1252(bytes.subarray(i, i + 1));
    invalid++;
    i++;
    runStart = i;
  }
  flush(i);
  return { text: out, invalid };
}

/** Length of the well-formed UTF-8 sequence starting at `i`, or 0 when there is none. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i] as number;
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && ((b[i + k] as number) & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1] as number;
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1] as number;
    if (c === 0xf0 && c1 < 0x90) return 0;
    if (c === 0xf4 && c1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

/** A WHATWG decoder for the label, or undefined when the label is unknown (or maps to "replacement"). */
export function whatwgDecoder(label: string, fatal: boolean): TextDecoder | undefined {
  try {
    const decoder = new TextDecoder(label, { fatal });
    return decoder.encoding === "replacement" ? undefined : decoder;
  } catch {
    return undefined;
  }
}

// Node 20's ICU tables lack the extensions that WHATWG's euc-kr (UHC / windows-949) and big5
// (HKSCS) include, and decode those bytes to garbage without an error: iconv-lite has them.
const ICONV_NAMES: Record<string, string> = { "euc-kr": "cp949", big5: "big5hkscs" };

/**
 * WHATWG's iso-2022-jp decoder rejects an escape sequence that directly follows another one, which
 * is what joined encoded-words ("...ESC ( B" + "ESC $ B...") and some mailers produce: drop the
 * switch back to ASCII when another switch follows at once.
 */
function dropRedundantEscapes(bytes: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i++) {
    const redundant =
      bytes[i] === 0x1b &&
      bytes[i + 1] === 0x28 &&
      (bytes[i + 2] === 0x42 || bytes[i + 2] === 0x4a) &&
      bytes[i + 3] === 0x1b;
    if (redundant) i += 2;
    else out.push(bytes[i] as number);
  }
  return Uint8Array.from(out);
}

/** Decodes with a WHATWG encoding name; undefined when the bytes do not fit it. */
export function strictDecode(encoding: string, raw: Uint8Array): string | undefined {
  const bytes = encoding === "iso-2022-jp" ? dropRedundantEscapes(raw) : raw;
  if (encoding === "windows-1252") return decodeWindows1252(bytes);
  const iconvName = ICONV_NAMES[encoding];
  if (iconvName) {
    const text = iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), iconvName);
    return text.includes("\uFFFD") ? undefined : text;
  }
  try {
    return (whatwgDecoder(encoding, true) as TextDecoder).decode(bytes);
  } catch {
    return undefined;
  }
}

export function lenientDecode(encoding: string, bytes: Uint8Array): string {
  const iconvName = ICONV_NAMES[encoding];
  if (iconvName) return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), iconvName);
  return (whatwgDecoder(encoding, false) as TextDecoder).decode(bytes);
}
