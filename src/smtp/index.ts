/** Outbound SMTP: the pooled sender, its options, rate limits and error mapping. */
export { mapSmtpError, mayHaveBeenAccepted } from "./errors.js";
export { SMTP_DEFAULTS, secureModeFromUseTls, toTransportOptions } from "./options.js";
export type { SmtpSecureMode, SmtpSenderOptions } from "./options.js";
export {
  abortableSleep,
  GlobalRateLimiter,
  MemoryRateEventStore,
  RecipientRateLimiter,
} from "./rate-limit.js";
export type { RateEventStore, RecipientRateLimit } from "./rate-limit.js";
export { SmtpSender } from "./sender.js";
export type { OutboundSender, RecipientReply, SendRequest, SendResult } from "./types.js";
