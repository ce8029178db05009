import type { AccountConfig, ServerEndpoint, TlsSettings } from "../config/resolved.js";
import type { Logger } from "../log/index.js";
import type { StateStore } from "../store/types.js";
import type { MailboxHandler } from "./types.js";

export interface MailboxWatcherOptions {
  account: AccountConfig;
  mailbox: string;
  endpoint: ServerEndpoint;
  tls: TlsSettings;
  store: StateStore;
  handler: MailboxHandler;
  logger: Logger;
  /** Use IDLE when the server offers it. Default true. */
  idle?: boolean;
  /** Poll interval without IDLE, ms. Default 30000. */
  pollIntervalMs?: number;
  /** Full sweep interval while IDLEing, ms (catches what a dead IDLE missed). Default 60000. */
  sweepIntervalMs?: number;
  /**
   * A sync cycle that makes no progress for this long (nothing received from the server, no message
   * settled) is on a dead link: the connection is dropped. A cycle that keeps moving may take as
   * long as it needs. Default 45000 ms.
   */
  cycleTimeoutMs?: number;
  initialSync?: "unseen" | "new" | "all";
  /** Default 25 MiB. */
  maxMessageBytes?: number;
  processedMailbox?: string;
  quarantineMailbox?: string;
  /** After this many authentication (or certificate) failures in a row the account stops. Default 3. */
  maxAuthFailures?: number;
  /** Backoff between reconnects, ms. Defaults 1000 .. 60000 with jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Socket inactivity timeout, ms. Default 30000 (see ImapConnectOptions.socketTimeoutMs: half-open within a minute). */
  socketTimeoutMs?: number;
  /** Settled messages are flagged/moved in batches this long after the first settle, ms. Default 1000. */
  settleDelayMs?: number;
  /**
   * In IDLE mode, keep a second connection that only IDLEs on the mailbox (see IdleListener: a
   * connection that leaves IDLE for its commands hears of new mail up to 500 ms later on Dovecot).
   * Default true; false = one connection per mailbox, IDLEing between its commands. It doubles the
   * IMAP sessions of an account: mind the server's per-user limit (Dovecot 10 per user and IP by
   * default, Gmail 15); the channel turns it off for accounts watching more than 4 mailboxes.
   */
  listener?: boolean;
}
