/**
 * Reading structured header values robustly: comments `( ... )` (nested, with quoted-pairs) and
 * quoted strings per RFC 5322 §3.2. Everything here takes any string and never throws.
 */

/** Lower-cased name -> the first key of that name, per headers object (built once; guards ask ~40 names). */
const indexes = new WeakMap<Record<string, string[]>, Map<string, string>>();

function keyIndex(headers: Record<string, string[]>): Map<string, string> {
  let index = indexes.get(headers);
  if (!index) {
    index = new Map();
    for (const key of Object.keys(headers)) {
      const lower = key.toLowerCase();
      if (!index.has(lower)) index.set(lower, key);
    }
    indexes.set(headers, index);
  }
  return index;
}

/**
 * All values of a header, topmost first. Keys are expected lower-cased; other cases are found too.
 * The headers object is read as it was at the first call (it is indexed once).
 */
export function headerValues(headers: Record<string, string[]> | undefined, name: string): string[] {
  if (!headers) return [];
  const lower = name.toLowerCase();
  const direct = headers[lower];
  if (direct) return direct.filter((v): v is string => typeof v === "string");
  const key = keyIndex(headers).get(lower);
  return key === undefined ? [] : (headers[key] ?? []).filter((v): v is string => typeof v === "string");
}

/** Whether a header is present at all (even empty). */
export function hasHeader(headers: Record<string, string[]> | undefined, name: string): boolean {
  return headerValues(headers, name).length > 0;
}

/**
 * The value with comments replaced by a blank, quoted strings kept as they are (quotes included).
 * An unterminated comment runs to the end; an unterminated quoted string is closed at the end.
 */
export function stripComments(value: string): string {
  let out = "";
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === "\\" && (quoted || depth > 0)) {
      if (depth === 0) out += ch + (value[i + 1] ?? "");
      i++;
      continue;
    }
    if (quoted) {
      out += ch;
      if (ch === '"') quoted = false;
      continue;
    }
    if (depth > 0) {
      if (ch === "(") depth++;
      else if (ch === ")") {
        depth--;
        if (depth === 0) out += " ";
      }
      continue;
    }
    if (ch === "(") {
      depth = 1;
      continue;
    }
    if (ch === '"') quoted = true;
    out += ch;
  }
  if (quoted) out += '"';
  return out;
}

/** A quoted string's content with quoted-pairs resolved; other values trimmed as they are. */
export function unquote(value: string): string {
  const v = value.trim();
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replace(/\\(.)/g, "$1");
  return v;
}

/**
 * Splits on a separator character outside quoted strings (apply stripComments first).
 */
export function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quoted && ch === "\\") {
      current += ch + (value[i + 1] ?? "");
      i++;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (!quoted && ch === separator) {
      parts.push(current);
      current = "";
      continue;
    }
    current += ch;
  }
  parts.push(current);
  return parts;
}

export interface ParsedContentType {
  /** `type/subtype`, lower-case; "" when unreadable. */
  mediaType: string;
  /** Parameter names lower-cased, values unquoted. */
  params: Record<string, string>;
}

/** Reads `type/subtype; name=value; ...` (RFC 2045 §5.1), tolerating missing or stray separators. */
export function parseContentType(value: string | undefined): ParsedContentType {
  const parts = splitOutsideQuotes(stripComments(value ?? ""), ";");
  const mediaType = (parts[0] ?? "").trim().toLowerCase().split(/\s+/)[0] ?? "";
  const params: Record<string, string> = {};
  for (const part of parts.slice(1)) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    if (name) params[name] = unquote(part.slice(eq + 1));
  }
  return { mediaType: /^[^/\s]+\/[^/\s]+$/.test(mediaType) ? mediaType : "", params };
}
