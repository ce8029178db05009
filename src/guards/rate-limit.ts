/**
 * Rate limits per sender and per conversation over sliding windows.
 *
 * Decision and bookkeeping are separate: checkRateLimits only counts, recordRateLimitHit records.
 * Record once, for a message that was admitted (every guard said yes), in the same store
 * transaction that marks the message handled. Then:
 *  - a refused message is never counted, so a sender who keeps writing is admitted again as soon as
 *    the window slides, instead of locking themselves out for good;
 *  - a message processed twice (crash before the inbound record was finished, redelivery to another
 *    mailbox) is counted once, because the ledger says it was handled and it is not processed again.
 */
import { normaliseAddress } from "./address.js";
import { type GuardResult, refusal } from "./types.js";

export interface RateWindow {
  /** Messages admitted within the window; the next one is refused. 0 refuses everything. */
  max: number;
  /** Window length in seconds. */
  windowSeconds: number;
}

export interface RateLimits {
  /** Windows per sender address. Default: 10 per 10 minutes and 60 per hour. [] = no limit. */
  perSender?: readonly RateWindow[];
  /** Windows per conversation. Default: 20 per 10 minutes. [] = no limit. */
  perConversation?: readonly RateWindow[];
}

export const DEFAULT_RATE_LIMITS: Required<RateLimits> = {
  perSender: [
    { max: 10, windowSeconds: 600 },
    { max: 60, windowSeconds: 3600 },
  ],
  perConversation: [{ max: 20, windowSeconds: 600 }],
};

/** Sliding-window counter; RateRepo of the state store satisfies it. */
export interface RateCounter {
  /** Events recorded under `key` at or after `since` (the window includes its start). */
  count(key: string, since: Date): number;
  record(key: string, at: Date): void;
}

export interface RateSubject {
  /** Sender address (normalised here). Without one, the per-sender limit is skipped. */
  sender?: string;
  /** Without one, the per-conversation limit is skipped. */
  conversationId?: string;
  now: Date;
}

export type RateLimitVerdict = GuardResult & {
  /** Counts seen, for metadata: key -> { count, max, windowSeconds } of the tightest window. */
  usage: { key: string; count: number; max: number; windowSeconds: number }[];
};

/** The windows in force per scope: the given ones, the defaults where a scope is not given. */
function windowsOf(limits: RateLimits): Required<RateLimits> {
  return {
    perSender: limits.perSender ?? DEFAULT_RATE_LIMITS.perSender,
    perConversation: limits.perConversation ?? DEFAULT_RATE_LIMITS.perConversation,
  };
}

/** The counter keys a message is counted under. */
export function rateLimitKeys(subject: Omit<RateSubject, "now">): { sender?: string; conversation?: string } {
  const sender = normaliseAddress(subject.sender);
  return {
    ...(sender ? { sender: `sender:${sender}` } : {}),
    ...(subject.conversationId ? { conversation: `conversation:${subject.conversationId}` } : {}),
  };
}

export function checkRateLimits(
  subject: RateSubject,
  limits: RateLimits = {},
  counter: RateCounter,
): RateLimitVerdict {
  const { perSender, perConversation } = windowsOf(limits);
  if (perSender.length === 0 && perConversation.length === 0)
    return { ok: true, guard: "rate-limit", usage: [] };
  const keys = rateLimitKeys(subject);
  const scopes: { key: string | undefined; windows: readonly RateWindow[]; code: string; label: string }[] = [
    {
      key: keys.sender,
      windows: perSender,
      code: "RATE_LIMIT_SENDER",
      label: "sender",
    },
    {
      key: keys.conversation,
      windows: perConversation,
      code: "RATE_LIMIT_CONVERSATION",
      label: "conversation",
    },
  ];
  const usage: RateLimitVerdict["usage"] = [];
  for (const scope of scopes) {
    if (!scope.key) continue;
    for (const w of scope.windows) {
      const since = new Date(subject.now.getTime() - w.windowSeconds * 1000);
      const count = counter.count(scope.key, since);
      usage.push({ key: scope.key, count, max: w.max, windowSeconds: w.windowSeconds });
      if (count >= w.max) {
        const reason = `${scope.label} limit: ${count} messages in the last ${w.windowSeconds} s (max ${w.max})`;
        return { ...refusal("rate-limit", scope.code, reason), usage };
      }
    }
  }
  return { ok: true, guard: "rate-limit", usage };
}

/**
 * Counts an admitted message under its sender and conversation keys: only under a scope that has
 * windows in `limits` (the defaults when absent). A scope without limits is never read, so its hits
 * are not stored; limits configured later count from then on.
 */
export function recordRateLimitHit(
  subject: RateSubject,
  counter: RateCounter,
  limits: RateLimits = {},
): void {
  const keys = rateLimitKeys(subject);
  const { perSender, perConversation } = windowsOf(limits);
  if (keys.sender && perSender.length > 0) counter.record(keys.sender, subject.now);
  if (keys.conversation && perConversation.length > 0) counter.record(keys.conversation, subject.now);
}
