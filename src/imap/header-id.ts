/**
 * The Message-ID of a raw message or header block, without <>, read straight from the bytes (only
 * the header block is looked at). For records of messages that are never parsed (too large, or
 * unparseable); the converter does the real header parsing.
 */
export function headerMessageId(raw: Uint8Array): string | undefined {
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  let end = bytes.indexOf("\r\n\r\n");
  if (end < 0) end = bytes.indexOf("\n\n");
  const head = bytes.toString("latin1", 0, end < 0 ? Math.min(bytes.length, 256 * 1024) : end);
  const match = /^message-id[ \t]*:((?:.*)(?:\r?\n[ \t].*)*)/im.exec(head);
  if (!match) return undefined;
  const value = (match[1] ?? "").replace(/\r?\n[ \t]/g, " ");
  const id = (/<([^<>]+)>/.exec(value)?.[1] ?? value).replace(/\s+/g, "");
  return id || undefined;
}
