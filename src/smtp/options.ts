/**
 * SmtpSender options and their translation into nodemailer transport options (pure).
 */
import type { SMTPPoolOptions } from "nodemailer/lib/smtp-pool";
import type { Logger } from "../log/index.js";
import type { RateEventStore, RecipientRateLimit } from "./rate-limit.js";

/**
 * How TLS is used (CONTRACT.md: `*_USE_TLS=true` is implicit TLS on 465 and required STARTTLS on any
 * other port; `false` does not demand TLS).
 * - `implicit`: TLS from the first byte (port 465, RFC 8314).
 * - `starttls`: plain connect, then STARTTLS is required; a server that does not offer it fails
 *   with TlsError rather than carrying the password in the clear.
 * - `opportunistic`: STARTTLS when offered, plain otherwise.
 */
export type SmtpSecureMode = "implicit" | "starttls" | "opportunistic";

/** CONTRACT.md's `EMAIL_SMTP_USE_TLS` on a port -> the secure mode. */
export function secureModeFromUseTls(useTls: boolean, port: number): SmtpSecureMode {
  if (!useTls) return "opportunistic";
  return port === 465 ? "implicit" : "starttls";
}

export interface SmtpSenderOptions {
  /** Server host name or address. */
  host: string;
  /** Server port (465 implicit TLS, 587 submission). */
  port: number;
  /** TLS use; see SmtpSecureMode. Default `starttls`, or `implicit` when port is 465. */
  secure?: SmtpSecureMode;
  /**
   * Login: a password, or OAuth 2.0 (AUTH XOAUTH2) with `accessToken`, asked for a token before the
   * first login of each connection and again with `renew` true when the server refused the last one.
   * Without it the sender does not authenticate (a relay that trusts the network).
   */
  auth?: SmtpAuth;
  tls?: {
    /** Extra trusted CA (PEM), added to the system CAs: a self-signed test server. */
    ca?: string | Buffer;
    /** Verify the server certificate. Default true; never false unless a person set it. */
    rejectUnauthorized?: boolean;
    /** Name checked against the certificate (SNI); default the host. */
    servername?: string;
  };
  /** Keep connections open and reuse them. Default true. */
  pool?: boolean;
  /** Pool size: connections open at the same time. Default 3 (with pool). */
  maxConnections?: number;
  /** Messages one pooled connection carries before it is replaced. Default 100. */
  maxMessagesPerConnection?: number;
  /** Global rate limit in messages per second across all connections. Default 0 = none. */
  rateLimitPerSecond?: number;
  /** Per-recipient limit (sliding window). Default none. */
  perRecipient?: RecipientRateLimit;
  /** Where per-recipient send times are kept. Default in memory (the store's RateRepo fits). */
  rateStore?: RateEventStore;
  /** Time to open the TCP connection, ms. Default 15 000; past it: NetworkError. */
  connectionTimeout?: number;
  /** Time to wait for the server greeting, ms. Default 15 000; past it: NetworkError. */
  greetingTimeout?: number;
  /** Inactivity allowed on an open connection, ms. Default 60 000; past it: NetworkError. */
  socketTimeout?: number;
  /** Idle time after which a pooled connection is closed, ms. Default 30 000. */
  idleTimeout?: number;
  /** EHLO name. Default: nodemailer's (the machine's host name). */
  clientName?: string;
  /** Logger for the sender's own lines (never the password). Default: silent. */
  logger?: Logger;
  /**
   * Also hand nodemailer the logger, SMTP commands and replies included (not message bodies, and
   * nodemailer masks AUTH). Default false.
   */
  transactionLog?: boolean;
  /** Clock in ms, for the rate limiters. Default Date.now. */
  now?: () => number;
}

export const SMTP_DEFAULTS = {
  maxConnections: 3,
  maxMessagesPerConnection: 100,
  connectionTimeout: 15_000,
  greetingTimeout: 15_000,
  socketTimeout: 60_000,
  idleTimeout: 30_000,
} as const;

/** nodemailer transport options for SmtpSenderOptions (`pool` decides SMTPPool vs SMTPTransport). */
export function toTransportOptions(options: SmtpSenderOptions): SMTPPoolOptions & { pool: boolean } {
  const mode = options.secure ?? (options.port === 465 ? "implicit" : "starttls");
  const pool = options.pool ?? true;
  const tls: NonNullable<SMTPPoolOptions["tls"]> = {
    rejectUnauthorized: options.tls?.rejectUnauthorized ?? true,
    minVersion: "TLSv1.2",
  };
  if (options.tls?.ca !== undefined) tls.ca = options.tls.ca;
  if (options.tls?.servername !== undefined) tls.servername = options.tls.servername;
  const out: SMTPPoolOptions & { pool: boolean } = {
    host: options.host,
    port: options.port,
    secure: mode === "implicit",
    requireTLS: mode === "starttls",
    // With opportunistic TLS a failed upgrade continues in the clear (it was not demanded).
    opportunisticTLS: mode === "opportunistic",
    tls,
    pool,
    connectionTimeout: options.connectionTimeout ?? SMTP_DEFAULTS.connectionTimeout,
    greetingTimeout: options.greetingTimeout ?? SMTP_DEFAULTS.greetingTimeout,
    socketTimeout: options.socketTimeout ?? SMTP_DEFAULTS.socketTimeout,
    // The library reads every file itself; nodemailer must not fetch paths or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  };
  if (pool) {
    out.maxConnections = options.maxConnections ?? SMTP_DEFAULTS.maxConnections;
    out.maxMessages = options.maxMessagesPerConnection ?? SMTP_DEFAULTS.maxMessagesPerConnection;
    out.idleTimeout = options.idleTimeout ?? SMTP_DEFAULTS.idleTimeout;
  }
  if (options.auth) out.auth = transportAuth(options.auth) as SMTPPoolOptions["auth"];
  if (options.clientName) out.name = options.clientName;
  return out;
}

export type SmtpAuth =
  | { user: string; pass: string }
  | {
      user: string;
      accessToken: (renew: boolean) => Promise<{ value: string; expiresAt: number }>;
    };

/**
 * nodemailer's auth: a password login, or XOAUTH2 whose tokens come from our provisionCallback. A
 * token failure is handed over wrapped (nodemailer rewrites the code of the error it is given), and
 * mapSmtpError unwraps it again.
 */
function transportAuth(auth: SmtpAuth): Record<string, unknown> {
  if ("pass" in auth) return { user: auth.user, pass: auth.pass };
  const source = auth.accessToken;
  return {
    type: "OAuth2",
    user: auth.user,
    provisionCallback: (
      _user: string,
      renew: boolean,
      done: (error: Error | null, token?: string, expires?: number) => void,
    ) => {
      source(renew).then(
        (t) => done(null, t.value, t.expiresAt),
        (error: unknown) => done(new Error((error as Error)?.message ?? String(error), { cause: error })),
      );
    },
  };
}
