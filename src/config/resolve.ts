import { availableParallelism } from "node:os";
import { ConfigError } from "../errors/index.js";
import {
  type AccountConfig,
  type ResolvedConfig,
  Secret,
  type ServerEndpoint,
  type TlsMode,
  type TlsSettings,
} from "./resolved.js";
import type { OAuth2Grant } from "../oauth2/types.js";
import type { FileConfig } from "./schema.js";

const DEFAULT_PER_SENDER = [
  { max: 10, windowSeconds: 600 },
  { max: 60, windowSeconds: 3600 },
];
const DEFAULT_PER_CONVERSATION = [{ max: 20, windowSeconds: 600 }];

/** CONTRACT.md: `*_USE_TLS=true` = implicit TLS on 993/465, required STARTTLS elsewhere; false = opportunistic. */
export function tlsModeFor(port: number, useTls: boolean, implicitPort: number): TlsMode {
  if (!useTls) return "opportunistic";
  return port === implicitPort ? "implicit" : "starttls";
}

function endpoint(value: string, defaultPort: number, useTls: boolean, implicitPort: number): ServerEndpoint {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(value.trim())!;
  const host = m[1]!.replace(/^\[|\]$/g, "");
  const port = m[2] ? Number(m[2]) : defaultPort;
  return { host, port, tls: tlsModeFor(port, useTls, implicitPort) };
}

type OAuth2Input = NonNullable<FileConfig["oauth2"]>;

/**
 * An account's OAuth 2.0 grant: its own block over the top-level one, field by field. Undefined when
 * neither has a refresh token (the account logs in with a password). Issues name what is missing.
 */
function resolveOAuth2(
  own: OAuth2Input | undefined,
  top: OAuth2Input | undefined,
  path: string,
  issues: { path: string; message: string }[],
): OAuth2Grant | undefined {
  const o = { ...top, ...own };
  if (!o.refresh_token) return undefined;
  const where = own?.refresh_token ? `${path}.oauth2` : "channels.email.oauth2";
  if (!o.token_url || !o.client_id) {
    issues.push({
      path: `${where}.${o.token_url ? "client_id" : "token_url"}`,
      message:
        "OAuth 2.0 needs the token endpoint and the client id beside the refresh token (token_url, client_id; EMAIL_OAUTH2_TOKEN_URL, EMAIL_OAUTH2_CLIENT_ID)",
    });
    return undefined;
  }
  return {
    tokenUrl: o.token_url,
    clientId: o.client_id,
    ...(o.client_secret ? { clientSecret: new Secret(o.client_secret) } : {}),
    refreshToken: new Secret(o.refresh_token),
    ...(o.scope ? { scope: o.scope } : {}),
  };
}

/** The monitored accounts as entries, a bare address being an entry with nothing else set. */
function accountEntries(cfg: FileConfig) {
  return cfg.monitored_accounts.map((a) => (typeof a === "string" ? { address: a } : a));
}

