/**
 * RFC 3676 format=flowed: Apple Mail and Thunderbird send paragraphs as soft-broken lines that end
 * in a space. We undo it so the agent sees paragraphs and reply stripping sees whole quote lines.
 */

/**
 * Decodes a format=flowed text (already charset-decoded). Lines ending in a space are joined with the
 * next line of the same quote depth; `delSp` (delsp=yes) drops that space; space-stuffing is removed;
 * the signature delimiter "-- " is never joined.
 */
export function decodeFlowed(text: string, delSp: boolean): string {
  const out: string[] = [];
  let pending: { depth: number; text: string } | undefined;
  for (const rawLine of text.replace(/\r\n?/g, "\n").split("\n")) {
    const quote = /^>+/.exec(rawLine)?.[0] ?? "";
    let line = rawLine.slice(quote.length);
    if (line.startsWith(" ")) line = line.slice(1); // RFC 3676 §4.4 space-stuffing
    const depth = quote.length;
    const flowed = line.endsWith(" ") && line !== "-- ";
    if (pending && pending.depth !== depth) {
      out.push(render(pending));
      pending = undefined;
    }
    const piece = flowed && delSp ? line.slice(0, -1) : line;
    pending = pending ? { depth, text: pending.text + piece } : { depth, text: piece };
    if (!flowed) {
      out.push(render(pending));
      pending = undefined;
    }
  }
  if (pending) out.push(render(pending));
  return out.join("\n");
}

function render(p: { depth: number; text: string }): string {
  if (p.depth === 0) return p.text;
  return p.text ? `${">".repeat(p.depth)} ${p.text}` : ">".repeat(p.depth);
}
