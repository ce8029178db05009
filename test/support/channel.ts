/**
 * Builds an EmailChannel on the stack through the public API only: loadConfig with EMAIL_* values
 * pointing at the stack's servers, a fresh state dir per test.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Agent,
  createLogger,
  EmailChannel,
  type EmailChannelOptions,
  loadConfig,
  type Logger,
} from "../../src/index.js";
import { loadStackEnv, type StackEnv, type StackUserName } from "./stack.js";

export interface StackChannelOptions {
  accounts?: StackUserName[];
  env?: Record<string, string>;
  stateDir?: string;
  logger?: Logger;
  extra?: Partial<EmailChannelOptions>;
}

export function stackChannelEnv(stack: StackEnv, o: StackChannelOptions = {}): Record<string, string> {
  const accounts = o.accounts ?? ["assistant"];
  const yamlAccounts = accounts.map((n) => stack.users[n]);
  return {
    EMAIL_IMAP_SERVER: `${stack.host}:${stack.ports.imap}`,
    EMAIL_SMTP_SERVER: `${stack.host}:${stack.ports.submission}`,
    EMAIL_MONITORED_ACCOUNTS: yamlAccounts.map((u) => u.address).join(","),
    // One account: its own login. Several: Dovecot's master user opens each mailbox.
    ...(accounts.length === 1
      ? { EMAIL_IMAP_USERNAME: yamlAccounts[0]!.address, EMAIL_IMAP_PASSWORD: yamlAccounts[0]!.password }
      : {
          EMAIL_LOGIN_TEMPLATE: `%u${stack.master.separator}${stack.master.user}`,
          EMAIL_IMAP_PASSWORD: stack.master.password,
        }),
    ...(stack.caFile ? { EMAIL_TLS_CA_FILE: stack.caFile } : {}),
    EMAIL_ALLOWED_SENDERS: `*@${stack.domain}`,
    EMAIL_STATE_DIR: o.stateDir ?? mkdtempSync(join(tmpdir(), "ec-e2e-")),
    EMAIL_INITIAL_SYNC: "all",
    EMAIL_SWEEP_INTERVAL: "5",
    EMAIL_POLL_INTERVAL: "1",
    EMAIL_RATE_LIMITS_PER_SENDER: "1000/600",
    EMAIL_RATE_LIMITS_PER_CONVERSATION: "1000/600",
    ...(o.env ?? {}),
  };
}

export async function stackChannel(
  agent: Agent,
  o: StackChannelOptions = {},
): Promise<{ channel: EmailChannel; env: Record<string, string> }> {
  const stack = loadStackEnv();
  const env = stackChannelEnv(stack, o);
  const config = await loadConfig({ env });
  const logger = o.logger ?? createLogger({ level: process.env.LOG_LEVEL ?? "warn", pretty: false });
  return { channel: new EmailChannel(agent, { config, logger, ...(o.extra ?? {}) }), env };
}