function resolveAccounts(cfg: FileConfig): AccountConfig[] {
  const issues: { path: string; message: string }[] = [];
  const entries = accountEntries(cfg);
  const shared = entries.length > 1 && !cfg.login_template;
  const accounts: AccountConfig[] = [];
  // The top-level SMTP login (EMAIL_SMTP_USERNAME / _PASSWORD, CONTRACT.md): with one account, that
  // account's; with several, a relay login that every account without its own sends through. Half
  // of it with several accounts is nobody's in particular (a leftover EMAIL_SMTP_PASSWORD would
  // fail only at the first send): refused.
  const relay = entries.length > 1 && cfg.smtp_username !== undefined && cfg.smtp_password !== undefined;
  if (entries.length > 1 && !relay)
    for (const key of ["smtp_username", "smtp_password"] as const)
      if (cfg[key] !== undefined)
        issues.push({
          path: `channels.email.${key}`,
          message:
            "with several accounts, give smtp_username and smtp_password together (a login every account sends through) or per account (monitored_accounts[].smtp_username/smtp_password)",
        });
  entries.forEach((entry, i) => {
    const path = `channels.email.monitored_accounts.${i}`;
    const address = entry.address.trim().toLowerCase();
    let username = "username" in entry ? entry.username : undefined;
    let password = "password" in entry ? entry.password : undefined;
    const ownOAuth2 = "oauth2" in entry ? entry.oauth2 : undefined;
    if (shared && cfg.oauth2?.refresh_token && !ownOAuth2?.refresh_token) {
      issues.push({
        path: `${path}.oauth2.refresh_token`,
        message:
          "several accounts cannot share one OAuth 2.0 refresh token (it belongs to one user): give each account its own oauth2.refresh_token",
      });
      return;
    }
    const oauth2 = resolveOAuth2(ownOAuth2, cfg.oauth2, path, issues);
    if (!username) {
      // A bearer token is the user's own: an OAuth account logs in as itself, never through the
      // master-user template (its login name defaults to the shared one, else to its address).
      if (oauth2) username = !shared && cfg.imap_username ? cfg.imap_username : address;
      else if (cfg.login_template) username = cfg.login_template.replaceAll("%u", address);
      else if (!shared && cfg.imap_username) username = cfg.imap_username;
    }
    // With a login template the shared password is the master user's: not this OAuth account's.
    if (!password && !(oauth2 && cfg.login_template)) password = cfg.imap_password;
    if (!username) {
      issues.push({
        path: `${path}.username`,
        message:
          shared && cfg.imap_username
            ? 'several accounts cannot share one imap_username: give each account its own username/password or set login_template (e.g. "%u*master")'
            : "no IMAP username: set imap_username (EMAIL_IMAP_USERNAME), a per-account username, or login_template",
      });
      return;
    }
    if (!password && !oauth2) {
      issues.push({
        path: `${path}.password`,
        message:
          "no IMAP password: set imap_password (EMAIL_IMAP_PASSWORD), a per-account password, or an OAuth 2.0 refresh token (oauth2; `email-channel oauth2-login` gets one)",
      });
      return;
    }
    const acct = entry as {
      smtp_username?: string;
      smtp_password?: string;
      name?: string;
      mailboxes?: string[];
    };
    // SMTP credentials come in pairs, a password with the user name it belongs to: the account's own
    // smtp_username with its own password (its smtp_password, else its own IMAP password); its own
    // smtp_password alone with its IMAP user name; else the top-level login (see `relay` above;
    // with one account either half may be given, the IMAP login filling in the other); else the
    // IMAP login, user name and password together.
    const single = entries.length === 1;
    let smtpUser = username;
    let smtpPass = password;
    if (acct.smtp_username) {
      smtpUser = acct.smtp_username;
      smtpPass = acct.smtp_password ?? (single ? password : "password" in entry ? entry.password : undefined);
    } else if (acct.smtp_password) {
      smtpPass = acct.smtp_password;
    } else if (single || relay) {
      smtpUser = cfg.smtp_username ?? username;
      smtpPass = cfg.smtp_password ?? password;
    }
    if (!smtpPass && !oauth2) {
      issues.push({ path: `${path}.smtp_password`, message: "no SMTP password for this smtp_username" });
      return;
    }
    if (accounts.some((a) => a.address === address)) {
      issues.push({ path: `${path}.address`, message: "this address is listed twice" });
      return;
    }
    accounts.push({
      address,
      ...(acct.name ? { name: acct.name } : {}),
      imap: { username, ...(password ? { password: new Secret(password) } : {}) },
      smtp: { username: smtpUser, ...(smtpPass ? { password: new Secret(smtpPass) } : {}) },
      ...(oauth2 ? { oauth2 } : {}),
      mailboxes: acct.mailboxes ?? cfg.mailboxes,
    });
  });
  if (issues.length) throw new ConfigError(formatIssues(issues), issues);
  return accounts;
}

export function formatIssues(issues: { path: string; message: string }[]): string {
  return `invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`;
}

const windows = (
  w: { max: number; window_seconds: number }[] | undefined,
  fallback: typeof DEFAULT_PER_SENDER,
) => (w ? w.map((x) => ({ max: x.max, windowSeconds: x.window_seconds })) : fallback);

function tlsFrom(cfg: FileConfig, ca: string | undefined): TlsSettings {
  return {
    ...(ca !== undefined ? { ca } : {}),
    ...(cfg.tls_ca_file ? { caFile: cfg.tls_ca_file } : {}),
    rejectUnauthorized: cfg.tls_reject_unauthorized,
  };
}

/** What `email-channel oauth2-login` needs to ask for one account's first refresh token. */
export interface OAuth2ClientSettings {
  account: string;
  authUrl: string;
  tokenUrl: string;
  clientId: string;
  clientSecret?: Secret;
  scope?: string;
  tls: TlsSettings;
}

/**
 * The OAuth 2.0 client settings of one monitored account (its own `oauth2` block over the top-level
 * one, key by key), without its refresh token, which it may not have yet. `account`: the address;
 * may be left out when there is one account.
 */
