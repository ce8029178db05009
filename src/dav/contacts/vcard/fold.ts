/**
 * RFC 6350 §3.2 line folding by octets. vcard4 folds every 75 UTF-16 code units, which can put a
 * fold between the two halves of a surrogate pair (an emoji in a NOTE then reaches the server as
 * two U+FFFD) and lets non-ASCII lines run past 75 octets. We unfold its output and fold again here.
 */

const MAX_OCTETS = 75;
const encoder = new TextEncoder();

/** Folds one logical line at 75 octets, never inside a code point; continuation lines start with " ". */
export function foldLine(line: string): string {
  if (encoder.encode(line).length <= MAX_OCTETS) return line;
  const parts: string[] = [];
  let current = "";
  let octets = 0;
  for (const char of line) {
    const size = encoder.encode(char).length;
    // The leading space of a continuation line counts towards its 75 octets.
    if (octets + size > MAX_OCTETS) {
      parts.push(current);
      current = " ";
      octets = 1;
    }
    current += char;
    octets += size;
  }
  parts.push(current);
  return parts.join("\r\n");
}

/** The logical lines of CRLF vCard text (RFC 6350 §3.2 unfolding: CRLF + one space or tab). */
export function unfold(text: string): string[] {
  return text
    .replace(/\r\n[ \t]/g, "")
    .split("\r\n")
    .filter((l) => l !== "");
}

/** Folds every logical line by octets and joins them CRLF-terminated. */
export function fold(lines: string[]): string {
  return lines.map(foldLine).join("\r\n") + "\r\n";
}
