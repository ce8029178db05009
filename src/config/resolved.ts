/** The validated, resolved configuration the library runs on (camelCase; secrets kept in `Secret`). */
import type { OAuth2Grant } from "../oauth2/types.js";

/**
 * A secret string: its value is read with `reveal()` where a protocol needs it, and it prints as
 * "[redacted]" through String(), JSON.stringify and util.inspect, so it cannot leak into a log or error.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "[redacted]";
  }
}

/** How TLS is used: implicit (993/465), required STARTTLS, or opportunistic STARTTLS. */
export type TlsMode = "implicit" | "starttls" | "opportunistic";

export interface ServerEndpoint {
  host: string;
  port: number;
  tls: TlsMode;
}

export interface TlsSettings {
  /** PEM contents of the extra CA (read from tls_ca_file), trusted in addition to the system CAs. */
  ca?: string;
  caFile?: string;
  rejectUnauthorized: boolean;
}

/** A login name and, unless the account signs in with OAuth 2.0, its password. */
export interface Login {
  username: string;
  password?: Secret;
}

export interface AccountConfig {
  address: string;
  name?: string;
  /** IMAP login; its password also logs in to CalDAV/CardDAV. */
  imap: Login;
  smtp: Login;
  /** OAuth 2.0: IMAP and SMTP log in with access tokens from this grant instead of the passwords. */
  oauth2?: OAuth2Grant;
  mailboxes: string[];
}

export interface RateWindow {
  max: number;
  windowSeconds: number;
}

export interface ResolvedConfig {
  enabled: boolean;
  imap: ServerEndpoint;
  smtp: ServerEndpoint & { maxConnections: number; rateLimitPerSecond: number };
  tls: TlsSettings;
  accounts: AccountConfig[];
  caldavUrl?: string;
  carddavUrl?: string;
  watch: {
    idle: boolean;
    /** See the `idle_listener_max_mailboxes` key. */
    idleListenerMaxMailboxes: number;
    pollIntervalMs: number;
    sweepIntervalMs: number;
    initialSync: "unseen" | "new" | "all";
    processedMailbox?: string;
    quarantineMailbox: string;
    maxAttempts: number;
    maxMessageBytes: number;
    dedupeAcrossMailboxes: boolean;
    concurrency: number;
    /** See the `convert_workers` key; 0 = convert in the main thread. */
    convertWorkers: number;
  };
  allowedSenders: string[];
  allowContacts: boolean;
  senderAuth: { policy: "off" | "warn" | "enforce"; authservIds: string[] };
  rateLimits: { perSender: RateWindow[]; perConversation: RateWindow[] };
  stateDir: string;
  timezone: string;
  reply: {
    replyAll: boolean;
    quoteOriginal: boolean;
    apology: string;
    sendStatus: boolean;
    saveToSent: boolean;
    /**
     * Every reply also goes to the account's own address (envelope only), so that a reply whose send
     * was cut off by a crash is recognised as delivered when its copy arrives instead of being sent
     * twice (see src/outbox/dispatcher.ts). The copy is filed like any mail from ourselves.
     */
    deliveryCopy: boolean;
  };
  agentTimeoutMs: number;
  attachments: { maxBytes: number; maxCount: number; allowTypes: string[]; denyTypes: string[] };
  reminders: { horizonDays: number; graceMinutes: number; defaultAlarmMinutes?: number; emailUser: boolean };
  davPollIntervalMs: number;
}
