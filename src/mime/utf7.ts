/**
 * UTF-7 (RFC 2152), which the WHATWG Encoding Standard deliberately leaves out but old Outlook and
 * Outlook.com bounces still send (often labelled "unicode-1-1-utf-7", the RFC 1642 name).
 */

const UTF7_LABELS = new Set([
  "utf-7",
  "utf7",
  "unicode-1-1-utf-7",
  "unicode-2-0-utf-7",
  "x-unicode-2-0-utf-7",
  "csunicode11utf7",
]);

export function isUtf7Label(label: string): boolean {
  return UTF7_LABELS.has(label);
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_VALUE = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_VALUE[B64.charCodeAt(i)] = i;

/**
 * Decodes UTF-7 bytes. "+" opens a modified-base64 run of UTF-16 code units that ends at the first
 * non-base64 character; a "-" right after the run is absorbed; "+-" is a literal "+". Leftover bits
 * are discarded; 8-bit bytes (not valid UTF-7) are read as Latin-1 instead of failing.
 */
export function decodeUtf7(bytes: Uint8Array): string {
  const out: string[] = [];
  let i = 0;
  while (i < bytes.length) {
    const c = bytes[i] as number;
    if (c !== 0x2b /* + */) {
      out.push(String.fromCharCode(c));
      i++;
      continue;
    }
    i++;
    if (bytes[i] === 0x2d /* - */) {
      out.push("+");
      i++;
      continue;
    }
    let bits = 0;
    let nbits = 0;
    const units: number[] = [];
    while (i < bytes.length) {
      const b = bytes[i] as number;
      const v = b < 128 ? (B64_VALUE[b] as number) : -1;
      if (v < 0) break;
      bits = ((bits << 6) | v) & 0xffffff;
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        units.push((bits >> nbits) & 0xffff);
      }
      i++;
    }
    for (let k = 0; k < units.length; k += 4096) out.push(String.fromCharCode(...units.slice(k, k + 4096)));
    if (bytes[i] === 0x2d) i++;
  }
  return out.join("");
}
