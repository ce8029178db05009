/**
 * RFC 2047 encoded-words ("=?charset?B|Q?text?="), decoded through our own charset table so that
 * every label charset.ts knows (UTF-7, ks_c_5601-1987, GB2312-as-GBK, ISO-2022-JP with NEC rows ...)
 * works in headers too and unknown labels are reported instead of silently producing U+FFFD.
 */
import { decodeBytes } from "./charset.js";

// charset, optional RFC 2231 language, encoding, text. The text may not contain "?" or whitespace,
// but real mailers put spaces in Q words, so we allow them when the word still closes with "?=".
const WORD = /=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?]*?)\?=/g;

/** Bytes to decode in the word's charset, or text that is already Unicode (see wordSegments). */
type Segment = Buffer | string;

interface Piece {
  kind: "text" | "word";
  text: string;
  charset?: string;
  segments?: Segment[];
}

/**
 * The content of one encoded-word. Characters outside ASCII cannot be in a word by the RFC, but raw
 * 8-bit bytes inside Q words are common (Eudora: "=?iso-8859-1?Q?Fr\xF6sche?="); the header was
 * already decoded from raw bytes, so they arrive as Unicode and are kept as they are.
 */
function wordSegments(encoding: string, text: string): Segment[] {
  if (encoding === "b" || encoding === "B") {
    // Buffer's base64 decoder ignores junk and missing padding, which is what we want here.
    return [Buffer.from(text.replace(/[^A-Za-z0-9+/]/g, ""), "base64")];
  }
  // RFC 2047 §4.2: "_" is a space, "=XX" a byte; anything else is itself.
  const segments: Segment[] = [];
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length) segments.push(Buffer.from(bytes));
    bytes = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const code = ch.charCodeAt(0);
    if (ch === "_") bytes.push(0x20);
    else if (ch === "=" && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (code < 0x80) bytes.push(code);
    else {
      flush();
      segments.push(ch);
    }
  }
  flush();
  return segments;
}

function decodeSegments(segments: Segment[], charset: string, onProblem?: (problem: string) => void): string {
  // Adjacent byte segments are one run: a multi-byte character may be split across words.
  let out = "";
  let run: Buffer[] = [];
  const flush = () => {
    if (!run.length) return;
    const decoded = decodeBytes(Buffer.concat(run), charset);
    if (decoded.problem) onProblem?.(`encoded-word ${decoded.problem}`);
    out += decoded.text;
    run = [];
  };
  for (const seg of segments) {
    if (typeof seg === "string") {
      flush();
      out += seg;
    } else run.push(seg);
  }
  flush();
  return out;
}

/**
 * Decodes every encoded-word in `value`. Whitespace between two adjacent encoded-words is dropped
 * (RFC 2047 §6.2), and adjacent words in the same charset are joined as bytes before decoding, since
 * mailers split multi-byte characters across words. `onProblem` receives charset fallbacks.
 */
export function decodeEncodedWords(value: string, onProblem?: (problem: string) => void): string {
  if (!value.includes("=?")) return value;
  const pieces: Piece[] = [];
  let last = 0;
  for (const m of value.matchAll(WORD)) {
    const start = m.index ?? 0;
    const between = value.slice(last, start);
    const prev = pieces[pieces.length - 1];
    if (between && !(prev?.kind === "word" && /^[ \t\r\n]+$/.test(between))) {
      pieces.push({ kind: "text", text: between });
    }
    const charset = (m[1] as string).toLowerCase();
    const segments = wordSegments(m[2] as string, m[3] as string);
    const before = pieces[pieces.length - 1];
    if (before?.kind === "word" && before.charset === charset && before.segments) {
      before.segments.push(...segments);
    } else {
      pieces.push({ kind: "word", text: "", charset, segments });
    }
    last = start + m[0].length;
  }
  if (last < value.length) pieces.push({ kind: "text", text: value.slice(last) });
  return pieces
    .map((p) =>
      p.kind === "text" || !p.segments ? p.text : decodeSegments(p.segments, p.charset as string, onProblem),
    )
    .join("");
}
