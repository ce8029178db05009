/**
 * Charset decoding that never fails. Mail declares every charset under the sun, misspells them, lies
 * about them (GB2312 that is really GBK, "us-ascii" with Latin-1 bytes) or leaves them out. We decode
 * with the WHATWG Encoding Standard (Node's TextDecoder with full ICU), which already widens the usual
 * lies the way browsers do (gb2312 -> GBK, iso-8859-1 -> windows-1252, ks_c_5601-1987 -> windows-949,
 * shift_jis -> windows-31j, iso-2022-jp incl. the NEC rows), add UTF-7 (RFC 2152, not in WHATWG), and
 * fall back to "UTF-8 where valid, windows-1252 for the rest" for unknown or broken declarations.
 * Every fallback is reported as a problem string so that the caller can surface it.
 */
import { TextDecoder } from "node:util";
import { decodeUtf7, isUtf7Label } from "./utf7.js";

/** The outcome of decoding one run of bytes. */
export interface DecodedText {
  text: string;
  /** The WHATWG name of the decoder that produced `text` ("utf-8", "gbk", "utf-7", "utf-8+windows-1252"). */
  used: string;
  /** Set when the declaration was missing, unknown or did not fit the bytes; says what was done instead. */
  problem?: string;
}

const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });

// Labels that mail uses but the WHATWG table does not know; the value is a WHATWG label.
const ALIASES: Record<string, string> = {
  cp932: "shift_jis",
  "ms-932": "shift_jis",
  cp936: "gbk",
  "ms-936": "gbk",
  cp949: "euc-kr",
  uhc: "euc-kr",
  "ks_c_5601-1989": "euc-kr",
  ksc5601: "euc-kr",
  cp950: "big5",
  "x-big5": "big5",
  "gb_2312-80": "gbk",
  "euc-cn": "gbk",
  "x-euc-jp": "euc-jp",
  "shift-jis": "shift_jis",
  "iso-2022-jp-1": "iso-2022-jp",
  "iso-2022-jp-2": "iso-2022-jp",
  "iso-2022-jp-3": "iso-2022-jp",
  "x-mac-cyrillic": "x-mac-cyrillic",
  utf8mb4: "utf-8",
  "ansi_x3.4-1968": "us-ascii",
  ascii: "us-ascii",
  "us-ascii": "us-ascii",
  "7bit": "us-ascii",
  "8bit": "",
};

