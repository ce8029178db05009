#!/usr/bin/env node
import { existsSync, rmSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { EmailChannel } from "../channel/email-channel.js";
import { loadConfig } from "../config/index.js";
import type { Agent } from "../contract/types.js";
import { createLogger } from "../log/index.js";
import { formatCheckLine, runChecks } from "./check.js";
import { demoAgent } from "./demo-agent.js";
import { demoRoundTrip } from "./demo-roundtrip.js";
import { oauth2Login } from "./oauth2-login.js";
import { usageError } from "./usage.js";
import { bringUpLocalStack, demoStateDir, localStackConfigEnv } from "./local-stack.js";

const USAGE = `email-channel: give an AI assistant an email address

Usage:
  email-channel run   [--config config.yaml] [--agent ./agent.js] [--no-demo-mail]
  email-channel check [--config config.yaml]
  email-channel send  [--config config.yaml] --to addr[,addr] --subject "..." [--from account] [text | -]
  email-channel oauth2-login [--config config.yaml] [--account addr] [--port N] [--param key=value]...
  email-channel help

Configuration comes from --config (or EMAIL_CHANNEL_CONFIG) and EMAIL_* variables (env wins).
Without any server configured, "run" brings up the repository's local stack (Dovecot, Postfix,
Radicale on loopback; needs root), answers with a demo agent and sends itself a demo mail.
"oauth2-login" gets an account's first OAuth 2.0 refresh token with its user's consent in a browser
(needs oauth2.auth_url, token_url, client_id; Google also --param access_type=offline --param
prompt=consent) and prints it as EMAIL_OAUTH2_REFRESH_TOKEN=... on stdout.
LOG_LEVEL sets the log level (default info).`;

const say = (line: string) => process.stdout.write(`${line}\n`);

async function loadAgent(path: string | undefined): Promise<Agent | undefined> {
  if (!path) return undefined;
  const url = existsSync(path) ? pathToFileURL(path).href : path;
  const mod = (await import(url)) as { default?: Agent; agent?: Agent };
  const agent = mod.default ?? mod.agent;
  if (typeof agent !== "function")
    throw new Error(`${path} exports no agent function (default export or "agent")`);
  return agent;
}

function configured(file: string | undefined): boolean {
  return Boolean(file ?? process.env.EMAIL_CHANNEL_CONFIG ?? process.env.EMAIL_IMAP_SERVER);
}

async function cmdRun(values: Record<string, unknown>): Promise<number> {
  const file = values.config as string | undefined;
  let env: Record<string, string | undefined> = process.env;
  let stack: Record<string, string> | undefined;
  if (!configured(file)) {
    stack = await bringUpLocalStack(say);
    rmSync(demoStateDir(stack), { recursive: true, force: true });
    env = {
      ...localStackConfigEnv(stack),
      ...Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith("EMAIL_") || k === "EMAIL_CHANNEL_CONFIG"),
      ),
    };
  }
  const config = await loadConfig({ ...(file ? { file } : {}), env });
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? "info" });
  let channel: EmailChannel | undefined;
  const agent =
    (await loadAgent(values.agent as string | undefined)) ??
    demoAgent({
      reminders: () => channel?.reminderSink ?? channel?.store?.reminders,
      profiles: () => channel?.profileSink ?? channel?.store?.profiles,
    });
  channel = new EmailChannel(agent, { config, logger });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping");
    await channel?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  await channel.start();
  say(`email-channel is running for ${config.accounts.map((a) => a.address).join(", ")}. Ctrl-C stops it.`);
  if (stack && values["demo-mail"] !== false) {
    try {
      await demoRoundTrip(stack, say);
      say(
        `demo: done. The channel keeps running: write to ${stack.STACK_USER_ASSISTANT} as alice (password in ${stack.STACK_DIR}/stack.env), or press Ctrl-C.`,
      );
    } catch (error) {
      say(`demo: ${(error as Error).message}`);
    }
  }
  await new Promise(() => undefined);
  return 0;
}

async function cmdCheck(values: Record<string, unknown>): Promise<number> {
  const config = await loadConfig(values.config ? { file: values.config as string } : {});
  const lines = await runChecks(config);
  for (const line of lines) say(formatCheckLine(line));
  return lines.every((l) => l.ok) ? 0 : 1;
}

async function cmdSend(values: Record<string, unknown>, positionals: string[]): Promise<number> {
  const to = values.to as string | undefined;
  if (!to) throw usageError("send needs --to");
  const config = await loadConfig(values.config ? { file: values.config as string } : {});
  let text = positionals.join(" ");
  if (text === "-" || text === "")
    text = await new Promise<string>((resolve) => {
      let data = "";
      process.stdin.setEncoding("utf8");
      process.stdin.on("data", (c) => (data += c));
      process.stdin.on("end", () => resolve(data));
    });
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? "warn" });
  const channel = new EmailChannel(async () => undefined, {
    config: { ...config, accounts: config.accounts },
    logger,
  });
  await channel.start();
  try {
    const sent = await channel.sendMessage(`cli-${Date.now()}`, text, {
      to: to.split(","),
      subject: (values.subject as string | undefined) ?? "A message from your assistant",
      ...(values.from ? { from: values.from as string } : {}),
    });
    say(
      `${sent.status}: ${sent.messageId} to ${sent.recipients.join(", ")}${sent.response ? ` (${sent.response})` : ""}`,
    );
    return sent.status === "failed" ? 1 : 0;
  } finally {
    await channel.stop();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: "string", short: "c" },
      agent: { type: "string" },
      to: { type: "string" },
      subject: { type: "string" },
      from: { type: "string" },
      account: { type: "string" },
      port: { type: "string" },
      param: { type: "string", multiple: true },
      "no-demo-mail": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command || command === "help") {
    say(USAGE);
    return command && command !== "help" ? 2 : 0;
  }
  const opts = { ...values, "demo-mail": !values["no-demo-mail"] };
  switch (command) {
    case "run":
      return cmdRun(opts);
    case "check":
      return cmdCheck(opts);
    case "send":
      return cmdSend(opts, rest);
    case "oauth2-login": {
      const abort = new AbortController();
      process.once("SIGINT", () => abort.abort("interrupted"));
      return oauth2Login({
        ...(values.config ? { config: values.config } : {}),
        ...(values.account ? { account: values.account } : {}),
        ...(values.port ? { port: values.port } : {}),
        ...(values.param ? { params: values.param } : {}),
        tell: (line) => process.stderr.write(`${line}\n`),
        print: say,
        signal: abort.signal,
      });
    }
    default:
      say(USAGE);
      return 2;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly || process.argv[1]?.endsWith("email-channel")) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const e = error as Error & { code?: string };
      process.stderr.write(`email-channel: ${e.message}${e.code ? ` [${e.code}]` : ""}\n`);
      process.exit(1);
    },
  );
}
