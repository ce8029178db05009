import type { ImapFlow } from "imapflow";
import type { AccountConfig, ServerEndpoint, TlsSettings } from "../config/resolved.js";
import type { Logger } from "../log/index.js";
import { pause } from "../runtime/abort.js";
import { backoffDelay } from "../runtime/backoff.js";
import { createImapClient } from "./connect.js";
import { type ImapLogin, imapLogin } from "./login.js";

export interface IdleListenerOptions {
  endpoint: ServerEndpoint;
  tls: TlsSettings;
  /** The account whose login (password or access token, see imapLogin) the listener uses. */
  account: AccountConfig;
  mailbox: string;
  logger: Logger;
  /** Called when the listener hears new mail (EXISTS), and once after each (re)connect. */
  onChange: () => void;
  /** Socket inactivity timeout, ms. Default 30000 (see ImapConnectOptions.socketTimeoutMs). */
  socketTimeoutMs?: number;
  /** Backoff between reconnects, ms. Defaults 1000 .. 60000 with jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/**
 * A second connection that does nothing but IDLE on the watched mailbox and report new mail.
 *
 * Why: servers batch IDLE notifications per session. Dovecot (src/lib-storage/mailbox-watch.c)
 * arms a 500 ms timer (NOTIFY_DELAY_MSECS) at the first change it sees in the mailbox after the
 * session entered IDLE and reports EXISTS when it fires; DONE removes the watch and the timer. A
 * connection that leaves IDLE for every FETCH and STORE therefore always waits the full 500 ms
 * after a delivery, while a session that stays in IDLE has its timer armed by earlier changes
 * (other sessions' flag updates, its own move of new mail to cur/) and usually hears sooner. This
 * connection stays in IDLE (restarted every maxIdleTime), so the watcher hears of new mail as soon
 * as any plain IDLE client does; the commands run on the watcher's own connection.
 *
 * Failures never propagate: the watcher's connection still IDLEs between its commands, so losing
 * the listener only makes new mail slower to arrive. It reconnects with backoff until stopped.
 */
export class IdleListener {
  readonly #o: IdleListenerOptions;
  readonly #abort = new AbortController();
  #client: ImapFlow | undefined;
  #loop: Promise<void> | undefined;
  #listening = false;

  constructor(options: IdleListenerOptions) {
    this.#o = options;
  }

  /** True while the connection is up with the mailbox selected. */
  get listening(): boolean {
    return this.#listening;
  }

  /** Connects in the background; never throws. */
  start(): void {
    this.#loop ??= this.#run().catch((error) =>
      this.#o.logger.warn({ err: error }, "IDLE listener ended unexpectedly"),
    );
  }

  /** Closes the connection and resolves when the loop has ended. Idempotent. */
  async stop(): Promise<void> {
    this.#abort.abort();
    this.#client?.close();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const signal = this.#abort.signal;
    const aborted = new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    let attempt = 0;
    while (!signal.aborted) {
      let client: ImapFlow | undefined;
      let login: ImapLogin | undefined;
      try {
        login = await imapLogin(this.#o.account, this.#o.tls, { signal, logger: this.#o.logger });
        client = createImapClient({
          endpoint: this.#o.endpoint,
          tls: this.#o.tls,
          auth: login.auth,
          logger: this.#o.logger,
          socketTimeoutMs: this.#o.socketTimeoutMs ?? 30_000,
        });
        client.on("error", (error: unknown) =>
          this.#o.logger.debug({ err: error }, "IDLE listener connection error"),
        );
        const connection = client;
        const closed = new Promise<void>((resolve) => connection.once("close", () => resolve()));
        this.#client = client;
        await client.connect();
        await client.mailboxOpen(this.#o.mailbox);
        client.on("exists", () => this.#o.onChange());
        this.#listening = true;
        attempt = 0;
        // imapflow enters IDLE by itself once the connection is quiet (autoIdleDelay).
        this.#o.onChange();
        await Promise.race([closed, aborted]);
      } catch (error) {
        login?.failed(error);
        if (!signal.aborted) this.#o.logger.debug({ err: error }, "IDLE listener could not connect");
      } finally {
        this.#listening = false;
        this.#client = undefined;
        client?.removeAllListeners("exists");
        client?.close();
      }
      if (signal.aborted) break;
      const delay = backoffDelay(attempt++, {
        baseMs: this.#o.backoffBaseMs ?? 1000,
        maxMs: this.#o.backoffMaxMs ?? 60_000,
      });
      this.#o.logger.debug({ delayMs: delay }, "IDLE listener reconnecting after backoff");
      await pause(delay, signal);
    }
  }
}
