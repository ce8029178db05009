/**
 * Environment variables -> file keys. The names of ../shared/CONTRACT.md work verbatim; the rest follow
 * the same rule (EMAIL_ + the snake_case key in upper case; nested keys joined by "_").
 */

export type EnvValueType = "string" | "boolean" | "number" | "list" | "windows";

export interface EnvKey {
  /** Path under channels.email. */
  path: string[];
  type: EnvValueType;
  secret?: boolean;
}

const top = (key: string, type: EnvValueType, secret = false): [string, EnvKey] => [
  `EMAIL_${key.toUpperCase()}`,
  { path: [key], type, secret },
];

export const ENV_KEYS: ReadonlyMap<string, EnvKey> = new Map<string, EnvKey>([
  top("enabled", "boolean"),
  top("imap_server", "string"),
  top("smtp_server", "string"),
  top("imap_username", "string"),
  top("imap_password", "string", true),
  top("smtp_username", "string"),
  top("smtp_password", "string", true),
  top("imap_use_tls", "boolean"),
  top("smtp_use_tls", "boolean"),
  top("login_template", "string"),
  top("caldav_url", "string"),
  top("carddav_url", "string"),
  top("monitored_accounts", "list"),
  top("poll_interval", "number"),
  top("mailboxes", "list"),
  top("idle", "boolean"),
  top("idle_listener_max_mailboxes", "number"),
  top("sweep_interval", "number"),
  top("initial_sync", "string"),
  top("processed_mailbox", "string"),
  top("quarantine_mailbox", "string"),
  top("max_attempts", "number"),
  top("max_message_bytes", "number"),
  top("dedupe_across_mailboxes", "boolean"),
  top("concurrency", "number"),
  top("convert_workers", "number"),
  top("allowed_senders", "list"),
  top("allow_contacts", "boolean"),
  top("state_dir", "string"),
  top("tls_ca_file", "string"),
  top("tls_reject_unauthorized", "boolean"),
  top("timezone", "string"),
  top("agent_timeout", "number"),
  top("dav_poll_interval", "number"),
  top("smtp_max_connections", "number"),
  top("smtp_rate_limit", "number"),
  ["EMAIL_OAUTH2_TOKEN_URL", { path: ["oauth2", "token_url"], type: "string" }],
  ["EMAIL_OAUTH2_AUTH_URL", { path: ["oauth2", "auth_url"], type: "string" }],
  ["EMAIL_OAUTH2_CLIENT_ID", { path: ["oauth2", "client_id"], type: "string" }],
  ["EMAIL_OAUTH2_CLIENT_SECRET", { path: ["oauth2", "client_secret"], type: "string", secret: true }],
  ["EMAIL_OAUTH2_REFRESH_TOKEN", { path: ["oauth2", "refresh_token"], type: "string", secret: true }],
  ["EMAIL_OAUTH2_SCOPE", { path: ["oauth2", "scope"], type: "string" }],
  ["EMAIL_SENDER_AUTH_POLICY", { path: ["sender_auth", "policy"], type: "string" }],
  ["EMAIL_SENDER_AUTH_AUTHSERV_IDS", { path: ["sender_auth", "authserv_ids"], type: "list" }],
  ["EMAIL_RATE_LIMITS_PER_SENDER", { path: ["rate_limits", "per_sender"], type: "windows" }],
  ["EMAIL_RATE_LIMITS_PER_CONVERSATION", { path: ["rate_limits", "per_conversation"], type: "windows" }],
  ["EMAIL_REPLY_ALL", { path: ["reply", "reply_all"], type: "boolean" }],
  ["EMAIL_REPLY_QUOTE_ORIGINAL", { path: ["reply", "quote_original"], type: "boolean" }],
  ["EMAIL_REPLY_APOLOGY", { path: ["reply", "apology"], type: "string" }],
  ["EMAIL_REPLY_SAVE_TO_SENT", { path: ["reply", "save_to_sent"], type: "boolean" }],
  ["EMAIL_REPLY_DELIVERY_COPY", { path: ["reply", "delivery_copy"], type: "boolean" }],
  ["EMAIL_ATTACHMENTS_MAX_BYTES", { path: ["attachments", "max_bytes"], type: "number" }],
  ["EMAIL_ATTACHMENTS_MAX_COUNT", { path: ["attachments", "max_count"], type: "number" }],
  ["EMAIL_REMINDERS_HORIZON_DAYS", { path: ["reminders", "horizon_days"], type: "number" }],
  ["EMAIL_REMINDERS_GRACE_MINUTES", { path: ["reminders", "grace_minutes"], type: "number" }],
  ["EMAIL_REMINDERS_DEFAULT_ALARM_MINUTES", { path: ["reminders", "default_alarm_minutes"], type: "number" }],
  ["EMAIL_REMINDERS_EMAIL_USER", { path: ["reminders", "email_user"], type: "boolean" }],
]);

/** Variables with the EMAIL_ prefix that are not configuration keys. */
export const ENV_IGNORED = new Set(["EMAIL_CHANNEL_CONFIG"]);

export interface EnvParseIssue {
  envName: string;
  path: string[];
  message: string;
}

/** Parses one env value by its declared type. Never echoes the value in a message. */
export function parseEnvValue(raw: string, type: EnvValueType): { value: unknown } | { error: string } {
  const v = raw.trim();
  switch (type) {
    case "string":
      return { value: v };
    case "list":
      return {
        value: v
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      };
    case "boolean":
      if (/^(true|1|yes|on)$/i.test(v)) return { value: true };
      if (/^(false|0|no|off)$/i.test(v)) return { value: false };
      return { error: "expected true or false" };
    case "windows": {
      // "10/600,60/3600": at most 10 per 600 s and 60 per 3600 s; "" = no limit.
      const windows = [];
      for (const part of v
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const m = /^(\d+)\s*\/\s*(\d+)$/.exec(part);
        if (!m) return { error: 'expected windows like "10/600,60/3600" (max messages / seconds)' };
        windows.push({ max: Number(m[1]), window_seconds: Number(m[2]) });
      }
      return { value: windows };
    }
    case "number": {
      if (!/^-?\d+(\.\d+)?$/.test(v)) return { error: "expected a number" };
      return { value: Number(v) };
    }
  }
}
