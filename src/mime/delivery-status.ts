/**
 * Delivery status notifications (RFC 3464, and RFC 6533 for message/global-delivery-status): the
 * machine-readable part of a bounce, read into what it says per recipient. Pure: text in, fields out.
 *
 * The part is a series of header-like field blocks separated by blank lines: the first describes
 * the message (Reporting-MTA, Original-Envelope-Id, Arrival-Date ...), each further one a recipient
 * (Final-Recipient, Action, Status, Diagnostic-Code ...). Only standard reports are read; a bounce
 * written as prose alone (old qmail, some webmail services) has no such part and yields nothing.
 */
import type { ParsedInbound } from "./types.js";

/** What a delivery status notification says about one recipient. */
export interface RecipientDeliveryStatus {
  /** Final-Recipient's address, lower-cased (the address the reporting MTA tried). */
  recipient: string;
  /** Original-Recipient's address (the one in the sender's RCPT TO, when it was given), lower-cased. */
  originalRecipient?: string;
  /** RFC 3464 §2.3.3, lower-cased: failed, delayed, delivered, relayed or expanded. */
  action: string;
  /** RFC 3463 enhanced status code, e.g. "5.1.1" (absent when the field is missing or malformed). */
  status?: string;
  /** Diagnostic-Code without its type, e.g. "550 5.1.1 <bob@example.com>: Recipient address rejected". */
  diagnostic?: string;
  /** Remote-MTA without its type, e.g. "mx.example.com". */
  remoteMta?: string;
}

/** One delivery status notification. */
export interface DeliveryReport {
  /** Original-Envelope-Id: the ENVID the sender gave in MAIL FROM (RFC 3461 §4.4), when it gave one. */
  envelopeId?: string;
  /** Reporting-MTA without its type. */
  reportingMta?: string;
  /** Message-ID of the message the report is about, read from the headers it returns (RFC 6522). */
  returnedMessageId?: string;
  /** Recipient blocks in report order (those without Final-Recipient or Action are left out). */
  recipients: RecipientDeliveryStatus[];
}

const STATUS_PARTS = new Set(["message/delivery-status", "message/global-delivery-status"]);

/** Splits a delivery-status body into its field blocks (lower-cased names, unfolded values). */
export function deliveryStatusBlocks(text: string): Record<string, string>[] {
  const blocks: Record<string, string>[] = [];
  let block: Record<string, string> | undefined;
  let last: string | undefined;
  for (const line of text.replace(/\r\n?/g, "\n").split("\n")) {
    if (line.trim() === "") {
      block = undefined;
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      // RFC 5322 §2.2.3 folding, as in any header block.
      if (block && last) block[last] = `${block[last]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    if (!block) {
      block = {};
      blocks.push(block);
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    // A field repeated within a block keeps its first value (the RFC allows each only once); the
    // repeat's continuation lines go with it.
    last = name in block ? undefined : name;
    if (last) block[last] = line.slice(colon + 1).trim();
  }
  return blocks;
}

/** "rfc822; Bob@Example.com" -> "Bob@Example.com": the value after its type (RFC 3464 §2.1.2). */
function typed(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const semicolon = value.indexOf(";");
  const out = (semicolon >= 0 ? value.slice(semicolon + 1) : value).trim();
  return out === "" ? undefined : out;
}

function address(value: string | undefined): string | undefined {
  const out = typed(value)?.replace(/^<|>$/g, "").trim().toLowerCase();
  return out || undefined;
}

/** Reads one delivery-status body. Undefined when it names no recipient. */
export function parseDeliveryStatus(text: string): Omit<DeliveryReport, "returnedMessageId"> | undefined {
  const message: Record<string, string> = {};
  const recipients: RecipientDeliveryStatus[] = [];
  for (const block of deliveryStatusBlocks(text)) {
    const recipient = address(block["final-recipient"]);
    const action = block.action?.trim().toLowerCase().split(/\s/)[0];
    if (!("final-recipient" in block) && !("action" in block)) {
      // Per-message fields (normally one block, before the recipients): the first value stands.
      for (const [name, value] of Object.entries(block)) if (!(name in message)) message[name] = value;
      continue;
    }
    if (!recipient || !action) continue;
    const original = address(block["original-recipient"]);
    const status = /\b[245]\.\d{1,3}\.\d{1,3}\b/.exec(block.status ?? "")?.[0];
    const diagnostic = typed(block["diagnostic-code"]);
    const remoteMta = typed(block["remote-mta"]);
    recipients.push({
      recipient,
      action,
      ...(original ? { originalRecipient: original } : {}),
      ...(status ? { status } : {}),
      ...(diagnostic ? { diagnostic } : {}),
      ...(remoteMta ? { remoteMta } : {}),
    });
  }
  if (recipients.length === 0) return undefined;
  const envelopeId = message["original-envelope-id"]?.trim();
  const reportingMta = typed(message["reporting-mta"]);
  return {
    recipients,
    ...(envelopeId ? { envelopeId } : {}),
    ...(reportingMta ? { reportingMta } : {}),
  };
}

/**
 * The delivery report of a converted message: a multipart/report of report-type delivery-status
 * with a readable status part. Undefined for anything else (other reports, prose-only bounces).
 */
export function readDeliveryReport(
  parsed: Pick<ParsedInbound, "reportType" | "reports" | "returnedMessageId">,
): DeliveryReport | undefined {
  if (parsed.reportType !== "delivery-status") return undefined;
  for (const part of parsed.reports) {
    if (!STATUS_PARTS.has(part.contentType)) continue;
    const report = parseDeliveryStatus(part.text);
    if (report)
      return {
        ...report,
        ...(parsed.returnedMessageId ? { returnedMessageId: parsed.returnedMessageId } : {}),
      };
  }
  return undefined;
}
