import type { EventEmitter } from "node:events";
import type { Readable } from "node:stream";
import type { MessageFormat, UserProfile } from "../contract/index.js";
import type { ResolvedConfig } from "../config/resolved.js";
import { NetworkError } from "../errors/index.js";
import type { GuardInput, GuardRefusal } from "../guards/types.js";
import type { Disposition, MailboxHandler, RawMessage } from "../imap/types.js";
import type { Logger } from "../log/index.js";
import type { ConvertOptions, ParsedInbound } from "../mime/types.js";
import { toSenderProfile } from "../profiles/index.js";
import type { KeyedQueue } from "../runtime/keyed-queue.js";
import type { StateStore } from "../store/types.js";
import { GroupCommit } from "../store/sqlite/group-commit.js";
import { normaliseMessageId, threadCandidates } from "../threading/index.js";
import { toGuardInput } from "./inbound-mapping.js";
import {
  convertOptionsFor,
  earlierUnfinished,
  findDuplicate,
  type Position,
  positionKey,
  positionOf,
  recordDuplicate,
  recordHandover,
  recordOversize,
  recordUnparseable,
  recordSuperseded,
  recordVanished,
  ThreadReader,
} from "./inbound-records.js";
import { toMessageFormat } from "./message-format.js";
import { type HandlingLimits, HandlingQueue } from "./handling-queue.js";

/** A download cut off this many times quarantines its message (see InboundPipeline.#downloadFailed). */
const DOWNLOAD_ATTEMPTS = 3;

type Converted = { parsed: ParsedInbound } | { error: unknown; downloadError?: unknown };

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
  /** See HandlingDeps.answered: a resumed message whose reply an earlier run recorded is not handed over again. */
  answered?(message: MessageFormat): boolean;
  /** See HandlingDeps.settle: the position carries the UIDVALIDITY the message was handed over under. */
  settle(where: Position, disposition: Disposition): void;
  /** See HandlingDeps.limits and onRoom. */
  limits?: Partial<HandlingLimits>;
  onRoom?(): void;
  /** Robot mail, once recorded as not answered: the channel reads bounces of its own mail from it. */
  onRobotMail?(parsed: ParsedInbound): void;
  signal: AbortSignal;
}

/**
 * The inbound stages after IMAP: convert -> de-duplicate -> thread -> guard -> record -> queue for the
 * agent. Each message is recorded in the ledger before the agent sees it; the mailbox is touched only
 * once its handling has settled.
 */
export class InboundPipeline {
  readonly #d: InboundPipelineDeps;
  readonly #log: Logger;
  #sequence: Promise<void> = Promise.resolve();
  readonly #converting = new Map<string, ConvertOptions>();
  /** Downloads cut off, per message position, in this process (see #downloadFailed). */
  readonly #downloadFailures = new Map<string, number>();
  /** The hand-over writes of several messages share one commit (see GroupCommit). */
  readonly #writes: GroupCommit;
  /** The agent stage: recorded messages queued per conversation. */
  readonly #handling: HandlingQueue;

