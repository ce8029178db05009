import { z } from "zod";

/**
 * The file schema: keys under `channels.email` in config.yaml, snake_case (../shared/CONTRACT.md).
 * Environment variables are mapped onto the same keys (env.ts) before validation, so one schema checks
 * both. Every object is strict: an unknown key is an error that names it.
 */

const hostPort = z
  .string()
  .trim()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, {
    message: 'expected "host:port", e.g. "localhost:993"',
  })
  .refine(
    (value) => {
      // The port follows the last ":" outside brackets ("[::1]" alone has none).
      const port = /:(\d+)$/.exec(value)?.[1];
      return port === undefined || (Number(port) >= 1 && Number(port) <= 65535);
    },
    { message: "expected a port from 1 to 65535" },
  );

const email = z
  .string()
  .trim()
  .regex(/^[^\s@<>()",;:]+@[^\s@<>()",;:]+\.?[^\s@<>()",;:]*$/, { message: "expected an email address" });

const secondsPositive = z
  .number({ message: "expected a number of seconds" })
  .positive({ message: "expected a number of seconds > 0" });
/**
 * Node's setTimeout holds at most 2^31-1 ms (24.8 days); a longer delay fires after 1 ms instead
 * (TimeoutOverflowWarning), so e.g. an agent_timeout of 3000000 s would abort every agent run at
 * once. Every duration in seconds that becomes a timer is refused above it.
 */
const MAX_TIMER_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const timerSeconds = secondsPositive.max(MAX_TIMER_SECONDS, {
  message: `expected at most ${MAX_TIMER_SECONDS} seconds (24.8 days): Node's timers cannot wait longer`,
});
const positiveInt = z
  .number({ message: "expected a whole number" })
  .int({ message: "expected a whole number" })
  .positive({ message: "expected a whole number > 0" });
const nonNegInt = z
  .number({ message: "expected a whole number" })
  .int({ message: "expected a whole number" })
  .min(0, { message: "expected a whole number >= 0" });

/**
 * OAuth 2.0 login (XOAUTH2/OAUTHBEARER for IMAP and SMTP, as Gmail and Microsoft 365 require): the
 * channel exchanges the refresh token for access tokens itself (RFC 6749 §6). At the top level it
 * applies to every account; an account's own block overrides field by field (typically only its
 * refresh_token). An account with a refresh token logs in with it; its password, if any, is then
 * used for CalDAV/CardDAV only.
 */
const oauth2Schema = z.strictObject({
  /** The provider's token endpoint, e.g. https://oauth2.googleapis.com/token. */
  token_url: z.url({ message: "expected an http(s) URL" }).optional(),
  /**
   * The provider's authorization endpoint (e.g. https://accounts.google.com/o/oauth2/v2/auth): only
   * `email-channel oauth2-login` uses it, to get the first refresh token with the user's consent.
   */
  auth_url: z.url({ message: "expected an http(s) URL" }).optional(),
  client_id: z.string().min(1).optional(),
  /** Absent for a public client. */
  client_secret: z.string().min(1).optional(),
  refresh_token: z.string().min(1).optional(),
  /** Space-separated scopes to ask for; default: those of the refresh token. */
  scope: z.string().min(1).optional(),
});

export const accountSchema = z.strictObject({
  /** The address the assistant answers as, and the mailbox owner. */
  address: email,
  /** Display name in From; default: none. */
  name: z.string().optional(),
  /** IMAP login; default: the shared imap_username / login_template. */
  username: z.string().min(1).optional(),
  password: z.string().min(1).optional(),
  /**
   * SMTP login; default: the top-level smtp_username/smtp_password (with several accounts only as a
   * pair: a relay login), else this account's IMAP login (user name and password together). An
   * smtp_username of its own takes this smtp_password, else the account's own password, never a
   * shared one.
   */
  smtp_username: z.string().min(1).optional(),
  smtp_password: z.string().min(1).optional(),
  /** OAuth 2.0 instead of a password for IMAP and SMTP; see the top-level `oauth2`. */
  oauth2: oauth2Schema.optional(),
  /** Mailboxes to watch; default: the global `mailboxes`. */
  mailboxes: z.array(z.string().min(1)).min(1).optional(),
});

const rateWindow = z.strictObject({
  max: positiveInt,
  window_seconds: secondsPositive,
});

export const fileSchema = z.strictObject({
  enabled: z.boolean().default(true),
  imap_server: hostPort,
  smtp_server: hostPort,
  imap_username: z.string().min(1).optional(),
  imap_password: z.string().min(1).optional(),
  /** The SMTP login of the one account, or with several a relay login (both given) for those without their own. */
  smtp_username: z.string().min(1).optional(),
  smtp_password: z.string().min(1).optional(),
  imap_use_tls: z.boolean().default(true),
  smtp_use_tls: z.boolean().default(true),
  oauth2: oauth2Schema.optional(),
  /** Login name template for a master-user login: "%u" is the account address, e.g. "%u*master". */
  login_template: z.string().includes("%u", { message: 'expected a template containing "%u"' }).optional(),
  caldav_url: z.url({ message: "expected an http(s) URL" }).optional(),
  carddav_url: z.url({ message: "expected an http(s) URL" }).optional(),
  monitored_accounts: z
    .array(z.union([email, accountSchema]))
    .min(1, { message: "expected at least one account" }),
  /** Seconds between polls when IDLE is unavailable or disabled. */
  poll_interval: timerSeconds.default(30),
  /** Mailboxes watched per account. */
  mailboxes: z.array(z.string().min(1)).min(1).default(["INBOX"]),
  /** Use IMAP IDLE when the server offers it; false = poll. */
  idle: z.boolean().default(true),
  /**
   * Accounts watching at most this many mailboxes get a second, IDLE-only connection per mailbox,
   * so new mail is heard while the main connection is busy (fetching, flagging). 0 = never. It
   * doubles the IMAP sessions: keep it under the server's per-user limit (Dovecot 10, Gmail 15).
   */
  idle_listener_max_mailboxes: nonNegInt.default(4),
  /** Seconds between full sweeps while IDLEing (catches what a dead IDLE missed). */
  sweep_interval: timerSeconds.default(60),
  /** What the first start handles: unseen mail, only mail arriving from now on, or everything. */
  initial_sync: z.enum(["unseen", "new", "all"]).default("unseen"),
  /** After handling, move the message here (created if missing); default: leave it in place. */
  processed_mailbox: z.string().min(1).optional(),
  /** Where messages the channel cannot handle are moved. */
  quarantine_mailbox: z.string().min(1).default("Quarantine"),
  /** Handling failures before a message is quarantined. */
  max_attempts: positiveInt.default(3),
  /** Larger messages are not downloaded: quarantined with the reason. Bytes. */
  max_message_bytes: positiveInt.default(25 * 1024 * 1024),
  /** The same Message-ID in several monitored mailboxes is handled once. */
  dedupe_across_mailboxes: z.boolean().default(true),
  /** Conversations handled in parallel (messages of one conversation are always sequential). */
  concurrency: positiveInt.default(4),
  /**
   * Worker threads that convert raw mail (MIME, charsets, HTML, quote stripping) beside the main
   * thread; 0 converts in the main thread. Default: the cores but one, 1 to 4.
   */
  convert_workers: nonNegInt.optional(),
  allowed_senders: z.array(z.string().trim().min(1)).default([]),
  /** Admit every address found in the CardDAV contacts. */
  allow_contacts: z.boolean().default(false),
  /** Sender authentication from Authentication-Results. */
  sender_auth: z
    .strictObject({
      policy: z.enum(["off", "warn", "enforce"]).optional(),
      authserv_ids: z.array(z.string().min(1)).default([]),
    })
    .default({ authserv_ids: [] }),
  rate_limits: z
    .strictObject({
      per_sender: z.array(rateWindow).optional(),
      per_conversation: z.array(rateWindow).optional(),
    })
    .default({}),
  state_dir: z.string().min(1).default("./.email-channel"),
  tls_ca_file: z.string().min(1).optional(),
  tls_reject_unauthorized: z.boolean().default(true),
  /** The user's IANA zone for all-day events and floating times. */
  timezone: z
    .string()
    .refine(
      (tz) => {
        try {
          new Intl.DateTimeFormat("en", { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      },
      { message: 'expected an IANA time zone such as "Europe/Berlin"' },
    )
    .default("UTC"),
  reply: z
    .strictObject({
      reply_all: z.boolean().default(false),
      quote_original: z.boolean().default(false),
      apology: z
        .string()
        .min(1)
        .default("Sorry, something went wrong while I was working on your message. Please try again later."),
      send_status: z.boolean().default(false),
      save_to_sent: z.boolean().default(true),
      delivery_copy: z.boolean().default(true),
    })
    .default({
      reply_all: false,
      quote_original: false,
      apology: "Sorry, something went wrong while I was working on your message. Please try again later.",
      send_status: false,
      save_to_sent: true,
      delivery_copy: true,
    }),
  /** Seconds the agent may take for one message before it is aborted. */
  agent_timeout: timerSeconds.default(300),
  attachments: z
    .strictObject({
      max_bytes: positiveInt.default(25 * 1024 * 1024),
      max_count: positiveInt.default(50),
      allow_types: z.array(z.string()).default([]),
      deny_types: z.array(z.string()).default([]),
    })
    .default({ max_bytes: 25 * 1024 * 1024, max_count: 50, allow_types: [], deny_types: [] }),
  reminders: z
    .strictObject({
      horizon_days: positiveInt.default(30),
      /** How late a missed reminder may still fire; 0: only on time (the timer's wake-up, within 5 s). */
      grace_minutes: nonNegInt.default(15),
      default_alarm_minutes: nonNegInt.optional(),
      email_user: z.boolean().default(true),
    })
    .default({ horizon_days: 30, grace_minutes: 15, email_user: true }),
  /** Seconds between CalDAV/CardDAV polls. */
  dav_poll_interval: timerSeconds.default(300),
  /** smtp pool size. */
  smtp_max_connections: positiveInt.default(3),
  /** Messages per second across all recipients (0 = unlimited). */
  smtp_rate_limit: nonNegInt.default(0),
});

export type FileConfig = z.infer<typeof fileSchema>;
export type AccountInput = z.infer<typeof accountSchema>;
