import type { ImapFlow } from "imapflow";
import type { AccountConfig, ServerEndpoint, TlsSettings } from "../config/resolved.js";
import { classifyImapError, createImapClient } from "../imap/connect.js";
import { imapLogin } from "../imap/login.js";
import type { Logger } from "../log/index.js";
import { Mutex } from "../runtime/mutex.js";

/**
 * Appends a copy of each sent message to the account's Sent mailbox (found by SPECIAL-USE \Sent,
 * RFC 6154; "Sent" when the server marks none). One lazily opened connection per account, closed
 * after a minute without use and at stop().
 */
export class SentFolder {
  readonly #clients = new Map<string, { client: ImapFlow; sent: string; timer?: NodeJS.Timeout }>();
  readonly #mutex = new Mutex();
  #stopped = false;

  constructor(
    private readonly o: {
      endpoint: ServerEndpoint;
      tls: TlsSettings;
      accounts: AccountConfig[];
      logger: Logger;
      idleCloseMs?: number;
    },
  ) {}

  async append(account: string, raw: Uint8Array): Promise<void> {
    await this.#mutex.run(async () => {
      if (this.#stopped) throw new Error("stopped");
      const entry = await this.#connection(account);
      try {
        await entry.client.append(entry.sent, Buffer.from(raw), ["\\Seen"]);
      } catch (error) {
        this.#drop(account);
        throw classifyImapError(error, `${this.o.endpoint.host}:${this.o.endpoint.port}`);
      }
      this.#arm(account);
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const account of [...this.#clients.keys()]) this.#drop(account);
  }

  async #connection(account: string) {
    const existing = this.#clients.get(account);
    if (existing?.client.usable) return existing;
    if (existing) this.#drop(account);
    const config = this.o.accounts.find((a) => a.address === account);
    if (!config) throw new Error(`unknown account ${account}`);
    const login = await imapLogin(config, this.o.tls, { logger: this.o.logger });
    const client = createImapClient({
      endpoint: this.o.endpoint,
      tls: this.o.tls,
      auth: login.auth,
      logger: this.o.logger,
      disableIdle: true,
    });
    client.on("error", (error: unknown) =>
      this.o.logger.debug({ err: error }, "Sent-folder connection error"),
    );
    try {
      await client.connect();
    } catch (error) {
      client.close();
      login.failed(error);
      throw classifyImapError(error, `${this.o.endpoint.host}:${this.o.endpoint.port}`);
    }
    const boxes = await client.list();
    const sent = boxes.find((b) => b.specialUse === "\\Sent")?.path ?? "Sent";
    if (!boxes.some((b) => b.path === sent)) await client.mailboxCreate(sent).catch(() => undefined);
    const entry = { client, sent };
    this.#clients.set(account, entry);
    return entry;
  }

  #arm(account: string): void {
    const entry = this.#clients.get(account);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(
      () => this.#mutex.run(async () => this.#drop(account)),
      this.o.idleCloseMs ?? 60_000,
    );
    entry.timer.unref();
  }

  #drop(account: string): void {
    const entry = this.#clients.get(account);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.#clients.delete(account);
    entry.client.logout().catch(() => entry.client.close());
  }
}
