/**
 * The delivery copy (see OutboxDispatcherOptions.deliveryCopy): an extra envelope recipient, the
 * sending account's own address. These helpers keep it out of what a send reports.
 */
import type { Logger } from "../log/index.js";
import { mapSmtpError } from "../smtp/errors.js";
import type { SendResult } from "../smtp/types.js";

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The copy address to add to an envelope: none when there is none or it is a recipient already. */
export function deliveryCopyOf(recipients: readonly string[], copy: string | undefined): string | undefined {
  return copy && !recipients.some((r) => same(r, copy)) ? copy : undefined;
}

/**
 * The result as if the copy had not been asked for. When the server refused every real recipient
 * (and took only the copy) this throws what a send to those recipients alone fails with: a deferral
 * (retried) when one of the refusals was temporary, else a permanent refusal. SMTP cannot take the
 * message back at that point: the copy still reaches the account (recorded as its own mail), or,
 * where the server cannot deliver it (e.g. a copy that needs SMTPUTF8 on an LMTP hop without it),
 * the server's bounce does (recorded as a bounce). Neither is ever answered.
 */
export function withoutDeliveryCopy(
  result: SendResult,
  copy: string,
  recipients: readonly string[],
  log: Logger,
): SendResult {
  const rejected = result.rejected.filter((a) => !same(a, copy));
  const replies = result.rejectedReplies?.filter((r) => !same(r.recipient, copy));
  if (rejected.length < result.rejected.length)
    log.warn(
      { copy },
      "the server refused the delivery copy: a crash mid-send would leave this reply in doubt",
    );
  if (recipients.length > 0 && recipients.every((r) => rejected.some((x) => same(x, r)))) {
    const reply = replies?.find((r) => r.code !== undefined && r.code < 500) ?? replies?.at(-1);
    throw mapSmtpError({
      code: "EENVELOPE",
      command: "RCPT TO",
      message: "Can't send mail - all recipients were rejected",
      ...(reply?.code !== undefined ? { responseCode: reply.code } : {}),
      ...(reply?.response !== undefined ? { response: reply.response } : {}),
    });
  }
  return {
    response: result.response,
    accepted: result.accepted.filter((a) => !same(a, copy)),
    rejected,
    ...(replies && replies.length > 0 ? { rejectedReplies: replies } : {}),
  };
}
