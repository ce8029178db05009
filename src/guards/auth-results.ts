/**
 * Authentication-Results parser (RFC 8601 §2.2):
 *
 *   authres-header = authserv-id [ CFWS authres-version ] ( no-result / 1*resinfo )
 *   resinfo        = ";" methodspec [ reasonspec ] [ 1*propspec ]
 *   methodspec     = method [ "/" method-version ] "=" result
 *   propspec       = ptype "." property "=" pvalue
 *
 * Real headers bend this: Microsoft writes `action=none` and `compauth=pass reason=100`, Gmail puts
 * prose in comments (`spf=pass (google.com: domain of ... designates ...)`), some filters write
 * `header.i=@example.com`, others quote values. Comments are removed first, then each `;` segment is
 * read as `key=value` pairs; a pair without a dot is kept as an extra. Never throws: garbage yields
 * undefined or a header without results.
 */
import { splitOutsideQuotes, stripComments, unquote } from "./header-values.js";

export interface AuthMethodResult {
  /** Method, lower-case: dmarc, spf, dkim, arc, auth, iprev, compauth, ... */
  method: string;
  version?: string;
  /** Result, lower-case: pass, fail, softfail, neutral, none, temperror, permerror, policy, ... */
  result: string;
  reason?: string;
  /** `ptype.property` (lower-case) -> value, e.g. "smtp.mailfrom", "header.d", "header.from". */
  properties: Record<string, string>;
}

export interface AuthenticationResults {
  /** The authserv-id, lower-case. */
  authservId: string;
  version?: string;
  /** True for `authserv-id; none` (the server checked nothing). */
  none: boolean;
  results: AuthMethodResult[];
}

interface Pair {
  key: string;
  value: string;
}

/** Reads `key = value` pairs and bare words from one segment (comments already removed). */
function readPairs(segment: string): { words: string[]; pairs: Pair[] } {
  // "dkim / 1 = pass" -> "dkim/1=pass"; blanks around "=" removed outside quotes is done by the scan.
  const s = segment.replace(/\s*\/\s*/g, "/");
  const words: string[] = [];
  const pairs: Pair[] = [];
  let i = 0;
  const skipBlanks = (): void => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  const readToken = (): string => {
    if (s[i] === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      const token = s.slice(i, Math.min(j + 1, s.length));
      i = j + 1;
      return token;
    }
    const start = i;
    while (i < s.length && !/[\s="]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  while (i < s.length) {
    skipBlanks();
    if (i >= s.length) break;
    if (s[i] === "=") {
      i++; // stray "="
      continue;
    }
    const key = readToken();
    skipBlanks();
    if (s[i] === "=") {
      i++;
      skipBlanks();
      const value = i < s.length ? readToken() : "";
      pairs.push({ key: key.toLowerCase(), value: unquote(value) });
    } else if (key) {
      words.push(unquote(key));
    }
  }
  return { words, pairs };
}

/**
 * Parses one Authentication-Results value; undefined when it is unreadable. A header without an
 * authserv-id (Microsoft 365 writes `spf=pass ...; dkim=pass ...` straight away) is returned with
 * authservId "" and its results: it can never match a trusted id.
 */
export function parseAuthenticationResults(value: string): AuthenticationResults | undefined {
  if (typeof value !== "string") return undefined;
  const segments = splitOutsideQuotes(stripComments(value), ";");
  const head = readPairs(segments[0] ?? "");
  let resultSegments = segments.slice(1);
  let authservId = "";
  let version: string | undefined;
  if (head.pairs.length > 0) {
    resultSegments = segments;
  } else {
    if (head.words.length === 0) return undefined;
    authservId = head.words[0]!.toLowerCase();
    if (!/^[^\s;=]+$/.test(authservId)) return undefined;
    if (head.words[1] !== undefined && /^\d+$/.test(head.words[1])) version = head.words[1];
  }
  const out: AuthenticationResults = { authservId, none: false, results: [] };
  if (version !== undefined) out.version = version;

  for (const segment of resultSegments) {
    const { words, pairs } = readPairs(segment);
    if (pairs.length === 0) {
      if (words.length === 1 && words[0]!.toLowerCase() === "none") out.none = true;
      continue;
    }
    const [first, ...rest] = pairs;
    const [method = "", methodVersion] = first!.key.split("/", 2);
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(method)) continue;
    const entry: AuthMethodResult = { method, result: first!.value.toLowerCase(), properties: {} };
    if (methodVersion) entry.version = methodVersion;
    for (const p of rest) {
      if (p.key === "reason") entry.reason = p.value;
      // First occurrence wins: a property repeated later in the same result is ignored.
      else if (!(p.key in entry.properties)) entry.properties[p.key] = p.value;
    }
    out.results.push(entry);
  }
  return out;
}
