/**
 * RFC 4648 base32 in lower case without padding. Used for conversation ids and tokens because it
 * survives everything mail does to a local part: no case sensitivity (some relays and clients
 * lower-case addresses and ids), no characters outside RFC 5322 atext.
 */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

export function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (any case); undefined when a character is outside the alphabet or bits are left over. */
export function base32Decode(text: string): Uint8Array | undefined {
  const s = text.toLowerCase();
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    buffer = (buffer << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  // Canonical encodings leave fewer than 5 zero bits.
  if (bits >= 5 || buffer !== 0) return undefined;
  return Uint8Array.from(out);
}
