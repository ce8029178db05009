/**
 * Sender authentication from the Authentication-Results our own MTA wrote (RFC 8601).
 *
 * Which headers count: the A-R headers are read from the top of the message down; only the leading
 * run whose authserv-id is one of `authservIds` is trusted, at most `maxHeaders` of them (default 1).
 * Reading stops at the first header with another (or no) authserv-id: anything below it was added
 * before the message reached our MTA, i.e. by the sender or a hop we do not control, and a forged
 * "mx.ours; dmarc=pass" further down is ignored (RFC 8601 §5, §7.1). Inside the trusted run the
 * topmost result per method wins, so a forged header the MTA failed to strip cannot override one.
 * Set maxHeaders to 2 or 3 only when the MTA stack writes several headers (Postfix with OpenDKIM and
 * OpenDMARC milters); rspamd, Stalwart, Gmail and Fastmail write one.
 *
 * What passes (DMARC-style identifier alignment, RFC 7489 §3.1, relaxed mode):
 *  1. dmarc=pass (when header.from is given it must be the From domain);
 *  2. spf=pass whose smtp.mailfrom domain has the From domain's organisational domain;
 *  3. dkim=pass whose header.d (else the domain of header.i) is aligned the same way;
 *  4. auth=pass (RFC 8601 §2.7.4, SMTP AUTH at our own MTA) whose smtp.mailfrom or smtp.auth
 *     address is aligned: colleagues submitting through our server.
 * ARC results are parsed and reported, never trusted: ARC needs a list of trusted sealers.
 * An explicit dmarc=fail (or quarantine/reject) is a fail even when SPF or DKIM alone would pass:
 * the domain owner's published policy wins.
 */
import { normaliseAddress, normaliseDomain, splitAddress } from "./address.js";
import {
  type AuthMethodResult,
  type AuthenticationResults,
  parseAuthenticationResults,
} from "./auth-results.js";
import { headerValues } from "./header-values.js";
import { organisationalDomain } from "./org-domain.js";
import { type GuardInput, type GuardResult, refusal } from "./types.js";

export type SenderAuthPolicy = "off" | "warn" | "enforce";

export interface SenderAuthOptions {
  /**
   * authserv-ids of the MTAs whose Authentication-Results we trust (our border MTA or filter),
   * compared case-insensitively. Default: none, which makes the default policy "off".
   */
  authservIds?: readonly string[];
  /**
   * off: nothing is checked and nothing refused. warn: the verdict is computed and recorded, mail is
   * never refused. enforce: mail whose verdict is not "pass" is refused (a missing trusted header
   * too). Default: "enforce" when authservIds is non-empty, "off" otherwise.
   */
  policy?: SenderAuthPolicy;
  /** How many trusted headers at the top are read. Default 1; values below 1 are read as 1. */
  maxHeaders?: number;
  /** Organisational-domain function for alignment. Default: organisationalDomain (small built-in list). */
  orgDomain?: (domain: string) => string;
}

export type SenderAuthMethod = "dmarc" | "spf" | "dkim" | "auth";

export interface SenderAuthVerdict {
  result: "pass" | "fail" | "none";
  /** The method that passed, or the one that decided the fail. */
  method?: SenderAuthMethod;
  details: {
    policy: SenderAuthPolicy;
    fromDomain: string;
    /** authserv-ids of the headers that were read. */
    authservIds: string[];
    /** Method -> result as the trusted headers said (topmost first), e.g. { dmarc: "fail", spf: "pass" }. */
    results: Record<string, string>;
    /** What aligned or did not, in words. */
    reason: string;
  };
}

export type SenderAuthCheck = GuardResult & { verdict: SenderAuthVerdict };

function effectivePolicy(options: SenderAuthOptions): SenderAuthPolicy {
  if (options.policy) return options.policy;
  return (options.authservIds ?? []).length > 0 ? "enforce" : "off";
}

/** The trusted A-R headers: the leading run with a trusted authserv-id, at most maxHeaders. */
export function trustedAuthenticationResults(
  headers: Record<string, string[]>,
  options: SenderAuthOptions,
): AuthenticationResults[] {
  const trusted = new Set((options.authservIds ?? []).map((id) => id.trim().toLowerCase()));
  const max = Math.max(1, Math.floor(options.maxHeaders ?? 1));
  const out: AuthenticationResults[] = [];
  for (const value of headerValues(headers, "authentication-results")) {
    if (out.length >= max) break;
    const parsed = parseAuthenticationResults(value);
    if (!parsed || !trusted.has(parsed.authservId)) break;
    out.push(parsed);
  }
  return out;
}

