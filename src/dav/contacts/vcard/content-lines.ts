/**
 * vCard content lines, for every version in the wild (2.1, 3.0, 4.0), before any property is
 * interpreted. Pure.
 *
 * Why not ical.js or vcard4 for this layer: vcard4's parser accepts 4.0 only; ical.js's `ICAL.parse`
 * throws on 2.1's bare parameters (`TEL;WORK;VOICE:`), knows neither QUOTED-PRINTABLE nor CHARSET,
 * leaves `\;` in non-structured vCard text and splits NOTE on unescaped commas. One small tokenizer
 * with one escaping rule for all versions is the robust choice; values are decoded in values.ts.
 */
import { InputError } from "../../../errors/index.js";

/** One unfolded content line: `[group "."] name *(";" param) ":" value` (RFC 6350 §3.3). */
export interface ContentLine {
  /** Lower-cased group name (`item1` in Apple's `item1.EMAIL`), when the line has one. */
  group?: string;
  /** Upper-cased property name. */
  name: string;
  /**
   * Upper-cased parameter names to their values, in order. Comma lists (`TYPE=work,voice`) and
   * repeated parameters (`type=INTERNET;type=pref`) are both flattened into the one array; 2.1 bare
   * parameters (`TEL;WORK;VOICE`) land under TYPE, ENCODING or VALUE as RFC 2426's predecessor meant.
   */
  params: Map<string, string[]>;
  /** The value exactly as written (still escaped, still quoted-printable if it was). */
  value: string;
  /** 1-based number of the physical line where this content line starts (for error messages). */
  line: number;
}

/** vCard 2.1 §2.1.3: these bare parameter values are encodings, not types. */
const BARE_ENCODINGS = new Set(["QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"]);
/** vCard 2.1 §2.1.4: and these are value locations. */
const BARE_VALUES = new Set(["INLINE", "URL", "CONTENT-ID", "CID"]);
const NAME_RE = /^[A-Za-z0-9-]+$/;

const isQuotedPrintable = (head: string): boolean =>
  /(?:^|;)\s*(?:ENCODING\s*=\s*)?QUOTED-PRINTABLE\s*(?:;|$)/i.test(head);

/** Index of the first ':' outside a double-quoted parameter value, or -1. */
export function valueColon(text: string): number {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === ":" && !quoted) return i;
  }
  return -1;
}

/**
 * Splits raw text into logical lines. RFC 6350 §3.2 / RFC 2425 §5.8.1: a line break followed by one
 * space or tab continues the previous line (the whitespace is dropped). Quoted-printable values
 * (2.1, Outlook, Android) continue with a soft break, a trailing "=" (RFC 2045 §6.7), and their
 * continuation lines are often not indented at all. Blank lines (2.1 ends base64 values with one)
 * are dropped.
 */
export function unfoldLines(data: string): { text: string; line: number }[] {
  const raw = data.replace(/^\uFEFF/, "").split(/\r\n|\n|\r/);
  const out: { text: string; line: number; qp: boolean }[] = [];
  for (let i = 0; i < raw.length; i++) {
    const physical = raw[i] ?? "";
    const last = out[out.length - 1];
    if (last?.qp && last.text.endsWith("=")) {
      // Soft line break: drop the "=", keep the next physical line as it is.
      last.text = last.text.slice(0, -1) + physical;
      continue;
    }
    if (last && (physical.startsWith(" ") || physical.startsWith("\t"))) {
      last.text += physical.slice(1);
      continue;
    }
    if (physical.trim() === "") continue;
    const colon = valueColon(physical);
    const qp = colon > 0 && isQuotedPrintable(physical.slice(0, colon));
    out.push({ text: physical, line: i + 1, qp });
  }
  return out.map(({ text, line }) => ({ text, line }));
}

/** RFC 6868: ^n newline, ^' double quote, ^^ caret, in parameter values. */
const decodeCaret = (value: string): string =>
  value.replace(/\^(\^|n|N|')/g, (_m, c: string) => (c === "^" ? "^" : c === "'" ? '"' : "\n"));

/** Splits `a,"b;c",d` on commas outside quotes and strips the quotes. */
function splitParamValues(raw: string): string[] {
  const values: string[] = [];
  let current = "";
  let quoted = false;
  for (const c of raw) {
    if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) {
      values.push(current);
      current = "";
    } else current += c;
  }
  values.push(current);
  return values.map((v) => decodeCaret(v.trim())).filter((v) => v !== "");
}

/** Splits the parameter section on ';' outside double quotes. */
function splitParams(head: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (const c of head) {
    if (c === '"') quoted = !quoted;
    if (c === ";" && !quoted) {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  return parts;
}

function addParam(params: Map<string, string[]>, name: string, values: string[]): void {
  const existing = params.get(name);
  if (existing) existing.push(...values);
  else params.set(name, values);
}

/** Parses one logical line; throws InputError when it is not a content line at all. */
export function parseContentLine(text: string, line: number): ContentLine {
  const colon = valueColon(text);
  if (colon <= 0) {
    throw new InputError(`vCard line ${line} is not a content line (no "name:value"): ${preview(text)}`, {
      code: "VCARD_INVALID_LINE",
      stage: "carddav",
      details: { line },
    });
  }
  const [nameToken = "", ...paramTokens] = splitParams(text.slice(0, colon));
  const dot = nameToken.lastIndexOf(".");
  const group = dot > 0 ? nameToken.slice(0, dot).trim().toLowerCase() : undefined;
  const name = (dot > 0 ? nameToken.slice(dot + 1) : nameToken).trim().toUpperCase();
  if (!NAME_RE.test(name) || (group !== undefined && !NAME_RE.test(group))) {
    throw new InputError(`vCard line ${line} has an invalid property name: ${preview(nameToken)}`, {
      code: "VCARD_INVALID_LINE",
      stage: "carddav",
      details: { line },
    });
  }
  const params = new Map<string, string[]>();
  for (const token of paramTokens) {
    const eq = token.indexOf("=");
    if (eq === -1) {
      // vCard 2.1 bare parameter.
      const bare = token.trim().toUpperCase();
      if (bare === "") continue;
      if (BARE_ENCODINGS.has(bare)) addParam(params, "ENCODING", [bare]);
      else if (BARE_VALUES.has(bare)) addParam(params, "VALUE", [bare]);
      else addParam(params, "TYPE", [token.trim()]);
      continue;
    }
    const paramName = token.slice(0, eq).trim().toUpperCase();
    if (paramName === "") continue;
    addParam(params, paramName, splitParamValues(token.slice(eq + 1)));
  }
  const result: ContentLine = { name, params, value: text.slice(colon + 1), line };
  if (group !== undefined) result.group = group;
  return result;
}

/** A short, log-safe excerpt of a line for error messages. */
export function preview(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(flat.length > 60 ? `${flat.slice(0, 57)}...` : flat);
}
