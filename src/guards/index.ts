/** Guards: the pure decisions taken before the agent sees a message. */
export { baseLocalPart, normaliseAddress, normaliseDomain, splitAddress } from "./address.js";
export type { SplitAddress } from "./address.js";
export { checkAllowlist, parseAllowlistEntry, validateAllowlist } from "./allowlist.js";
export type { AllowlistEntry, AllowlistOptions, AllowlistVerdict } from "./allowlist.js";
export { parseAuthenticationResults } from "./auth-results.js";
export type { AuthenticationResults, AuthMethodResult } from "./auth-results.js";
export { headerValues, parseContentType, stripComments, unquote } from "./header-values.js";
export type { ParsedContentType } from "./header-values.js";
export { checkLoop, detectLoopSignals, LOOP_KIND_ORDER } from "./loop.js";
export type { LoopFindings, LoopGuardOptions, LoopKind, LoopSignal, LoopVerdict } from "./loop.js";
export { MULTI_LABEL_SUFFIXES, organisationalDomain, relaxedAligned } from "./org-domain.js";
export {
  checkRateLimits,
  DEFAULT_RATE_LIMITS,
  rateLimitKeys,
  recordRateLimitHit,
} from "./rate-limit.js";
export type { RateCounter, RateLimits, RateLimitVerdict, RateSubject, RateWindow } from "./rate-limit.js";
export { recordAdmitted, runGuards } from "./run.js";
export type { GuardConfig, GuardDeps, GuardReport } from "./run.js";
export { checkSenderAuth, evaluateSenderAuth, trustedAuthenticationResults } from "./sender-auth.js";
export type {
  SenderAuthCheck,
  SenderAuthMethod,
  SenderAuthOptions,
  SenderAuthPolicy,
  SenderAuthVerdict,
} from "./sender-auth.js";
export type { GuardAddress, GuardInput, GuardName, GuardPass, GuardRefusal, GuardResult } from "./types.js";
