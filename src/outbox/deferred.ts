/**
 * Recipients a server deferred while taking the message for the others (pure). RFC 5321 §4.2.1: a
 * 4yz reply to RCPT TO is transient, so the message is owed to that recipient and goes to it again
 * later (a follow-up entry, see OutboxEntry.deferredFrom); a 5yz refusal is final.
 */
import type { SendResult } from "../smtp/types.js";

export interface DeferredRecipients {
  /** The entry's recipients (as the entry spells them) the server refused with a 4xx. */
  recipients: string[];
  /** The server's words for them, e.g. `450 4.1.2 <bob@example.test>: domain not found`. */
  error: string;
}

/**
 * The recipients of an accepted send that were refused temporarily, if any. A refusal without a
 * reply code (a host's own transport may not give one) is taken as final, as before follow-ups.
 */
export function deferredRecipients(
  recipients: readonly string[],
  result: SendResult,
): DeferredRecipients | undefined {
  const temporary = (result.rejectedReplies ?? []).filter(
    (r) => r.code !== undefined && r.code >= 400 && r.code < 500,
  );
  const deferred = recipients.filter((to) =>
    temporary.some((r) => r.recipient.toLowerCase() === to.toLowerCase()),
  );
  if (deferred.length === 0) return undefined;
  const words = temporary.map((r) => r.response ?? `${r.code} ${r.recipient}`);
  return { recipients: deferred, error: [...new Set(words)].join("; ").slice(0, 1000) };
}