/** Lower-cases, unquotes and maps common misspellings ("win-1251", "cp1252", "utf8") to WHATWG labels. */
export function normaliseCharsetLabel(label: string | undefined | null): string {
  let l = (label ?? "")
    .trim()
    .replace(/^["']+|["']+$/g, "")
    .trim()
    .toLowerCase();
  // RFC 2231 / RFC 2184 language suffix: "utf-8*en"
  l = l.replace(/\*.*$/, "");
  if (l in ALIASES) return ALIASES[l] as string;
  const win = /^(?:win(?:dows)?|cp|ms)[-_ ]?(125\d|874)$/.exec(l);
  if (win) return `windows-${win[1]}`;
  const iso = /^iso[-_ ]?8859[-_ ]?(\d{1,2})$/.exec(l);
  if (iso) return `iso-8859-${iso[1]}`;
  if (/^utf[-_ ]?8$/.test(l)) return "utf-8";
  return l;
}

function isAscii(bytes: Uint8Array): boolean {
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

const cp1252 = { decode: decodeWindows1252 };

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
    out += cp1252.decode(bytes.subarray(i, i + 1));
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
function whatwgDecoder(label: string, fatal: boolean): TextDecoder | undefined {
  try {
    const decoder = new TextDecoder(label, { fatal });
    return decoder.encoding === "replacement" ? undefined : decoder;
  } catch {
    return undefined;
  }
}

/** UTF-8 where valid, windows-1252 byte by byte elsewhere; for missing or unusable declarations. */
function fallback(bytes: Uint8Array): { text: string; used: string } {
  if (isValidUtf8(bytes)) return { text: fatalUtf8.decode(bytes), used: "utf-8" };
  const { text } = decodeUtf8WithFallback(bytes);
  return { text, used: "utf-8+windows-1252" };
}

/**
 * Decodes bytes declared to be in `declared` (a MIME charset label; undefined when none was given).
 * Never throws and never returns U+FFFD for bytes that some fallback can read.
 */
export function decodeBytes(bytes: Uint8Array, declared?: string | null): DecodedText {
  const label = normaliseCharsetLabel(declared);
  const shown = (declared ?? "").trim() || "(none)";
  if (label === "" || label === "us-ascii") {
    if (isAscii(bytes)) return { text: cp1252.decode(bytes), used: "us-ascii" };
    const f = fallback(bytes);
    return label === "" && f.used === "utf-8"
      ? { text: f.text, used: f.used } // undeclared UTF-8 is what everybody sends; not a problem
      : {
          ...f,
          problem: `${shown}: 8-bit bytes under a ${label ? "7-bit" : "missing"} charset, decoded as ${f.used}`,
        };
  }
  if (label === "utf-8") {
    const { text, invalid } = decodeUtf8WithFallback(bytes);
    if (invalid === 0) return { text, used: "utf-8" };
    return {
      text,
      used: "utf-8+windows-1252",
      problem: `${shown}: ${invalid} invalid UTF-8 byte(s), decoded as windows-1252`,
    };
  }
  if (isUtf7Label(label)) return { text: decodeUtf7(bytes), used: "utf-7" };
  const strict = whatwgDecoder(label, true);
  if (!strict) {
    const f = fallback(bytes);
    return { ...f, problem: `${shown}: unknown charset, decoded as ${f.used}` };
  }
  if (strict.encoding === "windows-1252") return { text: decodeWindows1252(bytes), used: "windows-1252" };
  try {
    return { text: strict.decode(bytes), used: strict.encoding };
  } catch {
    // The bytes do not fit the declaration. GBK mail is often really GB18030; anything else may be
    // mislabelled UTF-8 (a client that re-encoded the body but not the header).
    if (strict.encoding === "gbk") {
      const wide = whatwgDecoder("gb18030", true);
      try {
        if (wide)
          return {
            text: wide.decode(bytes),
            used: "gb18030",
            problem: `${shown}: not valid ${strict.encoding}, decoded as gb18030`,
          };
      } catch {
        // fall through to the lenient decode below
      }
    }
    if (isValidUtf8(bytes))
      return {
        text: fatalUtf8.decode(bytes),
        used: "utf-8",
        problem: `${shown}: bytes are not ${strict.encoding} but valid UTF-8, decoded as utf-8`,
      };
    const lenient = whatwgDecoder(label, false) as TextDecoder;
    const text = lenient.decode(bytes);
    const bad = text.split("\uFFFD").length - 1;
    return {
      text,
      used: lenient.encoding,
      problem: `${shown}: ${bad} undecodable sequence(s) in ${lenient.encoding}`,
    };
  }
}

/**
 * Decodes a raw header value (bytes of an unencoded 8-bit header, RFC 6532 or plain wrong): UTF-8 when
 * valid, else the message's own declared charset when one is known and fits, else windows-1252.
 */
export function decodeRawHeaderBytes(bytes: Uint8Array, hintCharset?: string): DecodedText {
  if (isAscii(bytes) || isValidUtf8(bytes)) return { text: fatalUtf8.decode(bytes), used: "utf-8" };
  const hint = normaliseCharsetLabel(hintCharset);
  if (hint && hint !== "utf-8" && hint !== "us-ascii" && !isUtf7Label(hint)) {
    const strict = whatwgDecoder(hint, true);
    if (strict?.encoding === "windows-1252") {
      return {
        text: decodeWindows1252(bytes),
        used: "windows-1252",
        problem: "header: raw 8-bit bytes, decoded as windows-1252 (the body's charset)",
      };
    }
    try {
      if (strict)
        return {
          text: strict.decode(bytes),
          used: strict.encoding,
          problem: `header: raw 8-bit bytes, decoded as ${strict.encoding} (the body's charset)`,
        };
    } catch {
      // not in the body's charset either
    }
  }
  return {
    text: cp1252.decode(bytes),
    used: "windows-1252",
    problem: "header: raw 8-bit bytes that are not UTF-8, decoded as windows-1252",
  };
}
