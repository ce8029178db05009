import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The repository's loopback stack (test/stack), reachable from src/cli or dist/cli alike. */
export const STACK_UP = fileURLToPath(new URL("../../test/stack/up.sh", import.meta.url));

export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
  return out;
}

/**
 * Brings up the local Dovecot/Postfix/Radicale stack (as root, from the repository's own scripts)
 * and returns its variables. Used by `email-channel run` when no server is configured.
 */
export async function bringUpLocalStack(log: (line: string) => void): Promise<Record<string, string>> {
  if (!existsSync(STACK_UP)) {
    throw new Error(
      "no server is configured and the local stack scripts (test/stack) are not here: set EMAIL_IMAP_SERVER etc. or --config",
    );
  }
  log("no mail server configured: bringing up the local stack (Dovecot, Postfix, Radicale) on loopback...");
  const { stdout } = await run("bash", [STACK_UP], { maxBuffer: 64 * 1024 * 1024, env: process.env });
  const dir = process.env.STACK_DIR ?? "/tmp/email-channel-stack";
  const envFile = `${dir}/stack.env`;
  if (!existsSync(envFile)) throw new Error(`the stack did not write ${envFile}:\n${stdout.slice(-2000)}`);
  return parseEnvFile(readFileSync(envFile, "utf8"));
}

/**
 * The demo's state folder on the local stack. `run` empties it at each start: the loopback stack is
 * shared with the tests and benchmarks, and mail they left in the assistant's INBOX since the last
 * demo is not the demo's to answer (with the old cursor it would be handled as new, and its sender
 * rate-limited before the demo mail). With EMAIL_INITIAL_SYNC "new", each demo handles the mail that
 * arrives while it runs.
 */
export const demoStateDir = (stack: Record<string, string>) => `${stack.STACK_DIR}/demo-state`;

/** The channel's EMAIL_* environment for the local stack: the assistant account, people of the test domain allowed. */
export function localStackConfigEnv(stack: Record<string, string>): Record<string, string> {
  return {
    EMAIL_IMAP_SERVER: `${stack.STACK_HOST}:${stack.STACK_IMAP_PORT}`,
    EMAIL_SMTP_SERVER: `${stack.STACK_HOST}:${stack.STACK_SUBMISSION_PORT}`,
    EMAIL_IMAP_USERNAME: stack.STACK_USER_ASSISTANT!,
    EMAIL_IMAP_PASSWORD: stack.STACK_PASS_ASSISTANT!,
    EMAIL_MONITORED_ACCOUNTS: stack.STACK_USER_ASSISTANT!,
    EMAIL_TLS_CA_FILE: stack.STACK_CA_FILE!,
    EMAIL_ALLOWED_SENDERS: `*@${stack.STACK_DOMAIN}`,
    EMAIL_CALDAV_URL: stack.STACK_RADICALE_URL!,
    EMAIL_CARDDAV_URL: stack.STACK_RADICALE_URL!,
    EMAIL_STATE_DIR: demoStateDir(stack),
    EMAIL_INITIAL_SYNC: "new",
  };
}
