/**
 * nodemailer errors -> the library's typed errors. The distinction that matters downstream (the
 * outbox) is "try again later" versus "this message will never go":
 *
 * - A reply code (RFC 5321 §4.2.1): 4yz is transient -> ServerError, retryable; 5yz is permanent ->
 *   ServerError `SMTP_REJECTED` with the server's words, not retryable. 503 (bad sequence) is the one
 *   5yz nodemailer marks transient (`err.permanent === false`): the session was out of step, the same
 *   message can go through on a new connection, so it is retryable too.
 * - 535/534/530 on AUTH, or EAUTH -> AuthError (a config problem, not the message's).
 * - A certificate or handshake failure -> TlsError (config again).
 * - A connection that failed, closed or timed out -> NetworkError, retryable. Also EPROTOCOL (a reply
 *   that made no sense, usually a connection cut mid-reply). Unless it failed while connecting, the
 *   server may have taken the message before the connection went (a cut after the end of DATA is
 *   reported like any other): `details.mayHaveBeenAccepted` says so (see mayHaveBeenAccepted).
 * - EABORT -> AbortedError.
 * - Anything unknown is treated as transient: the outbox bounds retries in time, and giving up on a
 *   message because of an error we do not understand would lose it.
 */
import {
  AbortedError,
  AuthError,
  ConfigError,
  EmailChannelError,
  InputError,
  NetworkError,
  ServerError,
  TlsError,
  errorCode,
  isNetworkFailure,
  isTlsFailure,
} from "../errors/index.js";

interface NodemailerLikeError {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  response?: string;
  permanent?: boolean;
  command?: string;
  message?: string;
  /** nodemailer's kind of timeout (CONNECT_TIMEOUT, GREETING_TIMEOUT, UPGRADE_TIMEOUT, SOCKET_TIMEOUT). */
  timeoutType?: string;
}

const TLS_ORIGINAL_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "ERR_SSL_UNKNOWN_PROTOCOL",
  "ERR_SSL_PACKET_LENGTH_TOO_LONG",
]);

const NETWORK_CODES = new Set([
  "ECONNECTION",
  "ETIMEDOUT",
  "ESOCKET",
  "EDNS",
  "EPROXY",
  "EPROTOCOL",
  "EMAXLIMIT",
]);
const AUTH_REPLY_CODES = new Set([530, 534, 535, 538]);
/** System errors of a connection that was never made: nothing can have reached the server. */
const NOT_CONNECTED = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EADDRNOTAVAIL",
]);
/** nodemailer's timeouts of the connection's set-up (the socket timeout is not one of them). */
const SETUP_TIMEOUTS = new Set(["CONNECT_TIMEOUT", "GREETING_TIMEOUT", "UPGRADE_TIMEOUT"]);

/**
 * Whether a failed send may still have been accepted: an error from the server (a reply) says it was
 * not, and so does a connection that was never made (refused, unreachable, DNS, a set-up timeout).
 * Any other network failure may have come after the end of DATA, when the server had taken the
 * message and its "250" was lost: nodemailer reports every socket error alike (command `CONN`).
 */
export function mayHaveBeenAccepted(error: unknown): boolean {
  return error instanceof EmailChannelError && error.details?.mayHaveBeenAccepted === true;
}

function connectedBeforeFailing(err: NodemailerLikeError, code: string | undefined): boolean {
  if (code === "EDNS" || code === "EPROXY") return false;
  if (code !== undefined && NOT_CONNECTED.has(code)) return false;
  if (err.originalCode !== undefined && NOT_CONNECTED.has(err.originalCode)) return false;
  return !(err.timeoutType !== undefined && SETUP_TIMEOUTS.has(err.timeoutType));
}

function asNodemailer(error: unknown): NodemailerLikeError {
  return error && typeof error === "object" ? (error as NodemailerLikeError) : {};
}

