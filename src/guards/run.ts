/**
 * runGuards: loop guard, sender authentication, allowlist, rate limit, in that order. Every guard is
 * evaluated (their verdicts go into the inbound record's metadata); the first refusal decides.
 * Robots are stopped before anything else so that a bounce from a forged allowlisted address is
 * filed as a bounce, not as an authentication failure.
 */
import { type AllowlistVerdict, checkAllowlist } from "./allowlist.js";
import { checkLoop, type LoopGuardOptions, type LoopVerdict } from "./loop.js";
import {
  checkRateLimits,
  type RateCounter,
  type RateLimitVerdict,
  type RateLimits,
  recordRateLimitHit,
} from "./rate-limit.js";
import {
  checkSenderAuth,
  type SenderAuthCheck,
  type SenderAuthOptions,
  type SenderAuthVerdict,
} from "./sender-auth.js";
import type { GuardInput, GuardRefusal } from "./types.js";

export interface GuardConfig {
  loop?: LoopGuardOptions;
  senderAuth?: SenderAuthOptions;
  allowlist: {
    /** See AllowlistOptions.allowed. Empty admits nobody. */
    allowed: readonly string[];
    /** See AllowlistOptions.matchSubaddress. Default false. */
    matchSubaddress?: boolean;
  };
  /** Default DEFAULT_RATE_LIMITS. */
  rateLimits?: RateLimits;
}

export interface GuardDeps {
  /** Rate counter (the store's RateRepo). */
  counter: RateCounter;
  /** Extra allowlist admit source (preloaded contact addresses). */
  contacts?: (address: string) => boolean;
  /** Clock. Default: () => new Date(). */
  now?: () => Date;
}

export interface GuardReport {
  ok: boolean;
  /** The first refusal in guard order. */
  refusal?: GuardRefusal;
  verdicts: {
    loop: LoopVerdict;
    senderAuth: SenderAuthCheck;
    allowlist: AllowlistVerdict;
    rateLimit: RateLimitVerdict;
  };
  /** For MessageFormat.metadata.senderAuth. */
  senderAuth: SenderAuthVerdict;
  /** The instant the rate limit was checked at; pass it to recordAdmitted. */
  at: Date;
}

export function runGuards(input: GuardInput, config: GuardConfig, deps: GuardDeps): GuardReport {
  const at = (deps.now ?? (() => new Date()))();
  const loop = checkLoop(input, config.loop);
  const senderAuth = checkSenderAuth(input, config.senderAuth);
  const allowlist = checkAllowlist(input.from?.address, {
    allowed: config.allowlist.allowed,
    contacts: deps.contacts,
    matchSubaddress: config.allowlist.matchSubaddress,
    subaddressSeparator: config.loop?.subaddressSeparator,
  });
  const rateLimit = checkRateLimits(
    { sender: input.from?.address, conversationId: input.conversationId, now: at },
    config.rateLimits,
    deps.counter,
  );
  const first = [loop, senderAuth, allowlist, rateLimit].find((v): v is typeof v & GuardRefusal => !v.ok);
  const report: GuardReport = {
    ok: first === undefined,
    verdicts: { loop, senderAuth, allowlist, rateLimit },
    senderAuth: senderAuth.verdict,
    at,
  };
  if (first) {
    report.refusal = { ok: false, guard: first.guard, code: first.code, reason: first.reason, reply: false };
  }
  return report;
}

/**
 * Counts an admitted message for the rate limits. Call once, after runGuards said ok, in the same
 * store transaction that records the message as handled (see rate-limit.ts). Does nothing for a
 * refused report. Pass the same limits as to runGuards: a scope without limits is not recorded.
 */
export function recordAdmitted(
  input: GuardInput,
  report: GuardReport,
  counter: RateCounter,
  limits?: RateLimits,
): void {
  if (!report.ok) return;
  recordRateLimitHit(
    { sender: input.from?.address, conversationId: input.conversationId, now: report.at },
    counter,
    limits,
  );
}
