/**
 * What the inbound pipeline reads from and writes to the state store for one message, as plain
 * functions of the store: duplicates, the thread it belongs to, and the hand-over record. The
 * pipeline decides when they run (its group commit) and reports what happened (logs, events).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import type { ResolvedConfig } from "../config/resolved.js";
import { headerMessageId } from "../imap/header-id.js";
import type { RawMessage } from "../imap/types.js";
import type { ConvertOptions, ParsedInbound } from "../mime/types.js";
import type { InboundRecord, StateStore } from "../store/types.js";
import { type ConversationResolution, normaliseMessageId, resolveConversation } from "../threading/index.js";
import { conversationParticipants, toThreadInput } from "./inbound-mapping.js";

export type Position = Pick<InboundRecord, "account" | "mailbox" | "uidValidity" | "uid">;

export function positionOf(m: Position): Position {
  return { account: m.account, mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid };
}

/** A position as one string (a map key). */
export function positionKey(p: Position): string {
  return `${p.account}\u0000${p.mailbox}\u0000${p.uidValidity}\u0000${p.uid}`;
}

export function samePosition(a: Position, b: Position): boolean {
  return (
    a.account === b.account && a.mailbox === b.mailbox && a.uidValidity === b.uidValidity && a.uid === b.uid
  );
}

const sameMailbox = (a: Position, b: Position) => a.account === b.account && a.mailbox === b.mailbox;

/**
 * A copy of this message at an older UIDVALIDITY of the same mailbox whose handling never finished
 * (a crash or a stop mid-agent, then the UIDVALIDITY changed): its old UID is gone, so it can only
 * finish through the new one, which takes it over. So does a copy still queued or with the agent in
 * this process: should the process stop before it ends, nothing would ever resume it (only records
 * of the current UIDVALIDITY are), so its message would be lost; taking it over costs at most a
 * second agent run, and the reply key (the Message-ID) still sends one reply.
 */
function unfinishedEarlierCopy(r: InboundRecord, where: Position): boolean {
  return r.status === "received" && sameMailbox(r, where) && r.uidValidity !== where.uidValidity;
}

/**
 * Of the records that hold a message's Message-ID (`copies`), the one that makes the copy at `where`
 * a duplicate: in another mailbox (only `acrossMailboxes`), or at an older UIDVALIDITY of this one
 * (always: a rescan must not hand over again what was handled), except an unfinished copy there
 * (unfinishedEarlierCopy).
 */
export function findDuplicate(
  copies: readonly InboundRecord[],
  where: Position,
  o: { acrossMailboxes: boolean },
): InboundRecord | undefined {
  return copies.find(
    (r) =>
      !samePosition(r, where) &&
      (o.acrossMailboxes || sameMailbox(r, where)) &&
      !unfinishedEarlierCopy(r, where),
  );
}

/** The copies the one at `where` takes over (unfinishedEarlierCopy). */
export function earlierUnfinished(copies: readonly InboundRecord[], where: Position): InboundRecord[] {
  return copies.filter((r) => unfinishedEarlierCopy(r, where));
}

/** Closes copies that the message at `where` was handed over in place of (with its hand-over record). */
export function recordSuperseded(store: StateStore, copies: readonly InboundRecord[], where: Position): void {
  for (const r of copies)
    store.inbound.put({
      ...r,
      status: "duplicate",
      reason: `the UIDVALIDITY changed before its handling finished; handed over again as uid ${where.uid} (UIDVALIDITY ${where.uidValidity})`,
    });
}

/**
 * The direct outcomes below (duplicate, oversized, unparseable; a guard's refusal in the pipeline)
 * record the change the mailbox owes them (\Seen, \Flagged, the quarantine move) in the same write
 * as their status: a crash between that write and the watcher's command leaves it owed, and the next
 * session applies it (Settlement.loadOwed).
 */

/** Records a message as a duplicate of `other` (owing \Seen); returns the reason. */
export function recordDuplicate(
  store: StateStore,
  where: Position,
  messageId: string,
  other: InboundRecord,
): string {
  const reason = `already received as ${other.account}/${other.mailbox} uid ${other.uid} (${other.status})`;
  store.inbound.put({
    ...where,
    messageId,
    status: "duplicate",
    attempts: 0,
    reason,
    mailboxTodo: "seen",
    ...(other.conversationId ? { conversationId: other.conversationId } : {}),
  });
  return reason;
}

/**
 * Resolves the conversation of a message against the store (threading's rules), reading each
 * conversation's participants once; `participantsOf` answers from the same reads, and `fresh()`
 * forgets them (after a commit that may have changed them).
 */
export class ThreadReader {
  #known = new Map<string, string[] | undefined>();

  constructor(
    private readonly store: StateStore,
    private readonly own: { addresses: string[]; domains: string[]; secret: Buffer },
  ) {}