/** The domain of a `user@domain`, `@domain` or bare `domain` identity; "" when unreadable. */
function identityDomain(value: string | undefined): string {
  if (!value) return "";
  const v = value.trim();
  const at = v.lastIndexOf("@");
  return normaliseDomain(at >= 0 ? v.slice(at + 1) : v);
}

export function evaluateSenderAuth(
  input: Pick<GuardInput, "from" | "headers">,
  options: SenderAuthOptions = {},
): SenderAuthVerdict {
  const policy = effectivePolicy(options);
  const orgOf = options.orgDomain ?? organisationalDomain;
  const fromDomain = splitAddress(input.from?.address)?.domain ?? "";
  const headers = policy === "off" ? [] : trustedAuthenticationResults(input.headers ?? {}, options);
  const details: SenderAuthVerdict["details"] = {
    policy,
    fromDomain,
    authservIds: headers.map((h) => h.authservId),
    results: {},
    reason: "",
  };
  const verdict = (result: SenderAuthVerdict["result"], reason: string, method?: SenderAuthMethod) => {
    details.reason = reason;
    return method ? { result, method, details } : { result, details };
  };
  if (policy === "off") return verdict("none", "sender authentication is off");
  if (headers.length === 0) return verdict("none", "no Authentication-Results from a trusted authserv-id");

  // Topmost result per method wins; dkim may carry several signatures, all from the first header
  // that reports dkim.
  const byMethod = new Map<string, AuthMethodResult[]>();
  for (const h of headers) {
    const seenHere = new Map<string, AuthMethodResult[]>();
    for (const r of h.results) {
      if (byMethod.has(r.method)) continue;
      seenHere.set(r.method, [...(seenHere.get(r.method) ?? []), r]);
    }
    for (const [m, rs] of seenHere) byMethod.set(m, rs);
  }
  for (const [m, rs] of byMethod) details.results[m] = rs.map((r) => r.result).join(",");
  if (!fromDomain) return verdict("fail", "the message has no usable From address");

  const fromOrg = orgOf(fromDomain);
  const aligned = (domain: string): boolean => domain !== "" && fromOrg !== "" && orgOf(domain) === fromOrg;

  const dmarc = byMethod.get("dmarc")?.[0];
  if (dmarc) {
    const headerFrom = normaliseDomain(dmarc.properties["header.from"] ?? "");
    const sameFrom = headerFrom === "" || headerFrom === fromDomain;
    if (dmarc.result === "pass" && sameFrom) return verdict("pass", `dmarc=pass for ${fromDomain}`, "dmarc");
    if (["fail", "quarantine", "reject"].includes(dmarc.result) && sameFrom) {
      return verdict("fail", `dmarc=${dmarc.result} for ${fromDomain}`, "dmarc");
    }
  }
  const spf = byMethod.get("spf")?.[0];
  if (spf?.result === "pass") {
    const d = identityDomain(spf.properties["smtp.mailfrom"]);
    if (aligned(d)) return verdict("pass", `spf=pass for ${d}, aligned with ${fromDomain}`, "spf");
  }
  for (const dkim of byMethod.get("dkim") ?? []) {
    if (dkim.result !== "pass") continue;
    const d = identityDomain(dkim.properties["header.d"] ?? dkim.properties["header.i"]);
    if (aligned(d)) return verdict("pass", `dkim=pass for ${d}, aligned with ${fromDomain}`, "dkim");
  }
  const auth = byMethod.get("auth")?.[0];
  if (auth?.result === "pass") {
    const d = identityDomain(auth.properties["smtp.mailfrom"] ?? auth.properties["smtp.auth"]);
    if (aligned(d)) return verdict("pass", `auth=pass for ${d}, aligned with ${fromDomain}`, "auth");
  }
  if (byMethod.size === 0) return verdict("none", "the trusted Authentication-Results report no method");
  return verdict("fail", `no dmarc pass and no spf/dkim pass aligned with ${fromDomain}`);
}

/** The sender-authentication guard: refuses only under policy "enforce". */
export function checkSenderAuth(
  input: Pick<GuardInput, "from" | "headers">,
  options: SenderAuthOptions = {},
): SenderAuthCheck {
  const verdict = evaluateSenderAuth(input, options);
  if (verdict.details.policy !== "enforce" || verdict.result === "pass") {
    return { ok: true, guard: "sender-auth", verdict };
  }
  const code = verdict.result === "none" ? "SENDER_AUTH_MISSING" : "SENDER_AUTH_FAILED";
  const who = normaliseAddress(input.from?.address) || "the sender";
  return {
    ...refusal("sender-auth", code, `${who} is not authenticated: ${verdict.details.reason}`),
    verdict,
  };
}
