import { EventEmitter, setMaxListeners } from "node:events";
import { join } from "node:path";
import type { ResolvedConfig } from "../config/resolved.js";
import { BaseChannel } from "../contract/base-channel.js";
import type {
  Agent,
  MessageFormat,
  ProfileSink,
  ReminderSink,
  SendOptions,
  SentMessage,
} from "../contract/index.js";
import { AbortedError, EmailChannelError } from "../errors/index.js";
import { HANDOVER_WINDOW, type MailboxWatcher } from "../imap/mailbox-watcher.js";
import type { WatcherHealth } from "../imap/types.js";
import { createLogger, type Logger } from "../log/index.js";
import { ConvertPool, convertMessage } from "../mime/index.js";
import { KeyedQueue } from "../runtime/keyed-queue.js";
import { accessTokensFor, rotatedRefreshTokensIn } from "../oauth2/index.js";
import { openSqliteStore } from "../store/index.js";
import { deliveryReportHandler } from "./delivery-reports.js";
import type { StateStore } from "../store/types.js";
import { answerMessage } from "./answer.js";
import { AccountTools } from "./agent-tools.js";
import { GuardStage } from "./guard-stage.js";
import { domainOf, threadSecret } from "./identity.js";
import { InboundPipeline } from "./inbound-pipeline.js";
import type { EmailChannelOptions } from "./options.js";
import { Outbound, replyKey } from "./outbound.js";
import {
  buildFeeds,
  buildOutbox,
  buildSenders,
  buildWatchers,
  type Running,
  stopParts,
  warnAboutAllowlist,
  watcherKey,
} from "./parts.js";
import { contactsAllowlist, ProfileIndex } from "../profiles/index.js";

/**
 * The email channel: an assistant's mailbox behind the runtime's BaseChannel contract. It wires the
 * stages together (IMAP watcher -> converter -> guards -> threading -> agent -> composer -> outbox ->
 * SMTP, plus the Sent copy); each stage lives in its own folder.
 */
export class EmailChannel extends BaseChannel {
  readonly name = "email";
  readonly events = new EventEmitter();
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly reminderSink: ReminderSink | undefined;
  readonly profileSink: ProfileSink | undefined;
  readonly #options: EmailChannelOptions;
  #running: Running | undefined;
  #starting: Promise<void> | undefined;
  /** stop() was called while start() was still waiting for the first syncs. */
  #startAbandoned = false;
  #stopping: Promise<void> | undefined;

  constructor(agent: Agent, options: EmailChannelOptions) {
    super(agent, options.registry);
    this.#options = options;
    this.config = options.config;
    this.logger = options.logger ?? createLogger();
    this.contractLogger = this.logger;
    this.apologyText = options.config.reply.apology;
    this.reminderSink = options.reminderSink;
    this.profileSink = options.profileSink;
  }

  /** The state store in use (after start()). */
  get store(): StateStore | undefined {
    return this.#running?.store;
  }

  /**
   * The agent's calendar and contacts tools for one monitored account (default: the first): create,
   * update and delete events and contacts with conditional writes. Needs start() (the synced state).
   */
  tools(account?: string): AccountTools {
    const r = this.#requireRunning();
    const found = account
      ? this.config.accounts.find((a) => a.address === account.toLowerCase())
      : this.config.accounts[0];
    if (!found)
      throw new EmailChannelError(`${account} is not a monitored account`, {
        code: "UNKNOWN_ACCOUNT",
        stage: "channel",
        kind: "config",
      });
    return new AccountTools(this.config, r.store, found);
  }

