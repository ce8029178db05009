/**
 * Who may talk to the assistant. Entries (EMAIL_ALLOWED_SENDERS / allowed_senders):
 *
 *   alice@example.org     that address (case-insensitive, IDN domains in either form)
 *   *@example.org         every address at exactly that domain (not its subdomains)
 *   *@*.example.org       every address at any subdomain of example.org (not example.org itself;
 *                         list both entries to admit both)
 *   *                     everybody (an explicit choice; the channel logs it at start)
 *
 * An empty list admits nobody. Entries that are none of these (`@example.org`, `example.org`,
 * `a*@example.org`) never match; validateAllowlist reports them so config loading can reject them.
 *
 * Sub-addresses: with the default `matchSubaddress: false`, `alice+x@example.org` is NOT admitted
 * by the entry `alice@example.org`. Who owns a "+" local part is the domain's business: most
 * providers deliver it to alice, some treat it as a different mailbox, and people send From their
 * plain address anyway (tags are for receiving). An entry may name the tagged address itself.
 * Turn matchSubaddress on to let any `alice+tag@` match `alice@` (the tag is cut at the first "+").
 *
 * `contacts` is an extra admit source (CardDAV contacts): called with the normalised address when
 * no entry matched. It is synchronous: preload the contacts' addresses into a set.
 */
import { baseLocalPart, normaliseAddress, normaliseDomain, splitAddress } from "./address.js";
import { type GuardResult, refusal } from "./types.js";

export interface AllowlistOptions {
  /** Allowlist entries, see above. Default: none (nobody is admitted). */
  allowed: readonly string[];
  /** Extra admit source, e.g. a set of CardDAV contact addresses. Default: none. */
  contacts?: (address: string) => boolean;
  /** Let `alice+tag@d` match the entry `alice@d`. Default false. */
  matchSubaddress?: boolean;
  /** Sub-address separator. Default "+". */
  subaddressSeparator?: string;
}

export type AllowlistEntry =
  | { kind: "everyone"; entry: string }
  | { kind: "address"; entry: string; address: string }
  | { kind: "domain"; entry: string; domain: string }
  | { kind: "subdomains"; entry: string; domain: string };

/** Reads one entry; a string explaining the problem when it is not a valid entry. */
export function parseAllowlistEntry(raw: string): AllowlistEntry | string {
  const entry = typeof raw === "string" ? raw.trim() : "";
  if (entry === "") return "empty entry";
  if (entry === "*") return { kind: "everyone", entry };
  const sub = /^\*@\*\.(.+)$/.exec(entry);
  if (sub) {
    const domain = normaliseDomain(sub[1]!);
    return domain ? { kind: "subdomains", entry, domain } : `invalid domain in "${entry}"`;
  }
  const dom = /^\*@(.+)$/.exec(entry);
  if (dom) {
    const domain = normaliseDomain(dom[1]!);
    return domain && !domain.includes("*")
      ? { kind: "domain", entry, domain }
      : `invalid domain in "${entry}"`;
  }
  if (entry.includes("*")) return `"${entry}": "*" is only allowed as "*", "*@domain" or "*@*.domain"`;
  const address = normaliseAddress(entry);
  if (!address) return `"${entry}" is not an address; use "name@domain" or "*@domain"`;
  return { kind: "address", entry, address };
}

/** Problems with the entries (empty when all are valid), for config validation. */
export function validateAllowlist(entries: readonly string[]): string[] {
  return entries.map(parseAllowlistEntry).filter((e): e is string => typeof e === "string");
}

export type AllowlistVerdict =
  | (GuardResult & { ok: true; via: "entry"; entry: string })
  | (GuardResult & { ok: true; via: "contact" })
  | (GuardResult & { ok: false });

function matches(
  entry: AllowlistEntry,
  address: string,
  local: string,
  domain: string,
  options: AllowlistOptions,
): boolean {
  switch (entry.kind) {
    case "everyone":
      return true;
    case "domain":
      return domain === entry.domain;
    case "subdomains":
      return domain.endsWith(`.${entry.domain}`);
    case "address": {
      if (address === entry.address) return true;
      if (!options.matchSubaddress) return false;
      return `${baseLocalPart(local, options.subaddressSeparator ?? "+")}@${domain}` === entry.address;
    }
  }
}

export function checkAllowlist(address: string | undefined, options: AllowlistOptions): AllowlistVerdict {
  const split = splitAddress(address);
  if (!split) return refusal("allowlist", "ALLOWLIST_NO_SENDER", "the message has no usable From address");
  const normalised = `${split.local}@${split.domain}`;
  for (const raw of options.allowed) {
    const entry = parseAllowlistEntry(raw);
    if (typeof entry === "string") continue;
    if (matches(entry, normalised, split.local, split.domain, options)) {
      return { ok: true, guard: "allowlist", via: "entry", entry: entry.entry };
    }
  }
  if (options.contacts?.(normalised)) return { ok: true, guard: "allowlist", via: "contact" };
  return refusal("allowlist", "ALLOWLIST_DENIED", `${normalised} is not on the allowlist`);
}