export function oauth2ClientFor(
  cfg: FileConfig,
  ca: string | undefined,
  account?: string,
): OAuth2ClientSettings {
  const entries = accountEntries(cfg);
  const wanted = account?.trim().toLowerCase();
  const index = wanted
    ? entries.findIndex((e) => e.address.trim().toLowerCase() === wanted)
    : entries.length === 1
      ? 0
      : -1;
  const entry = entries[index];
  if (!entry) {
    const path = "channels.email.monitored_accounts";
    throw new ConfigError(
      wanted
        ? `invalid configuration: ${path}: ${wanted} is not a monitored account`
        : `invalid configuration: ${path}: several accounts; say which one (--account)`,
      [{ path, message: wanted ? "not a monitored account" : "several accounts" }],
    );
  }
  const own = "oauth2" in entry ? entry.oauth2 : undefined;
  const o = { ...cfg.oauth2, ...own };
  const missing = (["auth_url", "token_url", "client_id"] as const).filter((k) => !o[k]);
  if (missing.length > 0) {
    const issues = missing.map((k) => ({
      path: `channels.email.oauth2.${k}`,
      message: `required for oauth2-login (EMAIL_OAUTH2_${k.toUpperCase()})`,
    }));
    throw new ConfigError(formatIssues(issues), issues);
  }
  return {
    account: entry.address.trim().toLowerCase(),
    authUrl: o.auth_url!,
    tokenUrl: o.token_url!,
    clientId: o.client_id!,
    ...(o.client_secret ? { clientSecret: new Secret(o.client_secret) } : {}),
    ...(o.scope ? { scope: o.scope } : {}),
    tls: tlsFrom(cfg, ca),
  };
}

/** File config (validated) -> the resolved configuration. `ca` is the CA file's contents, read by the loader. */
export function resolveConfig(cfg: FileConfig, ca?: string): ResolvedConfig {
  const imap = endpoint(cfg.imap_server, cfg.imap_use_tls ? 993 : 143, cfg.imap_use_tls, 993);
  const smtp = endpoint(cfg.smtp_server, cfg.smtp_use_tls ? 465 : 587, cfg.smtp_use_tls, 465);
  const authservIds = cfg.sender_auth.authserv_ids;
  return {
    enabled: cfg.enabled,
    imap,
    smtp: { ...smtp, maxConnections: cfg.smtp_max_connections, rateLimitPerSecond: cfg.smtp_rate_limit },
    tls: tlsFrom(cfg, ca),
    accounts: resolveAccounts(cfg),
    ...(cfg.caldav_url ? { caldavUrl: cfg.caldav_url } : {}),
    ...(cfg.carddav_url ? { carddavUrl: cfg.carddav_url } : {}),
    watch: {
      idle: cfg.idle,
      idleListenerMaxMailboxes: cfg.idle_listener_max_mailboxes,
      pollIntervalMs: cfg.poll_interval * 1000,
      sweepIntervalMs: cfg.sweep_interval * 1000,
      initialSync: cfg.initial_sync,
      ...(cfg.processed_mailbox ? { processedMailbox: cfg.processed_mailbox } : {}),
      quarantineMailbox: cfg.quarantine_mailbox,
      maxAttempts: cfg.max_attempts,
      maxMessageBytes: cfg.max_message_bytes,
      dedupeAcrossMailboxes: cfg.dedupe_across_mailboxes,
      concurrency: cfg.concurrency,
      convertWorkers: cfg.convert_workers ?? Math.min(4, Math.max(1, availableParallelism() - 1)),
    },
    allowedSenders: cfg.allowed_senders.map((s) => s.toLowerCase()),
    allowContacts: cfg.allow_contacts,
    senderAuth: {
      policy: cfg.sender_auth.policy ?? (authservIds.length > 0 ? "enforce" : "off"),
      authservIds,
    },
    rateLimits: {
      perSender: windows(cfg.rate_limits.per_sender, DEFAULT_PER_SENDER),
      perConversation: windows(cfg.rate_limits.per_conversation, DEFAULT_PER_CONVERSATION),
    },
    stateDir: cfg.state_dir,
    timezone: cfg.timezone,
    reply: {
      replyAll: cfg.reply.reply_all,
      quoteOriginal: cfg.reply.quote_original,
      apology: cfg.reply.apology,
      sendStatus: cfg.reply.send_status,
      saveToSent: cfg.reply.save_to_sent,
      deliveryCopy: cfg.reply.delivery_copy,
    },
    agentTimeoutMs: cfg.agent_timeout * 1000,
    attachments: {
      maxBytes: cfg.attachments.max_bytes,
      maxCount: cfg.attachments.max_count,
      allowTypes: cfg.attachments.allow_types,
      denyTypes: cfg.attachments.deny_types,
    },
    reminders: {
      horizonDays: cfg.reminders.horizon_days,
      graceMinutes: cfg.reminders.grace_minutes,
      ...(cfg.reminders.default_alarm_minutes !== undefined
        ? { defaultAlarmMinutes: cfg.reminders.default_alarm_minutes }
        : {}),
      emailUser: cfg.reminders.email_user,
    },
    davPollIntervalMs: cfg.dav_poll_interval * 1000,
  };
}
