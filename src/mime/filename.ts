/**
 * Attachment file names come from the sender: they may carry paths ("../../.ssh/authorized_keys"),
 * control characters, bidi overrides that disguise an extension ("invoice\u202Efdp.exe"), Windows
 * device names ("CON.txt") or 2,000 characters. sanitiseFilename makes one safe name out of them.
 */

/** Upper bound of a sanitised name in UTF-8 bytes; leaves room under the usual 255 for " (999)". */
export const MAX_FILENAME_BYTES = 200;

// Bidi controls, zero-width characters, BOM, soft hyphen: invisible, and used to disguise names.
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
// C0, DEL, C1 controls and the characters Windows does not allow in names.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f<>:"/\\|?*]/g;
// Windows device names, with or without extension (also "COM¹", which Windows treats alike).
const RESERVED = /^(con|prn|aux|nul|clock\$|conin\$|conout\$|com[0-9¹²³]|lpt[0-9¹²³])(\.|$)/i;

function utf8Length(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Cuts `s` to at most `max` UTF-8 bytes without splitting a code point. */
function truncateUtf8(s: string, max: number): string {
  if (utf8Length(s) <= max) return s;
  let out = "";
  let used = 0;
  for (const ch of s) {
    const n = utf8Length(ch);
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}

function clean(name: string): string {
  let s = name.normalize("NFC").replace(INVISIBLE, "");
  // Keep only the last path segment: the sender's folders are none of our business.
  s = s.split(/[/\\]/).pop() ?? "";
  s = s.replace(/\s+/g, " ").replace(FORBIDDEN, "_");
  // No "..", no leading dots (hidden files), no trailing dots or spaces (Windows drops them).
  s = s
    .replace(/\.{2,}/g, ".")
    .replace(/^[\s.]+/, "")
    .replace(/[\s.]+$/, "");
  if (RESERVED.test(s)) s = `_${s}`;
  return s;
}

/**
 * Returns a name that is safe as one path segment on POSIX and Windows: NFC, no separators, no
 * "..", no control or invisible characters, no leading dot, not a Windows device name, at most
 * MAX_FILENAME_BYTES bytes with the extension kept. Falls back to `fallback` (sanitised the same
 * way, then to "attachment") when nothing usable is left.
 */
export function sanitiseFilename(name: string, fallback: string): string {
  let s = clean(name ?? "");
  if (!s || s === "_") s = clean(fallback ?? "");
  if (!s) s = "attachment";
  if (utf8Length(s) <= MAX_FILENAME_BYTES) return s;
  const dot = s.lastIndexOf(".");
  const ext = dot > 0 && s.length - dot <= 16 ? s.slice(dot) : "";
  const stem = truncateUtf8(s.slice(0, s.length - ext.length), MAX_FILENAME_BYTES - utf8Length(ext)).replace(
    /[\s.]+$/,
    "",
  );
  return (stem || "attachment") + ext;
}

/**
 * Makes `name` unique among `taken` (compared case-insensitively, as on macOS and Windows) by
 * inserting " (2)", " (3)" ... before the extension, and records it.
 */
export function uniqueFilename(name: string, taken: Set<string>): string {
  let candidate = name;
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : "";
  for (let n = 2; taken.has(candidate.toLowerCase()); n++) candidate = `${stem} (${n})${ext}`;
  taken.add(candidate.toLowerCase());
  return candidate;
}

/**
 * Old Windows clients (Netscape 4, Outlook Express) put the sender's full path in a quoted filename:
 * `filename="C:\TEMP\nsmail.png"`. MIME parsers read "\T" as an escaped "T" and glue the folders to
 * the name ("C:TEMPnsmail.png"); from the raw header line we can still take the last segment.
 */
export function rawPathTail(rawHeaderLines: readonly { key: string; line: string }[]): string | undefined {
  for (const { key, line } of rawHeaderLines) {
    if (key !== "content-disposition" && key !== "content-type") continue;
    const m = /\b(?:file)?name\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(line.replace(/\r?\n[ \t]/g, " "));
    const value = m?.[1];
    // A backslash before a letter or digit is a path separator, not a quoted-pair anyone meant.
    if (value && /\\[A-Za-z0-9 _-]/.test(value)) return value.split(/[\\/]/).pop() || undefined;
  }
  return undefined;
}
