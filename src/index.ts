/**
 * email-channel: an email address for an AI assistant, behind the runtime's BaseChannel contract.
 * Grouped by audience; types are exported with `export type`.
 */

// The host contract (../shared/CONTRACT.md).
export { BaseChannel } from "./contract/index.js";
export type {
  Agent,
  AgentContext,
  AgentOutput,
  Attachment,
  MessageFormat,
  OutgoingAttachment,
  Registry,
  SendOptions,
  SentMessage,
  Reminder,
  ReminderSink,
  UserProfile,
  ProfileSink,
} from "./contract/index.js";

// The channel and its configuration.
export { EmailChannel } from "./channel/email-channel.js";
export type { DeliveryReportEvent, EmailChannelOptions, EmailChannelEvents } from "./channel/options.js";
export { loadConfig, Secret } from "./config/index.js";
export type { LoadConfigOptions, ResolvedConfig, AccountConfig } from "./config/index.js";

// Logging, state, errors.
export { createLogger, silentLogger } from "./log/index.js";
export type { Logger } from "./log/index.js";
export { openSqliteStore } from "./store/index.js";
export type { StateStore, SqliteStoreOptions } from "./store/index.js";
export type { OutboxDeliveryReport, OutboxEntry } from "./store/types.js";
export {
  EmailChannelError,
  ConfigError,
  NetworkError,
  TlsError,
  AuthError,
  ServerError,
  InputError,
  AbortedError,
} from "./errors/index.js";
export type { ErrorKind, ErrorStage } from "./errors/index.js";
export type { WatcherHealth } from "./imap/types.js";
/** For `EmailChannelOptions.senderFactory`: a host's own transport instead of the built-in SMTP sender. */
export type { OutboundSender, RecipientReply, SendRequest, SendResult } from "./smtp/index.js";
export { AccountTools } from "./channel/agent-tools.js";
