import { ImapFlow, type ImapFlowOptions } from "imapflow";
import type { ServerEndpoint, TlsSettings } from "../config/resolved.js";
import {
  AuthError,
  EmailChannelError,
  isNetworkFailure,
  isTlsFailure,
  NetworkError,
  ServerError,
  TlsError,
} from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { ImapAuth } from "./login.js";

export interface ImapConnectOptions {
  endpoint: ServerEndpoint;
  tls: TlsSettings;
  /** Login name and password or access token (see imapLogin). */
  auth: ImapAuth;
  logger?: Logger;
  /**
   * Inactivity timeout for the socket, ms. Default 30000. On a half-open link the last thing the
   * client writes is the DONE of the next IDLE restart (at most `maxIdleTimeMs` later); the timeout
   * counts from that write, so the link is found dead within maxIdleTimeMs + socketTimeoutMs
   * (25 + 30 = 55 s, under a minute). A server silent for longer inside one command is dropped too.
   */
  socketTimeoutMs?: number;
  /** Restart IDLE this often, ms (keeps NAT/firewall state alive and proves the link). Default 25000. */
  maxIdleTimeMs?: number;
  /** Do not IDLE automatically (poll mode). */
  disableIdle?: boolean;
  /** TCP+TLS connect budget, ms. Default 15000. */
  connectionTimeoutMs?: number;
}

/**
 * imapflow logs through a pino-like object; we pass a child that drops its chatty debug lines unless
 * the level asks for them. imapflow never logs the password (it masks LOGIN/AUTHENTICATE frames).
 */
function imapflowLogger(logger: Logger | undefined): ImapFlowOptions["logger"] {
  if (!logger) return false;
  const child = logger.child({ component: "imapflow" });
  const pass = (level: "debug" | "info" | "warn" | "error") => (obj: object) => {
    child[level === "info" ? "debug" : level](obj);
  };
  return { debug: pass("debug"), info: pass("info"), warn: pass("warn"), error: pass("error") };
}

/** Builds an ImapFlow client from resolved config. TLS verification stays on unless a person turned it off. */
export function createImapClient(options: ImapConnectOptions): ImapFlow {
  const { endpoint, tls } = options;
  const flowOptions: ImapFlowOptions = {
    host: endpoint.host,
    port: endpoint.port,
    secure: endpoint.tls === "implicit",
    // true = STARTTLS required; undefined = upgrade when offered (CONTRACT.md: USE_TLS=false).
    ...(endpoint.tls === "starttls" ? { doSTARTTLS: true } : {}),
    auth: options.auth,
    tls: {
      rejectUnauthorized: tls.rejectUnauthorized,
      ...(tls.ca ? { ca: [tls.ca] } : {}),
      ...(/^[\d.]+$|:/.test(endpoint.host) ? {} : { servername: endpoint.host }),
    },
    logger: imapflowLogger(options.logger),
    socketTimeout: options.socketTimeoutMs ?? 30_000,
    maxIdleTime: options.maxIdleTimeMs ?? 25_000,
    connectionTimeout: options.connectionTimeoutMs ?? 15_000,
    greetingTimeout: 15_000,
    disableAutoIdle: options.disableIdle ?? false,
    // IDLE right after our last command: while not IDLEing the server pushes nothing, so this delay
    // is added to every new message's latency. Our commands run back to back, so none is broken.
    autoIdleDelay: 50,
    clientInfo: { name: "email-channel" },
  };
  return new ImapFlow(flowOptions);
}

/** Maps whatever imapflow threw to our typed errors, keeping "the server said no" apart from "the network failed". */
export function classifyImapError(error: unknown, where: string): EmailChannelError {
  if (error instanceof EmailChannelError) return error;
  const e = error as {
    authenticationFailed?: boolean;
    responseText?: string;
    serverResponseCode?: string;
    code?: string;
    message?: string;
    /** The server's RFC 7628 error for a refused bearer token (status, scope, schemes). */
    oauthError?: { status?: unknown; scope?: unknown };
  };
  const text = e?.responseText ?? e?.message ?? String(error);
  if (
    e?.authenticationFailed ||
    e?.serverResponseCode === "AUTHENTICATIONFAILED" ||
    /AUTHENTICATIONFAILED|authentication failed/i.test(text)
  ) {
    // A refused bearer token: the server says why (RFC 7628 §3.2.2), e.g. the scope it needs.
    const oauth = e?.oauthError;
    const why = oauth
      ? ` (OAuth 2.0: ${[
          typeof oauth.status === "string" ? `status ${oauth.status}` : undefined,
          typeof oauth.scope === "string" ? `scope needed: ${oauth.scope}` : undefined,
        ]
          .filter(Boolean)
          .join(", ")})`
      : "";
    return new AuthError(`IMAP login refused at ${where}: ${text}${why}`, {
      code: "IMAP_AUTH_FAILED",
      stage: "imap",
      cause: error,
    });
  }
  if (isTlsFailure(error)) {
    return new TlsError(`IMAP TLS handshake with ${where} failed: ${e?.message ?? text}`, {
      code: "IMAP_TLS_FAILED",
      stage: "imap",
      cause: error,
    });
  }
  if (isNetworkFailure(error) || e?.code === "CONNECT_TIMEOUT" || e?.code === "ETIMEOUT") {
    return new NetworkError(
      `IMAP connection to ${where} failed: ${e?.code ?? ""} ${e?.message ?? text}`.trim(),
      {
        code: "IMAP_NETWORK",
        stage: "imap",
        cause: error,
      },
    );
  }
  if (e?.responseText || e?.serverResponseCode) {
    return new ServerError(`IMAP server ${where} refused: ${text}`, {
      code: "IMAP_REFUSED",
      stage: "imap",
      retryable: true,
      response: text,
      cause: error,
    });
  }
  return new NetworkError(`IMAP connection to ${where} failed: ${text}`, {
    code: "IMAP_NETWORK",
    stage: "imap",
    cause: error,
  });
}