  constructor(deps: InboundPipelineDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ stage: "inbound" });
    this.#writes = new GroupCommit(deps.store);
    this.#handling = new HandlingQueue({ ...deps, logger: this.#log, writes: this.#writes });
  }

  handler(): MailboxHandler {
    return {
      onMessage: (m) => this.onMessage(m),
      onOversize: async (m, limit) => {
        const { messageId, reason } = recordOversize(this.#d.store, m, limit);
        this.#log.warn({ uid: m.uid, mailbox: m.mailbox, size: m.size }, "oversized message quarantined");
        this.#d.events.emit("quarantined", { ...positionOf(m), messageId, reason });
      },
      saturated: () => this.#handling.saturated(),
      onVanished: async (account, mailbox, uidValidity, uid) => {
        const record = recordVanished(this.#d.store, { account, mailbox, uidValidity, uid });
        if (record) this.#log.warn({ uid, mailbox, messageId: record.messageId }, record.reason);
      },
    };
  }

  stop(): void {
    this.#handling.stop();
    this.#writes.flush();
  }

  /**
   * Converts at once (several messages may convert concurrently) and records in call order: the
   * watcher calls in UID order, so the ledger, the threads and the agent's queue see messages in
   * the order they arrived, whatever order their conversions finish in.
   */
  onMessage(m: RawMessage): Promise<Disposition | "pending"> {
    this.#handling.arriving(1);
    const converting = this.#convert(m);
    // The next message may start once this one is decided and its writes are queued (the group
    // commit keeps their order); it need not wait for the commit itself.
    let queued!: () => void;
    const decided = new Promise<void>((resolve) => {
      queued = resolve;
    });
    const result = this.#sequence
      .then(async () => this.#commit(m, await converting, queued))
      .finally(() => this.#handling.arriving(-1));
    this.#sequence = Promise.race([decided, result]).then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  async #convert(m: RawMessage): Promise<Converted> {
    // A streamed message arrives as its download goes: an error of that stream is the download's
    // (the connection lost, the message expunged meanwhile), not the message's.
    let downloadError: unknown;
    if (!Buffer.isBuffer(m.raw))
      m.raw.once("error", (error) => {
        downloadError ??= error;
      });
    try {
      return { parsed: await this.#d.convert(m.raw, this.#convertOptions(m.account)) };
    } catch (error) {
      if (!Buffer.isBuffer(m.raw)) m.raw.destroy();
      return downloadError === undefined ? { error } : { error, downloadError };
    }
  }

  /**
   * A download cut off: the message is not recorded (it stays in the mailbox, unseen) and the cycle
   * fails, so the next session fetches it again. Only a message whose download keeps failing is
   * quarantined, so that one message cannot hold the mailbox up.
   */
  #downloadFailed(m: RawMessage, error: unknown): { action: "quarantine"; reason: string } {
    const key = positionKey(m);
    const failures = (this.#downloadFailures.get(key) ?? 0) + 1;
    const detail = (error as Error)?.message ?? String(error);
    if (failures < DOWNLOAD_ATTEMPTS) {
      if (this.#downloadFailures.size >= 1000) this.#downloadFailures.clear();
      this.#downloadFailures.set(key, failures);
      this.#log.warn(
        { uid: m.uid, mailbox: m.mailbox, failures, err: error },
        "download cut off; fetched again",
      );
      throw new NetworkError(`the download of UID ${m.uid} in ${m.mailbox} was cut off: ${detail}`, {
        code: "IMAP_DOWNLOAD_FAILED",
        stage: "imap",
        cause: error,
      });
    }
    this.#downloadFailures.delete(key);
    return this.#quarantineUnread(
      m,
      error,
      `download failed ${failures} times: ${detail}`,
      "message quarantined: its download keeps failing",
    );
  }

  /** Records a message that could not be read as quarantined (`reason`: see recordUnparseable), logs, emits. */
  #quarantineUnread(
    m: RawMessage,
    error: unknown,
    reason: string | undefined,
    logged: string,
  ): { action: "quarantine"; reason: string } {
    const recorded = recordUnparseable(this.#d.store, m, error, reason);
    this.#log.warn({ uid: m.uid, mailbox: m.mailbox, err: error }, logged);
    this.#d.events.emit("quarantined", {
      ...positionOf(m),
      messageId: recorded.messageId,
      reason: recorded.reason,
    });
    return { action: "quarantine", reason: recorded.reason };
  }

  /** The converter's options for an account (one object per account: the converter caches its checks). */
  #convertOptions(account: string): ConvertOptions {
    let options = this.#converting.get(account);
    if (!options) {
      options = convertOptionsFor(this.#d.config, account, this.#d.signal);
      this.#converting.set(account, options);
    }
    return options;
  }

  async #commit(m: RawMessage, converted: Converted, queued: () => void): Promise<Disposition | "pending"> {
    const d = this.#d;
    const where = positionOf(m);
    if ("error" in converted) {
      const error = converted.error;
      if (d.signal.aborted) throw error;
      if ("downloadError" in converted) return this.#downloadFailed(m, converted.downloadError);
      return this.#quarantineUnread(m, error, undefined, "unparseable message quarantined");
    }
    const parsed = converted.parsed;
    const existing = m.unrecorded
      ? undefined
      : d.store.inbound.getByUid(m.account, m.mailbox, m.uidValidity, m.uid);
    if (existing && existing.status !== "received") {
      // Settled while this copy was being fetched or converted (a concurrent cycle listed it as
      // unfinished before its handling ended): never hand it over again.
      return { action: "none" };
    }
    if (existing?.status === "received" && this.#handling.has(where)) {
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
      this.#handling.enqueue(message, where);
      return "pending";
    }
    // Reads below must see the hand-overs still waiting for their commit when they concern the same
    // ids: threads (this message's id, In-Reply-To, References) and Message-ID duplicates.
    const { candidates } = threadCandidates(parsed);
    this.#writes.flushFor(candidates.map((id) => `id:${id}`));
    const copies = d.store.inbound.getByMessageId(parsed.messageId);
    const other = findDuplicate(copies, where, { acrossMailboxes: d.config.watch.dedupeAcrossMailboxes });
    if (other) {
      recordDuplicate(d.store, where, parsed.messageId, other);
      this.#log.info({ uid: m.uid, messageId: parsed.messageId }, "duplicate Message-ID skipped");
      d.events.emit("duplicate", { ...where, messageId: parsed.messageId });
      return { action: "seen" };
    }
    const threads = new ThreadReader(d.store, {
      addresses: d.ownAddresses,
      domains: d.ownDomains,
      secret: d.secret,
    });
    let thread = threads.resolve(parsed);
    // A queued hand-over into the same conversation (or, with a per-sender limit, from the same
    // sender) changes what threading and the guards read: commit it first and resolve again.
    const sender = parsed.from?.address.toLowerCase();
    if (this.#writes.pending > 0) {
      this.#writes.flushFor(this.#keys(thread.conversationId, sender));
      if (this.#writes.pending === 0) {
        threads.fresh();
        thread = threads.resolve(parsed);
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
      // Robot mail owes \Seen, a refused sender \Flagged: written with the status (see inbound-records).
      d.store.inbound.put({
        ...common,
        status: "ignored",
        attempts: 0,
        reason: `${r.code}: ${r.reason}`,
        mailboxTodo: decision.robot ? "seen" : "refused",
      });
      this.#log.info(
        { uid: m.uid, messageId: parsed.messageId, guard: r.guard, code: r.code, from: common.fromAddress },
        "not answered",
      );
      d.events.emit("ignored", { ...common, guard: r.guard, code: r.code, reason: r.reason });
      if (decision.robot) d.onRobotMail?.(parsed);
      return decision.robot ? { action: "seen" } : { action: "refused", reason: r.reason };
    }
    // One transaction for everything the hand-over records: the thread link, the conversation, the
    // ledger entry and the rate-limit hits (counted only if the record commits), shared with the
    // hand-overs queued beside it; the agent sees the message only once it is committed.
    const participantsBefore = threads.participantsOf(thread.conversationId) ?? [];
    const superseded = earlierUnfinished(copies, where);
    const written = this.#writes.run(() => {
      if (superseded.length > 0) recordSuperseded(d.store, superseded, where);
      const record = recordHandover(d.store, {
        where,
        parsed,
        conversationId: thread.conversationId,
        participantsBefore,
        ownAddresses: d.ownAddresses,
      });
      d.recordAccepted(guardInput);
      return record;
    }, [`id:${normaliseMessageId(parsed.messageId)}`, ...this.#keys(thread.conversationId, sender)]);
    queued();
    const record = await written;
    const message = await this.#format(parsed, m, thread.conversationId, thread.via, decision);
    this.#handling.enqueue(message, where, record);
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
      ...positionOf(m),
      conversationId,
      conversationVia: via,
      ...(decision ? { guards: decision.verdicts, senderAuth: decision.senderAuth } : {}),
      ...(profile ? { senderProfile: toSenderProfile(profile) } : {}),
    });
  }
}
