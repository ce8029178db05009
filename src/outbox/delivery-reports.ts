/**
 * Bounces of the channel's own messages: the ENVID each message is sent with, and how a delivery
 * status notification (RFC 3464) is merged into its outbox entry. Pure apart from the hash.
 *
 * A report counts only for recipients of the entry it names (Final-Recipient or Original-Recipient
 * among the entry's envelope recipients): a report about anybody else, forged or misrouted, changes
 * nothing.
 */
import { createHash } from "node:crypto";
import type { DeliveryReport, RecipientDeliveryStatus } from "../mime/delivery-status.js";
import type { OutboxDeliveryReport } from "../store/types.js";

/**
 * The ENVID (RFC 3461 §4.4) a message is sent with: 32 hex digits of SHA-256 over its Message-ID.
 * Hex needs no xtext encoding and stays well under the 100 characters the RFC allows; a hash tells
 * the servers on the way nothing about the conversation.
 */
export function envelopeIdFor(messageId: string): string {
  return createHash("sha256").update(messageId).digest("hex").slice(0, 32);
}

/** Actions worth recording: a bounce (failed) and a warning that delivery is late (delayed). */
const RECORDED = new Set(["failed", "delayed"]);

/** Report Message-IDs kept per entry (to merge each report once); the oldest go first. */
export const MAX_REPORTS_KEPT = 20;

export interface MergedDeliveryReport {
  report: OutboxDeliveryReport;
  /** The recipient statuses this report added or changed. */
  changed: OutboxDeliveryReport["recipients"];
}

/**
 * Merges one report into what an entry has. Undefined when it changes nothing: it names none of
 * `recipients` as failed or delayed, or it was merged before (same report Message-ID). A recipient
 * that failed stays failed whatever a later "delayed" report says.
 */
export function mergeDeliveryReport(
  previous: OutboxDeliveryReport | undefined,
  report: DeliveryReport,
  recipients: readonly string[],
  reportMessageId: string,
  at: Date,
): MergedDeliveryReport | undefined {
  if (previous?.reports.includes(reportMessageId)) return undefined;
  const ours = new Set(recipients.map((r) => r.toLowerCase()));
  const statuses = new Map((previous?.recipients ?? []).map((r) => [r.recipient, r]));
  const changed: OutboxDeliveryReport["recipients"] = [];
  for (const r of report.recipients) {
    const recipient = ourRecipient(r, ours);
    if (!recipient || !RECORDED.has(r.action)) continue;
    const before = statuses.get(recipient);
    if (before?.action === "failed" && r.action !== "failed") continue;
    const status = {
      recipient,
      action: r.action,
      ...(r.status ? { status: r.status } : {}),
      ...(r.diagnostic ? { diagnostic: r.diagnostic } : {}),
      at: at.toISOString(),
    };
    statuses.set(recipient, status);
    changed.push(status);
  }
  if (changed.length === 0) return undefined;
  const merged = [...statuses.values()];
  return {
    report: {
      outcome: merged.some((r) => r.action === "failed") ? "failed" : "delayed",
      recipients: merged,
      reports: [...(previous?.reports ?? []), reportMessageId].slice(-MAX_REPORTS_KEPT),
    },
    changed,
  };
}

/** The entry's recipient a report block is about, if it is one of them. */
function ourRecipient(r: RecipientDeliveryStatus, ours: Set<string>): string | undefined {
  if (ours.has(r.recipient)) return r.recipient;
  if (r.originalRecipient && ours.has(r.originalRecipient)) return r.originalRecipient;
  return undefined;
}