  participantsOf = (conversationId: string): string[] | undefined => {
    if (!this.#known.has(conversationId))
      this.#known.set(conversationId, this.store.conversations.get(conversationId)?.participants);
    return this.#known.get(conversationId);
  };

  resolve(parsed: ParsedInbound): ConversationResolution {
    return resolveConversation(toThreadInput(parsed), {
      lookup: (id) => this.store.threads.get(id),
      participants: this.participantsOf,
      ownAddresses: this.own.addresses,
      ownDomains: this.own.domains,
      secret: this.own.secret,
    });
  }

  fresh(): void {
    this.#known = new Map();
  }
}

/**
 * The hand-over record: the thread link, the conversation (its people now include everybody this
 * message names) and the ledger entry, status `received` with its first attempt counted. Run inside
 * one transaction.
 */
export function recordHandover(
  store: StateStore,
  o: {
    where: Position;
    parsed: ParsedInbound;
    conversationId: string;
    participantsBefore: readonly string[];
    ownAddresses: readonly string[];
  },
): InboundRecord {
  const { where, parsed, conversationId } = o;
  const participants = conversationParticipants(o.participantsBefore, parsed, o.ownAddresses);
  const now = new Date().toISOString();
  store.threads.put({
    messageId: normaliseMessageId(parsed.messageId),
    conversationId,
    participants,
    direction: "in",
    at: now,
  });
  store.conversations.put({
    conversationId,
    account: where.account,
    subject: parsed.subject,
    participants,
    lastMessageId: parsed.messageId,
    lastReferences: parsed.references,
    updatedAt: now,
  });
  return store.inbound.put({
    ...where,
    messageId: parsed.messageId,
    conversationId,
    fromAddress: parsed.from?.address.toLowerCase(),
    subject: parsed.subject,
    status: "received",
    attempts: 1,
  });
}

/** Records a message too large to download as quarantined; returns its id and the reason. */
export function recordOversize(
  store: StateStore,
  m: Omit<RawMessage, "raw" | "resumed">,
  limit: number,
): { messageId: string; reason: string } {
  const messageId = m.envelopeMessageId ?? `oversize-${m.uidValidity}-${m.uid}@${m.account}`;
  const reason = `message of ${m.size} bytes exceeds max_message_bytes (${limit}); not downloaded`;
  store.inbound.put({
    ...positionOf(m),
    messageId,
    status: "quarantined",
    attempts: 0,
    reason,
    mailboxTodo: "quarantine",
  });
  return { messageId, reason };
}

/**
 * Records a message the converter could not read (or download, with that `reason`) as quarantined;
 * returns its id and the reason.
 */
export function recordUnparseable(
  store: StateStore,
  m: RawMessage,
  error: unknown,
  reason = `cannot parse: ${(error as Error).message}`,
): { messageId: string; reason: string } {
  const messageId =
    m.envelopeMessageId ??
    (Buffer.isBuffer(m.raw) ? headerMessageId(m.raw) : undefined) ??
    `unparsed-${m.uidValidity}-${m.uid}@${m.account}`;
  store.inbound.put({
    ...positionOf(m),
    messageId,
    status: "quarantined",
    attempts: 1,
    reason,
    mailboxTodo: "quarantine",
  });
  return { messageId, reason };
}

/**
 * A ledger record whose message left the mailbox before its handling finished: quarantined with
 * that reason (returned); undefined when there was nothing unfinished at that position.
 */
export function recordVanished(store: StateStore, where: Position): InboundRecord | undefined {
  const record = store.inbound.getByUid(where.account, where.mailbox, where.uidValidity, where.uid);
  if (record?.status !== "received") return undefined;
  return store.inbound.put({
    ...record,
    status: "quarantined",
    reason: "the message left the mailbox before its handling finished",
  });
}

/** Where the attachments of inbound mail are stored, one folder per account under it. */
export function attachmentsRoot(stateDir: string): string {
  return join(stateDir, "attachments");
}

/** A stable folder name for an account's attachments (never the raw address as a path). */
const accountFolder = (account: string) => createHash("sha256").update(account).digest("hex").slice(0, 16);

/** The converter's options for one account (build once per account: the converter caches its checks). */
export function convertOptionsFor(
  config: ResolvedConfig,
  account: string,
  signal: AbortSignal,
): ConvertOptions {
  return {
    attachmentDir: join(attachmentsRoot(config.stateDir), accountFolder(account)),
    maxAttachmentBytes: config.attachments.maxBytes,
    maxAttachments: config.attachments.maxCount,
    ...(config.attachments.allowTypes.length ? { allowTypes: config.attachments.allowTypes } : {}),
    ...(config.attachments.denyTypes.length ? { denyTypes: config.attachments.denyTypes } : {}),
    keepHtml: true,
    maxMessageBytes: config.watch.maxMessageBytes,
    signal,
  };
}
