import type { ResolvedConfig } from "../config/resolved.js";
import type { ProfileSink, Registry, ReminderSink } from "../contract/index.js";
import type { Logger } from "../log/index.js";
import type { ConvertOptions, ParsedInbound } from "../mime/types.js";
import type { OutboundSender } from "../smtp/types.js";
import type { OutboxDeliveryReport, StateStore } from "../store/types.js";
import type { Readable } from "node:stream";
import type { HandlingLimits } from "./handling-queue.js";

/** What `new EmailChannel(agent, options)` takes; only `config` is required. */
export interface EmailChannelOptions {
  /** The resolved configuration (loadConfig). */
  config: ResolvedConfig;
  /** The runtime's registry: every message in and out is logged to it. */
  registry?: Registry;
  /** A pino logger; default: createLogger() (pretty on a TTY, secrets redacted). */
  logger?: Logger;
  /** The state store; default: SQLite at `<state_dir>/state.sqlite`, opened by start() and closed by stop(). */
  store?: StateStore;
  /** Where CalDAV reminders go; default: the store's embedded sink. */
  reminderSink?: ReminderSink;
  /** Where CardDAV profiles go; default: the store's embedded sink. */
  profileSink?: ProfileSink;
  /** Replaces the SMTP sender per account (benchmarks, tests of the outbox). Default: SmtpSender from config. */
  senderFactory?: (account: string) => OutboundSender;
  /**
   * Replaces the converter, e.g. with a ConvertPool the host shares between channels or keeps
   * across restarts (stop() does not close it). A message fetched whole comes as a Buffer, a big
   * one as a stream. Default: a ConvertPool of `convert_workers` workers, closed by stop(); with
   * `convert_workers: 0`, convertMessage in the main thread.
   */
  convert?: (raw: Buffer | Readable, options: ConvertOptions) => Promise<ParsedInbound>;
  /** How long stop() waits for in-flight agent work before aborting it, ms. Default 30000. */
  stopTimeoutMs?: number;
  /**
   * What may wait for or be with the agent at once, across all accounts: past either limit the
   * watchers stop handing mail over (it waits in the mailbox) until half of it is done, so a slow
   * agent never makes a backlog pile up in memory. Default 256 messages, 64 Mi characters of text.
   */
  handlingLimits?: Partial<HandlingLimits>;
}

/** What "bounced" and "deliveryDelayed" carry. */
export interface DeliveryReportEvent {
  /** The outbox key of the message the report is about. */
  key: string;
  messageId: string;
  conversationId: string;
  recipients: OutboxDeliveryReport["recipients"];
}

/** Events EmailChannel emits (besides the contract). */
export interface EmailChannelEvents {
  /** A message was handed to the agent and its reply recorded. */
  handled: [
    info: { account: string; mailbox: string; uid: number; messageId: string; conversationId: string },
  ];
  /** A guard refused a message; it was recorded and not answered. */
  ignored: [info: { messageId: string; guard: string; code: string; reason: string }];
  /** A message went to quarantine with a reason. */
  quarantined: [info: { messageId: string; reason: string }];
  duplicate: [info: { messageId: string }];
  /**
   * An outgoing message will never be delivered to `recipients` (5xx, retries exhausted): all of
   * them, or those of a follow-up (key `<key>#deferred-<n>`) after a server deferred them.
   */
  sendFailed: [info: { key: string; messageId: string; recipients: string[]; error: string }];
  sent: [info: { key: string; messageId: string; conversationId: string }];
  /**
   * A delivery status notification (RFC 3464) came back for a sent message: some recipient failed.
   * `recipients` are the statuses this report added; the whole story is on the outbox entry
   * (`deliveryReport`).
   */
  bounced: [info: DeliveryReportEvent];
  /** A delivery status notification says a sent message is delayed (its servers keep trying). */
  deliveryDelayed: [info: DeliveryReportEvent];
  /** A calendar reminder went off (it is also emailed to the account unless reminders.email_user is off). */
  reminder: [info: { reminder: import("../contract/sinks.js").Reminder; late: boolean }];
  /** A watcher's health changed (connecting, watching, backoff, failed). */
  health: [info: import("../imap/types.js").WatcherHealth];
}
