import { loadConfig } from "../../src/index.js";

/**
 * A resolved config for code that never reaches a server (pipeline and queue tests, benches without
 * IMAP): one monitored account, placeholder server addresses and password, `env` on top.
 */
export function offlineConfig(account: string, env: Record<string, string> = {}) {
  return loadConfig({
    env: {
      EMAIL_IMAP_SERVER: "localhost:993",
      EMAIL_SMTP_SERVER: "localhost:465",
      EMAIL_MONITORED_ACCOUNTS: account,
      EMAIL_IMAP_USERNAME: account,
      EMAIL_IMAP_PASSWORD: "unused",
      ...env,
    },
  });
}
