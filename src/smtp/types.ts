/** What the outbound side sends and what the server answered. */

/** A finished message and its SMTP envelope (MAIL FROM / RCPT TO). */
export interface SendRequest {
  /** The complete RFC 5322 message, CRLF line ends, sent as is. */
  raw: Uint8Array;
  envelope: {
    from: string;
    to: string[];
    /**
     * ESMTP ENVID (RFC 3461 §4.4, at most 100 characters): with it the server is asked for delivery
     * status notifications naming it, on failure or delay, returning the headers only (RET=HDRS).
     * A server that does not announce DSN gets the plain envelope.
     */
    envelopeId?: string;
  };
}

export interface SendResult {
  /** The server's final reply, e.g. `250 2.0.0 Ok: queued as 4Xk2`. */
  response: string;
  /** Recipients the server accepted. */
  accepted: string[];
  /**
   * Recipients the server refused while accepting the others (RCPT TO answered 4xx/5xx). When every
   * recipient is refused the send fails instead.
   */
  rejected: string[];
  /** The server's reply to each refused recipient, when known (same order as `rejected`). */
  rejectedReplies?: RecipientReply[];
}

/** The server's answer to one RCPT TO. */
export interface RecipientReply {
  recipient: string;
  /** SMTP reply code, e.g. 450 or 550. */
  code?: number;
  /** The reply line(s). */
  response?: string;
}

/** Anything that can deliver a SendRequest: the SmtpSender, or a host's own transport. */
export interface OutboundSender {
  /** Rejects with an EmailChannelError (see src/smtp/errors.ts for the mapping). */
  send(request: SendRequest, signal?: AbortSignal): Promise<SendResult>;
}