/** The server's reply text, trimmed to one line-ish for logs and the outbox record. */
function serverWords(err: NodemailerLikeError): string | undefined {
  return typeof err.response === "string" ? err.response.trim().slice(0, 1000) : undefined;
}

/** Maps anything thrown by nodemailer (or the sender) to an EmailChannelError with stage "smtp". */
export function mapSmtpError(error: unknown): EmailChannelError {
  if (error instanceof EmailChannelError) return error;
  // An OAuth 2.0 token the sender could not get (see transportAuth): the token endpoint's own error.
  const inner = (error as { cause?: unknown })?.cause;
  if (inner instanceof EmailChannelError && inner.stage === "oauth2") return inner;
  const err = asNodemailer(error);
  const code = err.code ?? errorCode(error);
  const message = typeof err.message === "string" ? err.message : String(error);
  const response = serverWords(err);
  const details: Record<string, unknown> = {};
  if (code) details.smtpCode = code;
  if (err.command) details.command = err.command;
  if (err.originalCode) details.originalCode = err.originalCode;

  if (code === "EABORT" || (error instanceof Error && error.name === "AbortError")) {
    return new AbortedError("smtp", error);
  }
  const replyCode = typeof err.responseCode === "number" ? err.responseCode : undefined;
  const isAuthCommand = typeof err.command === "string" && /^AUTH\b/i.test(err.command);
  // 454 "temporary authentication failure" is transient: it falls through to the reply-code branch.
  const transientReply = replyCode !== undefined && replyCode >= 400 && replyCode < 500;
  if (
    !transientReply &&
    (code === "EAUTH" ||
      code === "ENOAUTH" ||
      (replyCode && AUTH_REPLY_CODES.has(replyCode) && isAuthCommand))
  ) {
    return new AuthError(`SMTP authentication failed${response ? `: ${response}` : ""}`, {
      code: "SMTP_AUTH_FAILED",
      stage: "smtp",
      cause: error,
      details,
    });
  }
  if (replyCode !== undefined && replyCode >= 400 && replyCode < 600) {
    const permanent = err.permanent ?? replyCode >= 500;
    return new ServerError(
      `SMTP server ${permanent ? "refused" : "deferred"} the message: ${response ?? message}`,
      {
        code: permanent ? "SMTP_REJECTED" : "SMTP_DEFERRED",
        stage: "smtp",
        retryable: !permanent,
        status: replyCode,
        ...(response ? { response } : {}),
        cause: error,
        details,
      },
    );
  }
  if (
    code === "ETLS" ||
    code === "EREQUIRETLS" ||
    (err.originalCode !== undefined && TLS_ORIGINAL_CODES.has(err.originalCode)) ||
    (code !== undefined && TLS_ORIGINAL_CODES.has(code)) ||
    isTlsFailure(error)
  ) {
    return new TlsError(`SMTP TLS failed: ${message}`, {
      code: "SMTP_TLS",
      stage: "smtp",
      cause: error,
      details,
    });
  }
  if (code === "ECONFIG") {
    return new ConfigError(`SMTP configuration rejected: ${message}`, [{ path: "smtp", message }], error);
  }
  if (code === "EENVELOPE" || code === "EMESSAGE" || code === "EMAXRECIPIENTS") {
    return new InputError(`SMTP refused the message before sending: ${message}`, {
      code: "SMTP_MESSAGE_INVALID",
      stage: "smtp",
      cause: error,
      details,
    });
  }
  if ((code !== undefined && NETWORK_CODES.has(code)) || isNetworkFailure(error)) {
    return new NetworkError(`SMTP connection failed: ${message}`, {
      code: "SMTP_NETWORK",
      stage: "smtp",
      cause: error,
      details: { ...details, mayHaveBeenAccepted: connectedBeforeFailing(err, code) },
    });
  }
  return new EmailChannelError(`SMTP send failed: ${message}`, {
    code: "SMTP_UNKNOWN",
    stage: "smtp",
    kind: "internal",
    retryable: true,
    cause: error,
    details,
  });
}