  #requireRunning(): Running {
    if (!this.#running) {
      throw new EmailChannelError("the channel is not started", {
        code: "NOT_STARTED",
        stage: "channel",
        kind: "internal",
      });
    }
    return this.#running;
  }

  /** One health line per watched mailbox. */
  health(): WatcherHealth[] {
    return [...(this.#running?.watchers.values() ?? [])].map((w) => w.health);
  }

  /** Begins watching every monitored account; resolves when each is watching (or has failed for good). */
  start(): Promise<void> {
    if (this.#running && !this.#starting) return Promise.resolve();
    if (!this.#starting) this.#startAbandoned = false;
    this.#starting ??= this.#start().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #start(): Promise<void> {
    await this.#stopping;
    const c = this.config;
    const log = this.logger;
    const store = this.#options.store ?? openSqliteStore({ path: join(c.stateDir, "state.sqlite") });
    const abort = new AbortController();
    // Every conversion and every agent run in flight listens to this signal: up to a hand-over
    // window of conversions per watched mailbox and `concurrency` agent runs, plus a few waits
    // (16). Bounded, so not a leak: without this the host would see Node's leak warning.
    const mailboxes = c.accounts.reduce((n, a) => n + a.mailboxes.length, 0);
    setMaxListeners(16 + HANDOVER_WINDOW * mailboxes + c.watch.concurrency, abort.signal);
    const secret = threadSecret(store);
    const ownAddresses = c.accounts.map((a) => a.address);
    const ownDomains = [...new Set(ownAddresses.map(domainOf))];
    warnAboutAllowlist(c, log);
    const profileIndex = new ProfileIndex(this.#profiles(store)!);
    const guards = new GuardStage({
      config: c,
      store,
      ownAddresses,
      contacts: contactsAllowlist(profileIndex),
    });
    // OAuth 2.0 accounts keep a refresh token their provider rotates in the store, across restarts.
    for (const a of c.accounts)
      if (a.oauth2)
        accessTokensFor(a.oauth2, c.tls, log).keepRotated(rotatedRefreshTokensIn(store, a.address, a.oauth2));
    const senders = buildSenders(c, log, this.#options.senderFactory);
    const { dispatcher, sentFolder } = buildOutbox({ c, store, senders, log, events: this.events });
    const outbound = new Outbound({
      config: c,
      store,
      dispatcher,
      secret,
      logger: log.child({ stage: "outbound" }),
      events: this.events,
      ...(this.registry ? { registry: this.registry } : {}),
      allowed: (a) => guards.allows(a),
    });
    const queue = new KeyedQueue(c.watch.concurrency);
    const customConvert = this.#options.convert;
    const converter =
      !customConvert && c.watch.convertWorkers > 0
        ? new ConvertPool({ workers: c.watch.convertWorkers, logger: log.child({ stage: "mime" }) })
        : undefined;
    let watchers = new Map<string, MailboxWatcher>();
    const pipeline = new InboundPipeline({
      config: c,
      store,
      logger: log,
      secret,
      ownAddresses,
      ownDomains,
      queue,
      events: this.events,
      convert:
        customConvert ?? (converter ? (raw, options) => converter.convert(raw, options) : convertMessage),
      guard: (input) => guards.decide(input),
      recordAccepted: (input) => guards.recordAccepted(input),
      // The in-memory index (loaded before the watchers start, kept current by each CardDAV sync):
      // no store query per message.
      lookupProfile: (addr: string) => profileIndex.lookupByEmail(addr),
      deliver: (message) => this.handleMessage(message),
      answered: (message) => store.outbox.get(replyKey(message.messageId)) !== undefined,
      settle: (where, disposition) =>
        watchers
          .get(watcherKey(where.account, where.mailbox))
          ?.settle(where.uid, disposition, where.uidValidity),
      ...(this.#options.handlingLimits ? { limits: this.#options.handlingLimits } : {}),
      // The agent stage had filled up and the watchers paused: they go on.
      onRoom: () => {
        for (const w of watchers.values()) w.kick();
      },
      onRobotMail: deliveryReportHandler({
        store,
        events: this.events,
        logger: log.child({ stage: "outbox" }),
      }),
      signal: abort.signal,
    });
    watchers = buildWatchers({ c, store, handler: pipeline.handler(), log, events: this.events });
    const { calendar, contacts } = buildFeeds({
      c,
      store,
      log,
      events: this.events,
      outbound,
      reminderSink: this.reminderSink ?? store.reminders,
      profileSink: this.#profiles(store)!,
      profileIndex,
    });
    this.#running = {
      store,
      ownsStore: !this.#options.store,
      abort,
      queue,
      watchers,
      dispatcher,
      senders,
      sentFolder,
      pipeline,
      outbound,
      guards,
      calendar,
      contacts,
      ...(converter ? { converter } : {}),
    };
    // Contacts admit senders (allow_contacts) and enrich messages from the first sync on: the index
    // is loaded from the stored profiles before any watcher hands a message over.
    await contacts.loadStored();
    await dispatcher.start();
    const starts = [...watchers.values()].map((w) => w.start());
    if (this.#startAbandoned) for (const w of watchers.values()) w.abandonStart();
    const results = await Promise.allSettled(starts);
    // stop() came first (it stops what was started): start() rejects.
    if (this.#startAbandoned)
      throw new AbortedError("channel", "stop() was called before every account was watching");
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length === results.length && failed.length > 0) {
      // Not stop(): it waits for this very start() to settle, which would never happen.
      await this.#stop({ fromStart: true });
      throw failed[0]!.reason instanceof EmailChannelError
        ? failed[0]!.reason
        : new EmailChannelError(String(failed[0]!.reason), {
            code: "START_FAILED",
            stage: "channel",
            kind: "internal",
          });
    }
    for (const f of failed) log.error({ err: f.reason }, "an account could not start; the others keep going");
    // CalDAV/CardDAV: a DAV outage must not keep mail from flowing, so their first sync is awaited
    // (it ends clean or not, it never throws) only after the watchers listen.
    await Promise.all([calendar.start(), contacts.start()]);
    log.info(
      { accounts: c.accounts.length, mailboxes: watchers.size, failed: failed.length },
      "email channel listening",
    );
  }

  #profiles(store: StateStore): ProfileSink | undefined {
    return this.profileSink ?? store.profiles;
  }

  /** Stops listening, lets in-flight handling finish (bounded), closes every socket and timer. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop().finally(() => {
      this.#stopping = undefined;
    });
    return this.#stopping;
  }

  async #stop(o: { fromStart?: boolean } = {}): Promise<void> {
    if (!o.fromStart && this.#starting) {
      // start() waits for every watcher's first sync, which a server down since boot never gives
      // (it is retried forever): end that wait, then stop what was started.
      this.#startAbandoned = true;
      for (const w of this.#running?.watchers.values() ?? []) w.abandonStart();
      await this.#starting.catch(() => undefined);
    }
    const r = this.#running;
    if (!r) return;
    this.#running = undefined;
    await stopParts(r, { stopTimeoutMs: this.#options.stopTimeoutMs ?? 30_000, log: this.logger });
    this.logger.info("email channel stopped");
  }

  /**
   * Email sends one reply per inbound message: the agent's outputs are joined. On an agent error, or
   * a reply that cannot be composed (an attachment over the limit, an address refused), a short
   * apology is sent instead (and the error logged); the agent is not run again for it (see
   * answerMessage). The reply's idempotency key is the inbound Message-ID, so handing the same
   * message over again never sends a second reply.
   */
  override async handleMessage(message: MessageFormat): Promise<void> {
    const r = this.#requireRunning();
    await this.registry?.logMessage({
      direction: "in",
      channel: this.name,
      conversationId: message.conversationId,
      userId: message.userId,
      messageId: message.messageId,
      content: message.content,
      at: new Date(),
    });
    await answerMessage(
      this.agent,
      message,
      { threadId: this.getThreadId(message.conversationId), channel: this },
      {
        timeoutMs: this.config.agentTimeoutMs,
        signal: r.abort.signal, // stopping: the message stays unfinished and resumes later
        apology: this.apologyText,
        ...(this.config.reply.sendStatus
          ? { onStatus: (t: string) => void this.sendStatus(message.conversationId, t) }
          : {}),
        logger: this.logger,
        reply: (body, kind) => r.outbound.reply(message, body, replyKey(message.messageId), kind),
      },
    );
  }

  /** Replies into a known conversation, or starts one with `options.to` and `options.subject`. */
  async sendMessage(conversationId: string, content: string, options?: SendOptions): Promise<SentMessage> {
    const r = this.#requireRunning();
    if (options?.kind === "status" && !this.config.reply.sendStatus) {
      return { messageId: "", conversationId, status: "sent", recipients: [] };
    }
    return r.outbound.send(conversationId, content, options);
  }

  /** Progress notes are dropped by email unless `reply.send_status` is on. */
  override async sendStatus(conversationId: string, text: string): Promise<void> {
    if (!this.config.reply.sendStatus || !this.#running) return;
    await this.#running.outbound
      .send(conversationId, text)
      .catch((error) => this.logger.warn({ err: error }, "status note not sent"));
  }
}
