/**
 * SmtpSender: the shell that holds the SMTP connections (nodemailer, pooled by default) and sends
 * finished messages as they are, byte for byte. Errors come out typed (see errors.ts); the outbox
 * decides what to do with them.
 */
import nodemailer from "nodemailer";
import type { Logger } from "../log/index.js";
import { silentLogger } from "../log/index.js";
import { AbortedError, EmailChannelError } from "../errors/index.js";
import { mapSmtpError } from "./errors.js";
import { type SmtpSenderOptions, toTransportOptions } from "./options.js";
import { GlobalRateLimiter, RecipientRateLimiter } from "./rate-limit.js";
import type { OutboundSender, RecipientReply, SendRequest, SendResult } from "./types.js";

/** nodemailer's per-recipient refusals (`info.rejectedErrors`), as plain data. */
function rejectedReplies(info: unknown): RecipientReply[] {
  const list = (info as { rejectedErrors?: unknown }).rejectedErrors;
  if (!Array.isArray(list)) return [];
  return list.map((e: { recipient?: unknown; responseCode?: unknown; response?: unknown }) => ({
    recipient: String(e.recipient ?? ""),
    ...(typeof e.responseCode === "number" ? { code: e.responseCode } : {}),
    ...(typeof e.response === "string" ? { response: e.response.trim().slice(0, 1000) } : {}),
  }));
}

type Transporter = ReturnType<typeof nodemailer.createTransport>;

export class SmtpSender implements OutboundSender {
  private readonly transporter: Transporter;
  private readonly log: Logger;
  private readonly global: GlobalRateLimiter;
  private readonly recipients: RecipientRateLimiter | undefined;
  private closed = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: SmtpSenderOptions) {
    this.log = (options.logger ?? silentLogger()).child({
      stage: "smtp",
      host: options.host,
      port: options.port,
    });
    const transportOptions = toTransportOptions(options);
    if (options.transactionLog && options.logger) {
      transportOptions.logger = options.logger.child({ component: "nodemailer" });
      transportOptions.transactionLog = true;
    }
    this.transporter = nodemailer.createTransport(transportOptions);
    // A pooled transport emits 'error' for connection failures outside a send; the send callbacks
    // carry the same error, so here it is only logged (an unhandled 'error' event would crash).
    this.transporter.on("error", (error: unknown) => {
      this.log.debug({ err: mapSmtpError(error) }, "smtp transport error");
    });
    const now = options.now ?? Date.now;
    this.global = new GlobalRateLimiter(options.rateLimitPerSecond ?? 0, now);
    this.recipients = options.perRecipient
      ? new RecipientRateLimiter(options.perRecipient, options.rateStore, now)
      : undefined;
  }

  /** Whether connections are pooled. */
  get pooled(): boolean {
    return this.options.pool ?? true;
  }

  /**
   * Sends the message as is. Resolves once the server accepted it (for at least one recipient).
   * Rejects with a typed EmailChannelError: ServerError (4xx retryable, 5xx permanent), NetworkError,
   * AuthError, TlsError, AbortedError, or `SMTP_RATE_LIMITED` (retryable, with retryAfter).
   * Aborting does not prove that the server did not take the message.
   */
  async send(request: SendRequest, signal?: AbortSignal): Promise<SendResult> {
    this.assertOpen();
    if (request.envelope.to.length === 0) {
      throw new EmailChannelError("no recipients", {
        code: "SMTP_MESSAGE_INVALID",
        stage: "smtp",
        kind: "input",
        retryable: false,
      });
    }
    if (signal?.aborted) throw new AbortedError("smtp", signal.reason);
    this.recipients?.take(request.envelope.to);
    await this.global.acquire(signal);
    const started = Date.now();
    const work = this.transporter.sendMail({
      raw: Buffer.from(request.raw.buffer, request.raw.byteOffset, request.raw.byteLength),
      envelope: { from: request.envelope.from, to: request.envelope.to },
      // nodemailer adds these to MAIL FROM / RCPT TO only when the server announces DSN.
      ...(request.envelope.envelopeId
        ? { dsn: { id: request.envelope.envelopeId, return: "headers", notify: ["failure", "delay"] } }
        : {}),
      ...(signal ? { signal } : {}),
    });
    this.inFlight.add(work);
    try {
      const info = await work;
      const result: SendResult = {
        response: String(info.response ?? ""),
        accepted: (info.accepted ?? []).map(String),
        rejected: (info.rejected ?? []).map(String),
      };
      const replies = rejectedReplies(info);
      if (replies.length > 0) result.rejectedReplies = replies;
      this.log.debug(
        { ms: Date.now() - started, accepted: result.accepted.length, rejected: result.rejected.length },
        "smtp accepted",
      );
      return result;
    } catch (error) {
      const mapped = mapSmtpError(error);
      this.log.debug({ err: mapped, ms: Date.now() - started }, "smtp send failed");
      throw mapped;
    } finally {
      this.inFlight.delete(work);
    }
  }

  /** Connects, negotiates TLS and logs in, then hangs up: for `email-channel check`. */
  async verify(): Promise<void> {
    this.assertOpen();
    try {
      await this.transporter.verify();
    } catch (error) {
      throw mapSmtpError(error);
    }
  }

  /**
   * Closes the connections. Sends in flight finish first (a pooled connection that is delivering
   * finishes its message), unless `force`: then they are cut and fail. Idempotent.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transporter.close(options.force ? { force: true } : undefined);
    await Promise.allSettled([...this.inFlight]);
  }

  private assertOpen(): void {
    if (this.closed) {
      throw new EmailChannelError("the SMTP sender is closed", {
        code: "SMTP_CLOSED",
        stage: "smtp",
        kind: "internal",
        retryable: true,
      });
    }
  }
}
