import { createHash } from "node:crypto";
import { join } from "node:path";
import type { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type { MessageFormat, UserProfile } from "../contract/index.js";
import type { ResolvedConfig } from "../config/resolved.js";
import type { GuardInput, GuardRefusal } from "../guards/types.js";
import { headerMessageId } from "../imap/header-id.js";
import type { Disposition, MailboxHandler, RawMessage } from "../imap/types.js";
import type { Logger } from "../log/index.js";
import type { ConvertOptions, ParsedInbound } from "../mime/types.js";
import { toSenderProfile } from "../profiles/index.js";
import type { KeyedQueue } from "../runtime/keyed-queue.js";
import type { InboundRecord, StateStore } from "../store/types.js";
import { GroupCommit } from "../store/sqlite/group-commit.js";
import { normaliseMessageId, resolveConversation, threadCandidates } from "../threading/index.js";
import { conversationParticipants, toGuardInput } from "./inbound-mapping.js";
import { toMessageFormat } from "./message-format.js";

/** What the guard stage answers for one message. */
export interface GuardDecision {
  refusal?: GuardRefusal;
  /** Robot mail (auto-reply, bounce, list, loop): recorded, marked seen, never answered. */
  robot: boolean;
  verdicts: Record<string, unknown>;
  senderAuth?: unknown;
}

export interface InboundPipelineDeps {
  config: ResolvedConfig;
  store: StateStore;
  logger: Logger;
  secret: Buffer;
  ownAddresses: string[];
  ownDomains: string[];
  queue: KeyedQueue;
  events: EventEmitter;
  /** The converter; a message fetched whole comes as a Buffer, a big one as a stream. */
  convert(raw: Readable | Buffer, options: ConvertOptions): Promise<ParsedInbound>;
  guard(input: GuardInput, context: { account: string }): Promise<GuardDecision>;
  /** Records that a message passed the rate limits (after the decision, so a refusal is not counted twice). */
  recordAccepted(input: GuardInput): void;
  lookupProfile?(address: string): Promise<UserProfile | undefined>;
  /** Hands the message to the agent; resolves when the reply (if any) is durably in the outbox. */
  deliver(message: MessageFormat): Promise<void>;
  settle(account: string, mailbox: string, uid: number, disposition: Disposition): void;
  signal: AbortSignal;
}

type Position = Pick<InboundRecord, "account" | "mailbox" | "uidValidity" | "uid">;

/** A stable folder name for an account's attachments (never the raw address as a path). */
const accountFolder = (account: string) => createHash("sha256").update(account).digest("hex").slice(0, 16);

/**
 * The inbound stages after IMAP: convert -> de-duplicate -> thread -> guard -> record -> queue for the
 * agent. Each message is recorded in the ledger before the agent sees it; the mailbox is touched only
 * once its handling has settled.
 */
export class InboundPipeline {
  readonly #d: InboundPipelineDeps;
  readonly #log: Logger;
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  #sequence: Promise<void> = Promise.resolve();
  readonly #converting = new Map<string, ConvertOptions>();
  /** The hand-over writes of several messages share one commit (see GroupCommit). */
  readonly #writes: GroupCommit;
  /** Positions queued or running in this process. */
  readonly #inflight = new Set<string>();
  /** Positions waiting for an in-process retry (still in flight). */
  readonly #retrying = new Set<string>();

  constructor(deps: InboundPipelineDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ stage: "inbound" });
    this.#writes = new GroupCommit(deps.store);
  }

  handler(): MailboxHandler {
    return {
      onMessage: (m) => this.onMessage(m),
      onOversize: async (m, limit) => {
        const messageId = m.envelopeMessageId ?? `oversize-${m.uidValidity}-${m.uid}@${m.account}`;
        const reason = `message of ${m.size} bytes exceeds max_message_bytes (${limit}); not downloaded`;
        this.#d.store.inbound.put({ ...pos(m), messageId, status: "quarantined", attempts: 0, reason });
        this.#log.warn({ uid: m.uid, mailbox: m.mailbox, size: m.size }, "oversized message quarantined");
        this.#d.events.emit("quarantined", { ...pos(m), messageId, reason });
      },
      onVanished: async (account, mailbox, uidValidity, uid) => {
        const record = this.#d.store.inbound.getByUid(account, mailbox, uidValidity, uid);
        if (record?.status !== "received") return;
        const reason = "the message left the mailbox before its handling finished";
        this.#d.store.inbound.put({ ...record, status: "quarantined", reason });
        this.#log.warn({ uid, mailbox, messageId: record.messageId }, reason);
      },
    };
  }

  stop(): void {
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    this.#writes.flush();
  }

  /**
   * Converts at once (several messages may convert concurrently) and records in call order: the
   * watcher calls in UID order, so the ledger, the threads and the agent's queue see messages in
   * the order they arrived, whatever order their conversions finish in.
   */
  onMessage(m: RawMessage): Promise<Disposition | "pending"> {
    const converting = this.#convert(m);
    // The next message may start once this one is decided and its writes are queued (the group
    // commit keeps their order); it need not wait for the commit itself.
    let queued!: () => void;
    const decided = new Promise<void>((resolve) => {
      queued = resolve;
    });
    const result = this.#sequence.then(async () => this.#commit(m, await converting, queued));
    this.#sequence = Promise.race([decided, result]).then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #convert(m: RawMessage): Promise<{ parsed: ParsedInbound } | { error: unknown }> {
    try {
      return { parsed: await this.#d.convert(m.raw, this.#convertOptions(m.account)) };
    } catch (error) {
      if (!Buffer.isBuffer(m.raw)) m.raw.destroy();
      return { error };
    }
  }

  /** The converter's options for an account (one object per account: the converter caches its checks). */
  #convertOptions(account: string): ConvertOptions {
    let options = this.#converting.get(account);
    if (!options) {
      const d = this.#d;
      options = {
        attachmentDir: join(d.config.stateDir, "attachments", accountFolder(account)),
        maxAttachmentBytes: d.config.attachments.maxBytes,
        maxAttachments: d.config.attachments.maxCount,
        ...(d.config.attachments.allowTypes.length ? { allowTypes: d.config.attachments.allowTypes } : {}),
        ...(d.config.attachments.denyTypes.length ? { denyTypes: d.config.attachments.denyTypes } : {}),
        keepHtml: true,
        maxMessageBytes: d.config.watch.maxMessageBytes,
        signal: d.signal,
      };
      this.#converting.set(account, options);
    }
    return options;
  }

  async #commit(
    m: RawMessage,
    converted: { parsed: ParsedInbound } | { error: unknown },
    queued: () => void,
  ): Promise<Disposition | "pending"> {
    const d = this.#d;
    const where = pos(m);
    if ("error" in converted) {
      const error = converted.error;
      if (d.signal.aborted) throw error;
      const reason = `cannot parse: ${(error as Error).message}`;
      const messageId =
        m.envelopeMessageId ??
        (Buffer.isBuffer(m.raw) ? headerMessageId(m.raw) : undefined) ??
        `unparsed-${m.uidValidity}-${m.uid}@${m.account}`;
      d.store.inbound.put({ ...where, messageId, status: "quarantined", attempts: 1, reason });
      this.#log.warn({ uid: m.uid, mailbox: m.mailbox, err: error }, "unparseable message quarantined");
      d.events.emit("quarantined", { ...where, messageId, reason });
      return { action: "quarantine", reason };
    }
    const parsed = converted.parsed;
    const existing = d.store.inbound.getByUid(m.account, m.mailbox, m.uidValidity, m.uid);
    if (existing && existing.status !== "received") {
      // Settled while this copy was being fetched or converted (a concurrent cycle listed it as
      // unfinished before its handling ended): never hand it over again.
      return { action: "none" };
    }
    if (existing?.status === "received" && this.#inflight.has(key(where))) {
      // Already queued or running in this process (a reconnect re-listed it): never twice.
      return "pending";
    }
    if (existing?.status === "received" && existing.conversationId) {
      // Resumed after a crash or stop: guards already passed; same messageId = same idempotency key.
      this.#log.info(
        { uid: m.uid, messageId: parsed.messageId },
        "resuming a message whose handling never finished",
      );
      const message = await this.#format(parsed, m, existing.conversationId, "resumed", undefined);
      this.#enqueue(message, where);
      return "pending";
    }
    // Reads below must see the hand-overs still waiting for their commit when they concern the same
    // ids: threads (this message's id, In-Reply-To, References) and Message-ID duplicates.
    const { candidates } = threadCandidates(parsed);
    this.#writes.flushFor(candidates.map((id) => `id:${id}`));
    if (d.config.watch.dedupeAcrossMailboxes) {
      const other = d.store.inbound
        .getByMessageId(parsed.messageId)
        .find(
          (r) =>
            !(
              r.account === m.account &&
              r.mailbox === m.mailbox &&
              r.uidValidity === m.uidValidity &&
              r.uid === m.uid
            ),
        );
      if (other) {
        const reason = `already received as ${other.account}/${other.mailbox} uid ${other.uid} (${other.status})`;
        d.store.inbound.put({
          ...where,
          messageId: parsed.messageId,
          status: "duplicate",
          attempts: 0,
          reason,
          ...(other.conversationId ? { conversationId: other.conversationId } : {}),
        });
        this.#log.info({ uid: m.uid, messageId: parsed.messageId }, "duplicate Message-ID skipped");
        d.events.emit("duplicate", { ...where, messageId: parsed.messageId });
        return { action: "seen" };
      }
    }
    // Participants by conversation, read once per resolution (resolving and recording both need them).
    let known = new Map<string, string[] | undefined>();
    const participantsOf = (id: string) => {
      if (!known.has(id)) known.set(id, d.store.conversations.get(id)?.participants);
      return known.get(id);
    };
    const resolve = () =>
      resolveConversation(
        {
          messageId: parsed.messageId,
          ...(parsed.inReplyTo ? { inReplyTo: parsed.inReplyTo } : {}),
          references: parsed.references,
          ...(parsed.from ? { from: parsed.from } : {}),
          to: parsed.to,
          cc: parsed.cc,
          headers: parsed.headers,
          subject: parsed.subject,
        },
        {
          lookup: (id) => d.store.threads.get(id),
          participants: participantsOf,
          ownAddresses: d.ownAddresses,
          ownDomains: d.ownDomains,
          secret: d.secret,
        },
      );
    let thread = resolve();
    // A queued hand-over into the same conversation (or, with a per-sender limit, from the same
    // sender) changes what threading and the guards read: commit it first and resolve again.
    const sender = parsed.from?.address.toLowerCase();
    if (this.#writes.pending > 0) {
      this.#writes.flushFor(this.#keys(thread.conversationId, sender));
      if (this.#writes.pending === 0) {
        known = new Map();
        thread = resolve();
      }
    }
    const guardInput: GuardInput = toGuardInput(parsed, thread.conversationId);
    const decision = await d.guard(guardInput, { account: m.account });
    const common = {
      ...where,
      messageId: parsed.messageId,
      conversationId: thread.conversationId,
      fromAddress: parsed.from?.address.toLowerCase(),
      subject: parsed.subject,
    };
    if (decision.refusal) {
      const r = decision.refusal;
      d.store.inbound.put({ ...common, status: "ignored", attempts: 0, reason: `${r.code}: ${r.reason}` });
      this.#log.info(
        { uid: m.uid, messageId: parsed.messageId, guard: r.guard, code: r.code, from: common.fromAddress },
        "not answered",
      );
      d.events.emit("ignored", { ...common, guard: r.guard, code: r.code, reason: r.reason });
      return decision.robot ? { action: "seen" } : { action: "refused", reason: r.reason };
    }
    const participants = conversationParticipants(
      participantsOf(thread.conversationId) ?? [],
      parsed,
      d.ownAddresses,
    );
    const now = new Date().toISOString();
    // One transaction for everything the hand-over records: the thread link, the conversation, the
    // ledger entry and the rate-limit hits (counted only if the record commits), shared with the
    // hand-overs queued beside it; the agent sees the message only once it is committed.
    const written = this.#writes.run(() => {
      d.store.threads.put({
        messageId: normaliseMessageId(parsed.messageId),
        conversationId: thread.conversationId,
        participants,
        direction: "in",
        at: now,
      });
      d.store.conversations.put({
        conversationId: thread.conversationId,
        account: m.account,
        subject: parsed.subject,
        participants,
        lastMessageId: parsed.messageId,
        lastReferences: parsed.references,
        updatedAt: now,
      });
      // The first attempt is counted here, in the hand-over's own commit (see #handle).
      const record = d.store.inbound.put({ ...common, status: "received", attempts: 1 });
      d.recordAccepted(guardInput);
      return record;
    }, [`id:${normaliseMessageId(parsed.messageId)}`, ...this.#keys(thread.conversationId, sender)]);
    queued();
    const record = await written;
    const message = await this.#format(parsed, m, thread.conversationId, thread.via, decision);
    this.#enqueue(message, where, record);
    return "pending";
  }

  /** Keys a queued hand-over is filed under (see GroupCommit.flushFor). */
  #keys(conversationId: string, sender: string | undefined): string[] {
    const perSender = this.#d.config.rateLimits.perSender.length > 0;
    return [`conv:${conversationId}`, ...(sender && perSender ? [`sender:${sender}`] : [])];
  }

  async #format(
    parsed: ParsedInbound,
    m: RawMessage,
    conversationId: string,
    via: string,
    decision: GuardDecision | undefined,
  ): Promise<MessageFormat> {
    const sender = parsed.from?.address.toLowerCase();
    const profile =
      sender && this.#d.lookupProfile
        ? await this.#d.lookupProfile(sender).catch(() => undefined)
        : undefined;
    return toMessageFormat(parsed, {
      ...pos(m),
      conversationId,
      conversationVia: via,
      ...(decision ? { guards: decision.verdicts, senderAuth: decision.senderAuth } : {}),
      ...(profile ? { senderProfile: toSenderProfile(profile) } : {}),
    });
  }

  /** `counted`: the record whose first attempt the hand-over already counted (no write before the agent). */
  #enqueue(message: MessageFormat, where: Position, counted?: InboundRecord): void {
    this.#inflight.add(key(where));
    this.#d.queue
      .push(message.conversationId, () => this.#handle(message, where, counted))
      .catch((error) => this.#log.error({ err: error, messageId: message.messageId }, "handling crashed"))
      .finally(() => {
        if (!this.#retrying.has(key(where))) this.#inflight.delete(key(where));
      });
  }

  async #handle(message: MessageFormat, where: Position, counted?: InboundRecord): Promise<void> {
    const d = this.#d;
    if (d.signal.aborted) return; // left as "received": resumed at the next start
    // Every attempt is counted (committed) before the agent runs: the first one by the hand-over's
    // commit, a retry or a resumed message here, in a commit shared with the others. A process that
    // crashes on a message therefore meets it with a higher count each time and quarantines it.
    const record =
      counted ??
      (await this.#writes.run(() =>
        d.store.inbound.bumpAttempts(where.account, where.mailbox, where.uidValidity, where.uid),
      ));
    if (record?.status !== "received") return;
    const attempts = record.attempts;
    if (attempts > d.config.watch.maxAttempts) {
      this.#quarantine(
        record,
        `handling did not finish after ${attempts - 1} attempts (the process may have crashed on it)`,
      );
      return;
    }
    try {
      await d.deliver(message);
      await this.#writes.run(() => d.store.inbound.setStatus(where, "handled"));
      d.settle(where.account, where.mailbox, where.uid, { action: "seen" });
      const meta = message.metadata as { from?: { address?: string }; subject?: string };
      this.#log.info(
        {
          account: where.account,
          uid: where.uid,
          from: meta.from?.address,
          subject: meta.subject,
          conversationId: message.conversationId,
          attempts,
        },
        "handled",
      );
      d.events.emit("handled", {
        ...where,
        messageId: message.messageId,
        conversationId: message.conversationId,
      });
    } catch (error) {
      if (d.signal.aborted) return;
      this.#log.warn({ err: error, messageId: message.messageId, attempts }, "handling failed");
      if (attempts >= d.config.watch.maxAttempts) {
        this.#quarantine(record, `handling failed ${attempts} times: ${(error as Error).message}`);
        return;
      }
      const timer = setTimeout(
        () => {
          this.#retryTimers.delete(timer);
          this.#enqueue(message, where);
        },
        1000 * 2 ** attempts,
      );
      this.#retryTimers.add(timer);
    }
  }

  #quarantine(record: InboundRecord, reason: string): void {
    this.#d.store.inbound.put({ ...record, status: "quarantined", reason });
    this.#log.warn({ messageId: record.messageId, uid: record.uid }, `quarantined: ${reason}`);
    this.#d.settle(record.account, record.mailbox, record.uid, { action: "quarantine", reason });
    this.#d.events.emit("quarantined", { ...record, reason });
  }
}

const key = (p: Position) => `${p.account}\u0000${p.mailbox}\u0000${p.uidValidity}\u0000${p.uid}`;

function pos(m: Position): Position {
  return { account: m.account, mailbox: m.mailbox, uidValidity: m.uidValidity, uid: m.uid };
}
