import { EventEmitter } from "node:events";
import type { ImapFlow } from "imapflow";
import { AbortedError, AuthError, type EmailChannelError, TlsError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { pause, withTimeout, withWatchdog } from "../runtime/abort.js";
import { backoffDelay } from "../runtime/backoff.js";
import { Mutex } from "../runtime/mutex.js";
import { classifyImapError, createImapClient } from "./connect.js";
import { type ImapLogin, imapLogin } from "./login.js";
import { IdleListener } from "./idle-listener.js";
import { Settlement } from "./settlement.js";
import { runSyncCycle } from "./sync-cycle.js";
import type { Disposition, WatcherHealth } from "./types.js";
import type { MailboxWatcherOptions } from "./watcher-options.js";

/**
 * Messages of one cycle handed over and not yet settled, at most: deep enough that the conversion
 * workers always have the next messages queued while this thread records, threads and guards the
 * earlier ones (with 8, a worker waited for this thread between conversions and a backlog drained
 * 12-20 % slower in alternating runs of bench/inbound.ts (b)). The messages are in memory already (fetched whole, in groups
 * of bounded bytes); the window bounds their conversions and results waiting for their turn.
 */
export const HANDOVER_WINDOW = 32;
/**
 * Raw bytes of those messages, at most: big messages (up to the 1 MiB fetched whole) keep fewer in
 * flight, so the results waiting for their turn (decoded text, headers) stay bounded; the hostile
 * mail proof's peak memory was at its limit with 32 of them.
 */
const HANDOVER_WINDOW_BYTES = 4 * 1024 * 1024;

export type { MailboxWatcherOptions } from "./watcher-options.js";

/**
 * Watches one mailbox of one account: IDLE push with a periodic sweep (or polling), reconnects with
 * backoff, a durable UID cursor. Emits "health" on every state change and "error" never: errors are
 * reported through health and logs so that no connection error can crash the host process.
 */
export class MailboxWatcher extends EventEmitter {
  readonly #o: MailboxWatcherOptions;
  readonly #log: Logger;
  readonly #mutex = new Mutex();
  readonly #settlement: Settlement;
  #abort = new AbortController();
  /** Aborted when mail must no longer be handed over (stopIntake, stop); the session may go on. */
  #intake = new AbortController();
  #client: ImapFlow | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #dirty = true;
  #health: WatcherHealth;
  #ready?: { resolve: () => void; reject: (e: Error) => void };
  #settleTimer: NodeJS.Timeout | undefined;
  /** Where a first start or a rescan that paused for the agent stage goes on (SyncContext.resumeAfter). */
  #resumeAfter: { uidValidity: string; uid: number } | undefined;
  /** Set at each new session: its first cycle first applies what the ledger says is still owed. */
  #owedToLoad = true;

  constructor(options: MailboxWatcherOptions) {
    super();
    this.#o = options;
    this.#log = options.logger.child({
      account: options.account.address,
      mailbox: options.mailbox,
      stage: "imap",
    });
    this.#settlement = new Settlement({
      account: options.account.address,
      mailbox: options.mailbox,
      store: options.store,
      logger: this.#log,
      ...(options.processedMailbox ? { processedMailbox: options.processedMailbox } : {}),
      ...(options.quarantineMailbox ? { quarantineMailbox: options.quarantineMailbox } : {}),
    });
    this.#health = {
      account: options.account.address,
      mailbox: options.mailbox,
      state: "stopped",
      mode: options.idle === false ? "poll" : "idle",
      reconnects: 0,
      consecutiveAuthFailures: 0,
    };
  }

  get health(): WatcherHealth {
    return { ...this.#health };
  }

  /** Starts watching; resolves after the first successful sync, rejects if the account fails for good. */
  start(): Promise<void> {
    if (this.#loop) return Promise.resolve();
    this.#abort = new AbortController();
    this.#intake = new AbortController();
    const ready = new Promise<void>((resolve, reject) => {
      this.#ready = { resolve, reject };
    });
    this.#loop = this.#run().catch((error) =>
      this.#log.error({ err: error }, "watcher loop ended unexpectedly"),
    );
    return ready;
  }

  /**
   * Ends the wait of start() (it rejects with AbortedError) without stopping the watcher: for a stop
   * that comes while the first sync is still awaited, e.g. a server down since boot, retried forever.
   */
  abandonStart(): void {
    this.#ready?.reject(new AbortedError("imap", "stopped before the first sync"));
    this.#ready = undefined;
  }

  /**
   * Stops handing mail over: the cycle running ends after the messages it started, and later cycles
   * only apply settled dispositions. The connection stays open, so messages whose handling ends
   * meanwhile are still flagged or moved (call stop() once they are). Resolves when no cycle runs,
   * or after `maxWaitMs` (a cycle stuck on a dead connection is ended by stop() closing it).
   */
  async stopIntake(maxWaitMs = 5000): Promise<void> {
    this.#intake.abort();
    await withTimeout(
      this.#mutex.run(async () => undefined),
      maxWaitMs,
      () => new Error("cycle still running"),
    ).catch((error) => this.#log.debug({ err: error }, "stopping: the sync cycle did not end in time"));
  }

  /**
   * Stops: hands nothing more over, applies the dispositions settled so far (bounded), aborts waits,
   * closes the socket, resolves when the loop has ended. Idempotent.
   */
  async stop(): Promise<void> {
    this.abandonStart();
    this.#intake.abort();
    clearTimeout(this.#settleTimer);
    this.#settleTimer = undefined;
    const client = this.#client;
    if (this.#settlement.size > 0) {
      // Flush settled dispositions before leaving, bounded: what is not applied stays owed in the ledger.
      const count = this.#settlement.size;
      const flushed = client?.usable
        ? withTimeout(
            this.#mutex.run(() => this.#settlement.flush(client)),
            5000,
            () => new Error("flush timed out"),
          )
        : Promise.reject(new Error("not connected"));
      await flushed.catch((error) =>
        this.#log.warn(
          { err: error, count },
          "could not flag or move the messages settled before stopping; the next session will",
        ),
      );
    }
    this.#abort.abort();
    this.#wake?.();
    this.#client?.close();
    await this.#loop;
    this.#loop = undefined;
    this.#setHealth({ state: "stopped" });
  }

  /** Something happened (EXISTS, a settle): run a sync cycle soon. */
  kick(): void {
    this.#dirty = true;
    this.#wake?.();
  }

  /**
   * Records what to do with a message once its handling is settled; applied on this connection,
   * batched: the first settle arms a short timer and every settle until it fires joins the same
   * STORE/MOVE. Kicking a cycle per message would pull the connection out of IDLE each time, and a
   * connection that is not IDLEing hears of new mail late. `uidValidity`: the one the message was
   * handed over under (RawMessage.uidValidity); once the mailbox has another, the UID is not applied.
   */
  settle(uid: number, disposition: Disposition, uidValidity: string): void {
    if (disposition.action === "none") return;
    this.#settlement.add(uid, disposition, uidValidity);
    if (this.#settleTimer) return;
    this.#settleTimer = setTimeout(() => {
      this.#settleTimer = undefined;
      this.kick();
    }, this.#o.settleDelayMs ?? 1000);
  }

  #setHealth(patch: Partial<WatcherHealth>): void {
    this.#health = { ...this.#health, ...patch };
    this.emit("health", this.health);
  }

  async #run(): Promise<void> {
    let attempt = 0;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      this.#setHealth({ state: "connecting" });
      let client: ImapFlow | undefined;
      let login: ImapLogin | undefined;
      let listener: IdleListener | undefined;
      try {
        login = await imapLogin(this.#o.account, this.#o.tls, { signal, logger: this.#log });
        client = createImapClient({
          endpoint: this.#o.endpoint,
          tls: this.#o.tls,
          auth: login.auth,
          logger: this.#log,
          disableIdle: this.#o.idle === false,
          socketTimeoutMs: this.#o.socketTimeoutMs ?? 30_000,
        });
        // Listeners first: no connection error may surface as an unhandled 'error' event.
        client.on("error", (error: unknown) => this.#log.warn({ err: error }, "IMAP connection error"));
        const connection = client;
        const closed = new Promise<void>((resolve) => connection.once("close", () => resolve()));
        this.#client = client;
        await client.connect();
        await client.mailboxOpen(this.#o.mailbox);
        const canIdle = this.#o.idle !== false && client.capabilities.has("IDLE");
        this.#setHealth({ mode: canIdle ? "idle" : "poll" });
        if (this.#o.idle !== false && !canIdle) this.#log.warn("server lacks IDLE: polling instead");
        client.on("exists", () => this.kick());
        this.#dirty = true;
        this.#owedToLoad = true;
        if (canIdle && this.#o.listener !== false) listener = this.#listen();
        await this.#session(client, closed, canIdle);
        attempt = 0;
      } catch (error) {
        if (signal.aborted) break;
        // A session that was watching ended (server restart, dropped link): reconnect from the shortest
        // backoff again. Without this, every restart grew the delay until each blip cost 60 s.
        if (this.#health.state === "watching") attempt = 0;
        const e = classifyImapError(error, `${this.#o.endpoint.host}:${this.#o.endpoint.port}`);
        login?.failed(error);
        const fatalKind = e instanceof AuthError || e instanceof TlsError;
        const failures = fatalKind ? this.#health.consecutiveAuthFailures + 1 : 0;
        this.#setHealth({
          state: "backoff",
          consecutiveAuthFailures: failures,
          lastError: { code: e.code, message: e.message, at: new Date().toISOString() },
        });
        this.#log.warn({ err: e, code: e.code, attempt }, "IMAP session ended");
        if (fatalKind && failures >= (this.#o.maxAuthFailures ?? 3)) {
          this.#fail(e);
          break;
        }
      } finally {
        this.#client = undefined;
        client?.removeAllListeners("exists");
        client?.close();
        await listener?.stop();
      }
      if (signal.aborted) break;
      this.#health.reconnects++;
      const delay = backoffDelay(attempt++, {
        baseMs: this.#o.backoffBaseMs ?? 1000,
        maxMs: this.#o.backoffMaxMs ?? 60_000,
      });
      this.#log.info({ delayMs: delay }, "reconnecting after backoff");
      await pause(delay, signal);
    }
  }

  /** Starts the IDLE-only second connection of this session (see IdleListener). */
  #listen(): IdleListener {
    const listener = new IdleListener({
      endpoint: this.#o.endpoint,
      tls: this.#o.tls,
      account: this.#o.account,
      mailbox: this.#o.mailbox,
      logger: this.#log,
      onChange: () => this.kick(),
      socketTimeoutMs: this.#o.socketTimeoutMs ?? 30_000,
    });
    listener.start();
    return listener;
  }

  #fail(error: EmailChannelError): void {
    this.#setHealth({ state: "failed" });
    this.#log.error(
      { err: error, code: error.code },
      "account stopped: it keeps failing to log in; fix the credentials or certificate",
    );
    this.#ready?.reject(error);
    this.#ready = undefined;
  }

  /** Runs sync cycles on kicks, sweeps and poll ticks until the connection closes or stop() is called. */
  async #session(client: ImapFlow, closed: Promise<void>, canIdle: boolean): Promise<void> {
    const signal = this.#abort.signal;
    const interval = canIdle ? (this.#o.sweepIntervalMs ?? 60_000) : (this.#o.pollIntervalMs ?? 30_000);
    let isClosed = false;
    void closed.then(() => {
      isClosed = true;
      this.#wake?.();
    });
    while (!signal.aborted && !isClosed) {
      if (this.#dirty) {
        this.#dirty = false;
        // Bounded by progress, not by length: a big backlog or a 25 MB message over a slow link
        // may take minutes, but a cycle during which nothing arrives from the server and nothing
        // moves on for cycleTimeoutMs is stuck. The watchdog waits outside the lock: a cycle it
        // gives up on keeps the lock until it has really ended (its connection closed), so the next
        // session's cycle never runs beside it.
        let received = client.stats().received;
        const receiving = () => {
          const now = client.stats().received;
          const moved = now !== received;
          received = now;
          return moved;
        };
        await withWatchdog(
          (progress) => this.#mutex.run(() => this.#cycle(client, progress)),
          this.#o.cycleTimeoutMs ?? 45_000,
          () => {
            client.close();
            return new Error("sync cycle made no progress: the connection looks dead");
          },
          receiving,
        );
        if (this.#health.state !== "watching") {
          this.#setHealth({
            state: "watching",
            connectedAt: new Date().toISOString(),
            consecutiveAuthFailures: 0,
          });
          this.#ready?.resolve();
          this.#ready = undefined;
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#dirty = true;
          resolve();
        }, interval);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    if (isClosed && !signal.aborted) throw new Error("connection closed by the server or the network");
  }

  async #cycle(client: ImapFlow, progress: () => void): Promise<void> {
    // Queued behind a cycle the watchdog gave up on, this session's connection may be gone: a
    // cycle on it would only fail (and must not touch what the next session loads).
    if (!client.usable) throw new Error("the IMAP connection closed before its sync cycle ran");
    if (this.#owedToLoad) {
      // A session after a crash or a lost connection: what was settled but never applied.
      this.#owedToLoad = false;
      this.#settlement.loadOwed(client);
    }
    // Settled dispositions first, one command per kind (they change flags or move messages away).
    await this.#settlement.flush(client);
    if (this.#intake.signal.aborted) return;
    const result = await runSyncCycle(client, {
      account: this.#o.account.address,
      mailbox: this.#o.mailbox,
      store: this.#o.store,
      handler: this.#o.handler,
      logger: this.#log,
      initialSync: this.#o.initialSync ?? "unseen",
      maxMessageBytes: this.#o.maxMessageBytes ?? 25 * 1024 * 1024,
      batchSize: 100,
      inlineFetchBytes: 1024 * 1024,
      window: HANDOVER_WINDOW,
      windowBytes: HANDOVER_WINDOW_BYTES,
      dispose: (c, uid, d) => this.#settlement.now(c, uid, d),
      progress,
      ...(this.#resumeAfter ? { resumeAfter: this.#resumeAfter } : {}),
      signal: this.#intake.signal,
    });
    this.#resumeAfter =
      result.resumeAfter === undefined
        ? undefined
        : { uidValidity: result.uidValidity, uid: result.resumeAfter };
    this.#setHealth({ lastSyncAt: new Date().toISOString() });
    if (result.handedOver > 0) this.#log.debug({ ...result }, "sync cycle");
  }
}
