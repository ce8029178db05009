/**
 * Message-ID handling (RFC 5322 §3.6.4). Ids travel without their angle brackets inside the library
 * (the MIME converter strips them); `formatMessageId` puts them back for a header.
 */

/**
 * A Message-ID as written, for headers we send: angle brackets, surrounding blanks and folding
 * whitespace removed, case kept. Clients such as Thunderbird thread by comparing ids octet by octet,
 * so a reply must repeat an id exactly as its author wrote it. Returns "" for an empty value.
 */
export function cleanMessageId(id: string | undefined | null): string {
  if (!id) return "";
  let value = String(id).trim();
  const bracketed = /<([^<>]*)>/.exec(value);
  if (bracketed) value = bracketed[1] ?? "";
  value = value.replace(/\s+/g, "");
  if (value.startsWith("<")) value = value.slice(1);
  if (value.endsWith(">")) value = value.slice(0, -1);
  return value;
}

/**
 * Canonical form of a Message-ID for lookups and comparison: cleanMessageId, then the domain part
 * (after the last "@") lower-cased, as domains are case-insensitive. The local part keeps its case:
 * RFC 5322 ids are compared octet by octet, and some MTAs mint ids that differ only in the case of
 * the local part. Returns "" for an empty or blank value.
 */
export function normaliseMessageId(id: string | undefined | null): string {
  const value = cleanMessageId(id);
  const at = value.lastIndexOf("@");
  if (at < 0) return value;
  return value.slice(0, at) + "@" + value.slice(at + 1).toLowerCase();
}

/**
 * Every Message-ID in a header value such as References or In-Reply-To, in header order,
 * normalised (or only cleaned, with `{ normalise: false }`, for ids we write back into headers),
 * duplicates dropped by their normalised form (the first occurrence wins). Reads `<a@b> <c@d>` as
 * well as the comma- or blank-separated lists some clients write, and ignores comments and stray
 * text between brackets.
 */
export function parseMessageIdList(
  value: string | readonly string[] | undefined | null,
  options: { normalise?: boolean } = {},
): string[] {
  const keep = options.normalise === false ? cleanMessageId : normaliseMessageId;
  if (value === undefined || value === null) return [];
  const parts = typeof value === "string" ? [value] : value;
  const out: string[] = [];
  const seen = new Set<string>();
  const push = (raw: string): void => {
    const key = normaliseMessageId(raw);
    if (key && !seen.has(key)) {
      seen.add(key);
      out.push(keep(raw));
    }
  };
  for (const part of parts) {
    if (typeof part !== "string") continue;
    const bracketed = part.match(/<[^<>]*>/g);
    if (bracketed) {
      for (const b of bracketed) push(b);
      continue;
    }
    // No brackets at all: a bare id or a list of bare ids (seen from broken clients and from
    // converters that already stripped the brackets).
    for (const token of part.split(/[\s,]+/)) if (token.includes("@")) push(token);
  }
  return out;
}

/** `<id>` for a header, the id's case kept. */
export function formatMessageId(id: string): string {
  return `<${cleanMessageId(id)}>`;
}

/** The domain part of a Message-ID (lower-case), or "" when it has none. */
export function messageIdDomain(id: string): string {
  const norm = normaliseMessageId(id);
  const at = norm.lastIndexOf("@");
  return at < 0 ? "" : norm.slice(at + 1);
}

/** The local part of a Message-ID (case kept), or the whole id when it has no "@". */
export function messageIdLocalPart(id: string): string {
  const norm = normaliseMessageId(id);
  const at = norm.lastIndexOf("@");
  return at < 0 ? norm : norm.slice(0, at);
}
