/**
 * Typed errors with stable codes. Every error the library throws or records is an EmailChannelError:
 * `code` is stable across releases, `stage` says where it happened, `kind` separates "the server said
 * no" (server) from "the network failed" (network) from "the config is wrong" (config) from "the input
 * is bad" (input), and `retryable` says whether trying again may help.
 */

export type ErrorStage =
  | "config"
  | "imap"
  | "smtp"
  | "mime"
  | "threading"
  | "guard"
  | "store"
  | "caldav"
  | "carddav"
  | "dav"
  | "oauth2"
  | "agent"
  | "channel"
  | "cli";

export type ErrorKind = "config" | "network" | "tls" | "auth" | "server" | "input" | "internal" | "aborted";

export interface EmailChannelErrorOptions {
  code: string;
  stage: ErrorStage;
  kind: ErrorKind;
  retryable?: boolean;
  /** Seconds after which a retry may succeed, when the server said so. */
  retryAfter?: number;
  cause?: unknown;
  /** Extra fields for logs; never secrets. */
  details?: Record<string, unknown>;
}

export class EmailChannelError extends Error {
  readonly code: string;
  readonly stage: ErrorStage;
  readonly kind: ErrorKind;
  readonly retryable: boolean;
  readonly retryAfter?: number;
  readonly details?: Record<string, unknown>;

  constructor(message: string, options: EmailChannelErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.stage = options.stage;
    this.kind = options.kind;
    this.retryable = options.retryable ?? options.kind === "network";
    if (options.retryAfter !== undefined) this.retryAfter = options.retryAfter;
    if (options.details !== undefined) this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      code: this.code,
      stage: this.stage,
      kind: this.kind,
      retryable: this.retryable,
      retryAfter: this.retryAfter,
      details: this.details,
    };
  }
}

/** The configuration is wrong: names the key path and what was expected. Never retryable. */
export class ConfigError extends EmailChannelError {
  readonly issues: { path: string; message: string }[];
  constructor(message: string, issues: { path: string; message: string }[] = [], cause?: unknown) {
    super(message, { code: "CONFIG_INVALID", stage: "config", kind: "config", retryable: false, cause });
    this.issues = issues;
  }
}

/** The network failed: DNS, refused, reset, timeout. Retryable. */
export class NetworkError extends EmailChannelError {
  constructor(message: string, options: Omit<EmailChannelErrorOptions, "kind">) {
    super(message, { retryable: true, ...options, kind: "network" });
  }
}

/** The TLS handshake failed, usually an untrusted or mismatched certificate. Not retryable. */
export class TlsError extends EmailChannelError {
  constructor(message: string, options: Omit<EmailChannelErrorOptions, "kind">) {
    super(message, { retryable: false, ...options, kind: "tls" });
  }
}

/** The server refused the credentials. Not retryable without a config change. */
export class AuthError extends EmailChannelError {
  constructor(message: string, options: Omit<EmailChannelErrorOptions, "kind">) {
    super(message, { retryable: false, ...options, kind: "auth" });
  }
}

/** The server understood and said no (SMTP 4xx/5xx, IMAP NO/BAD, HTTP 4xx/5xx). */
export class ServerError extends EmailChannelError {
  /** The protocol's status (SMTP reply code, HTTP status), when there is one. */
  readonly status?: number;
  /** The server's own words. */
  readonly response?: string;
  constructor(
    message: string,
    options: Omit<EmailChannelErrorOptions, "kind"> & { status?: number; response?: string },
  ) {
    super(message, { ...options, kind: "server" });
    if (options.status !== undefined) this.status = options.status;
    if (options.response !== undefined) this.response = options.response;
  }
}

/** The input (a message, a calendar object, a card) cannot be handled. Never retryable. */
export class InputError extends EmailChannelError {
  constructor(message: string, options: Omit<EmailChannelErrorOptions, "kind">) {
    super(message, { retryable: false, ...options, kind: "input" });
  }
}

/** The operation was aborted through its AbortSignal (usually stop()). */
export class AbortedError extends EmailChannelError {
  constructor(stage: ErrorStage, cause?: unknown) {
    super("operation aborted", { code: "ABORTED", stage, kind: "aborted", retryable: false, cause });
  }
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ESOCKET",
  "ECONNECTION",
  "ETIMEOUT",
  "NoConnection",
  "ClosedAfterConnectTLS",
  "ClosedAfterConnectText",
  "EConnectionClosed",
]);

const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "CERT_UNTRUSTED",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

/** Reads `code` (and nodemailer's/imapflow's extra fields) off any thrown value. */
export function errorCode(error: unknown): string | undefined {
  if (error && typeof error === "object" && "code" in error && typeof error.code === "string")
    return error.code;
  return undefined;
}

/** Is this a network failure (worth retrying) rather than a refusal? */
export function isNetworkFailure(error: unknown): boolean {
  if (error instanceof EmailChannelError) return error.kind === "network";
  const code = errorCode(error);
  if (code && NETWORK_CODES.has(code)) return true;
  const msg = error instanceof Error ? error.message : String(error);
  return /ECONNREFUSED|ECONNRESET|ETIMEDOUT|socket hang up|Connection closed|Unexpected close|timed? ?out/i.test(
    msg,
  );
}

/** Is this a certificate/handshake failure? */
export function isTlsFailure(error: unknown): boolean {
  if (error instanceof EmailChannelError) return error.kind === "tls";
  const code = errorCode(error);
  if (code && TLS_CODES.has(code)) return true;
  const cause =
    error && typeof error === "object" && "cause" in error ? (error as { cause: unknown }).cause : undefined;
  if (cause && cause !== error && isTlsFailure(cause)) return true;
  const msg = error instanceof Error ? error.message : String(error);
  return /self[- ]signed certificate|unable to verify|certificate|wrong version number/i.test(msg);
}
