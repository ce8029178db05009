/**
 * Bounces of the channel's own mail. A delivery status notification that reaches a watched mailbox
 * is robot mail (never answered, see the loop guard); when it is about a message the outbox sent,
 * found by the ENVID the message was sent with or else by the Message-ID of the headers it returns,
 * what it says is stored on that outbox entry and emitted as "bounced" or "deliveryDelayed".
 */
import type { EventEmitter } from "node:events";
import type { Logger } from "../log/index.js";
import { readDeliveryReport } from "../mime/delivery-status.js";
import type { ParsedInbound } from "../mime/types.js";
import { mergeDeliveryReport } from "../outbox/delivery-reports.js";
import type { OutboxEntry, StateStore } from "../store/types.js";

export interface DeliveryReportDeps {
  store: StateStore;
  events: EventEmitter;
  logger: Logger;
  now?: () => Date;
}

/**
 * For InboundPipelineDeps.onRobotMail: records the bounces among robot mail. The robot mail itself
 * is recorded already, so a failure here is logged and changes nothing else.
 */
export function deliveryReportHandler(deps: DeliveryReportDeps): (parsed: ParsedInbound) => void {
  return (parsed) => {
    try {
      recordDeliveryReport(deps, parsed);
    } catch (error) {
      deps.logger.warn({ err: error, report: parsed.messageId }, "could not record a delivery report");
    }
  };
}

/** Records what a delivery report says about a sent message. Returns the entry it was about, if any. */
export function recordDeliveryReport(
  deps: DeliveryReportDeps,
  parsed: ParsedInbound,
): OutboxEntry | undefined {
  const report = readDeliveryReport(parsed);
  if (!report) return undefined;
  const outbox = deps.store.outbox;
  const entry =
    (report.envelopeId ? outbox.getByEnvelopeId(report.envelopeId) : undefined) ??
    (report.returnedMessageId ? firstSent(outbox.getByMessageId(report.returnedMessageId)) : undefined);
  if (!entry) {
    deps.logger.debug(
      { report: parsed.messageId, envelopeId: report.envelopeId, returned: report.returnedMessageId },
      "delivery report about a message the outbox did not send",
    );
    return undefined;
  }
  const at = deps.now?.() ?? new Date();
  const merged = mergeDeliveryReport(entry.deliveryReport, report, entry.recipients, parsed.messageId, at);
  if (!merged) return entry;
  outbox.setDeliveryReport(entry.key, merged.report);
  const failed = merged.changed.some((r) => r.action === "failed");
  const info = {
    key: entry.key,
    messageId: entry.messageId,
    conversationId: entry.conversationId,
    recipients: merged.changed,
  };
  deps.logger.warn(
    { ...info, report: parsed.messageId },
    failed ? "a sent message bounced" : "delivery of a sent message is delayed",
  );
  deps.events.emit(failed ? "bounced" : "deliveryDelayed", info);
  return entry;
}

/**
 * Of the entries with one Message-ID, the latest that is not a follow-up to recipients a server
 * deferred: it names every recipient a report may be about (a follow-up names only the deferred).
 */
function firstSent(entries: OutboxEntry[]): OutboxEntry | undefined {
  return entries.filter((e) => !e.deferredFrom).at(-1) ?? entries.at(-1);
}
