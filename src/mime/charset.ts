/**
 * Charset decoding that never fails. Mail declares every charset under the sun, misspells them, lies
 * about them (GB2312 that is really GBK, "us-ascii" with Latin-1 bytes) or leaves them out. We decode
 * with the WHATWG Encoding Standard (Node's TextDecoder with full ICU), which already widens the usual
 * lies the way browsers do (gb2312 -> GBK, iso-8859-1 -> windows-1252, ks_c_5601-1987 -> windows-949,
 * shift_jis -> windows-31j, iso-2022-jp incl. the NEC rows; byte-decoders.ts fills the gaps of
 * Node's ICU data), add UTF-7 (RFC 2152, not in WHATWG), read well-formed multi-byte UTF-8 under a
 * legacy label as UTF-8, and fall back to "UTF-8 where valid, windows-1252 for the rest" for unknown or broken declarations.
 * Every fallback is reported as a problem string so that the caller can surface it.
 */
import {
  decodeUtf8WithFallback,
  decodeWindows1252,
  fatalUtf8,
  isAscii,
  isValidUtf8,
  lenientDecode,
  strictDecode,
  whatwgDecoder,
} from "./byte-decoders.js";
import { decodeUtf7, isUtf7Label } from "./utf7.js";

export { decodeUtf8WithFallback, decodeWindows1252, isValidUtf8 };

/** The outcome of decoding one run of bytes. */
export interface DecodedText {
  text: string;
  /** The WHATWG name of the decoder that produced `text` ("utf-8", "gbk", "utf-7", "utf-8+windows-1252"). */
  used: string;
  /** Set when the declaration was missing, unknown or did not fit the bytes; says what was done instead. */
  problem?: string;
}

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
    if (isAscii(bytes)) return { text: decodeWindows1252(bytes), used: "us-ascii" };
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
  const encoding = whatwgDecoder(label, false)?.encoding;
  if (!encoding) {
    const f = fallback(bytes);
    return { ...f, problem: `${shown}: unknown charset, decoded as ${f.used}` };
  }
  // A legacy label on bytes that are well-formed multi-byte UTF-8 is a client that re-encoded the
  // body but not the header; legacy text is practically never valid UTF-8 by accident.
  if (!encoding.startsWith("utf-16") && hasMultiByteUtf8(bytes)) {
    return {
      text: fatalUtf8.decode(bytes),
      used: "utf-8",
      problem: `${shown}: bytes are valid UTF-8, decoded as utf-8`,
    };
  }
  const strict = strictDecode(encoding, bytes);
  if (strict !== undefined) return { text: strict, used: encoding };
  // GBK mail is sometimes really GB18030.
  const wide = encoding === "gbk" ? strictDecode("gb18030", bytes) : undefined;
  if (wide !== undefined)
    return { text: wide, used: "gb18030", problem: `${shown}: not valid gbk, decoded as gb18030` };
  const text = lenientDecode(encoding, bytes);
  const bad = text.split("\uFFFD").length - 1;
  return { text, used: encoding, problem: `${shown}: ${bad} undecodable sequence(s) in ${encoding}` };
}

/** Well-formed UTF-8 with at least one multi-byte sequence. */
function hasMultiByteUtf8(bytes: Uint8Array): boolean {
  return !isAscii(bytes) && isValidUtf8(bytes);
}

/**
 * Decodes a raw header value (bytes of an unencoded 8-bit header, RFC 6532 or plain wrong): UTF-8 when
 * valid, else the message's own declared charset when one is known and fits, else windows-1252.
 */
export function decodeRawHeaderBytes(bytes: Uint8Array, hintCharset?: string): DecodedText {
  if (isAscii(bytes) || isValidUtf8(bytes)) return { text: fatalUtf8.decode(bytes), used: "utf-8" };
  const hint = normaliseCharsetLabel(hintCharset);
  const encoding = hint && !isUtf7Label(hint) ? whatwgDecoder(hint, false)?.encoding : undefined;
  const text = encoding && encoding !== "utf-8" ? strictDecode(encoding, bytes) : undefined;
  if (encoding && text !== undefined) {
    return {
      text,
      used: encoding,
      problem: `header: raw 8-bit bytes, decoded as ${encoding} (the body's charset)`,
    };
  }
  return {
    text: decodeWindows1252(bytes),
    used: "windows-1252",
    problem: "header: raw 8-bit bytes that are not UTF-8, decoded as windows-1252",
  };
}
