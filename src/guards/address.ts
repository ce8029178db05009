/**
 * Address normalisation for comparisons (allowlist, own addresses, participants). Not for display.
 *
 * - blanks trimmed, `<...>` and `mailto:` removed, Unicode NFC;
 * - local part lower-cased: RFC 5321 §2.4 lets a server treat it case-sensitively, but no mainstream
 *   provider does, and an allowlist that let "Alice@" past while stopping "alice@" would only confuse;
 * - domain lower-cased, a trailing dot dropped, and IDNs converted to their ASCII (punycode) form,
 *   so `bücher.example` and `xn--bcher-kva.example` compare equal.
 */
import { domainToASCII } from "node:url";

export interface SplitAddress {
  local: string;
  domain: string;
}

/** Recently normalised domains (a few senders' domains recur in every message; IDNA is not cheap). */
const domains = new Map<string, string>();
const DOMAIN_CACHE_SIZE = 1024;

/** The ASCII form of a domain (IDNA), lower-case; "" when it is not a valid domain. */
export function normaliseDomain(domain: string): string {
  const known = domains.get(domain);
  if (known !== undefined) return known;
  let d = domain.normalize("NFC").trim().toLowerCase();
  if (d.endsWith(".")) d = d.slice(0, -1);
  // domainToASCII returns "" for an invalid name; ASCII names pass through.
  const ascii = d === "" || /[\s@<>()[\],;:"\\]/.test(d) ? "" : domainToASCII(d);
  if (domains.size >= DOMAIN_CACHE_SIZE) domains.clear();
  domains.set(domain, ascii);
  return ascii;
}

/** `local@domain` in comparison form, or "" when the value is not an address. */
export function normaliseAddress(raw: string | undefined | null): string {
  const split = splitAddress(raw);
  return split ? `${split.local}@${split.domain}` : "";
}

/** Local part and domain in comparison form; undefined when the value is not an address. */
export function splitAddress(raw: string | undefined | null): SplitAddress | undefined {
  if (typeof raw !== "string") return undefined;
  let a = raw.normalize("NFC").trim();
  if (a.startsWith("<") && a.endsWith(">")) a = a.slice(1, -1).trim();
  if (/^mailto:/i.test(a)) a = a.slice(7);
  const at = a.lastIndexOf("@");
  if (at <= 0 || at === a.length - 1) return undefined;
  const local = a.slice(0, at).toLowerCase();
  if (/\s/.test(local)) return undefined;
  const domain = normaliseDomain(a.slice(at + 1));
  if (!domain) return undefined;
  return { local, domain };
}

/**
 * The local part without its sub-address tag: "alice+news" -> "alice" (separator "+").
 * A local part that starts with the separator is kept whole.
 */
export function baseLocalPart(local: string, separator = "+"): string {
  const cut = local.indexOf(separator);
  return cut > 0 ? local.slice(0, cut) : local;
}
