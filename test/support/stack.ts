/**
 * Helpers for tests that run against the real servers of test/stack (or an external stack such as
 * Stalwart): the stack's addresses, users and CA, fault injection through ctl.sh, and raw delivery
 * through the stack's inbound SMTP port.
 *
 * Where the values come from:
 * - `STACK` unset or `local`: the file `$STACK_DIR/stack.env` (default /tmp/email-channel-stack) that
 *   test/stack/up.sh writes.
 * - `STACK=external` or `STACK=stalwart`: the same `STACK_*` variables, from the file named by
 *   `STACK_ENV_FILE` when set (test/stack/stalwart/provision.sh writes one), overridden by any
 *   `STACK_*` variable of `process.env`.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import nodemailer from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport";

export const STACK_USER_NAMES = ["assistant", "hello", "support", "alice", "bob", "mallory"] as const;
export type StackUserName = (typeof STACK_USER_NAMES)[number];
export type StackKind = "local" | "external" | "stalwart";
export const STACK_SERVICES = ["dovecot", "postfix", "radicale", "xandikos"] as const;
export type StackService = (typeof STACK_SERVICES)[number];
export type StackAction = "start" | "stop" | "restart" | "status";

export const DEFAULT_STACK_DIR = "/tmp/email-channel-stack";
export const STACK_SCRIPTS_DIR = fileURLToPath(new URL("../stack/", import.meta.url));

export interface StackUser {
  name: StackUserName;
  /** Login name and mail address, e.g. "alice@example.test". */
  address: string;
  password: string;
}

export interface StackEnv {
  kind: StackKind;
  /** True only for the local stack: ctl.sh can stop and start its daemons. */
  controllable: boolean;
  /** STACK_DIR of the local stack; undefined for an external one. */
  dir?: string;
  host: string;
  domain: string;
  /** Domain whose mail the MTA accepts and then bounces (local stack only). */
  bounceDomain?: string;
  ports: { imap: number; imaps: number; submission: number; smtps: number; smtpInbound: number };
  radicaleUrl: string;
  xandikosUrl: string;
  /** JMAP session endpoint, when the server has one (Stalwart). */
  jmapUrl?: string;
  /** Xandikos serves one principal for everybody (local stack: "/user/"). */
  xandikosPrincipal?: string;
  /** PEM file of the CA that signed the servers' certificates; undefined when they are publicly trusted. */
  caFile?: string;
  master: { user: string; password: string; separator: string };
  users: Record<StackUserName, StackUser>;
  /** Every STACK_* variable as read, for handing to child processes. */
  vars: Record<string, string>;
}

const REQUIRED = [
  "STACK_HOST",
  "STACK_DOMAIN",
  "STACK_IMAP_PORT",
  "STACK_IMAPS_PORT",
  "STACK_SUBMISSION_PORT",
  "STACK_SMTPS_PORT",
  "STACK_SMTP_INBOUND_PORT",
  "STACK_RADICALE_URL",
  "STACK_XANDIKOS_URL",
  "STACK_MASTER_USER",
  "STACK_MASTER_PASSWORD",
  ...STACK_USER_NAMES.flatMap((n) => [`STACK_USER_${n.toUpperCase()}`, `STACK_PASS_${n.toUpperCase()}`]),
] as const;

export function stackKind(env: NodeJS.ProcessEnv = process.env): StackKind {
  const kind = env.STACK ?? "local";
  if (kind === "local" || kind === "external" || kind === "stalwart") return kind;
  throw new Error(`STACK=${kind} is not one of local, external, stalwart`);
}

export function stackDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STACK_DIR || DEFAULT_STACK_DIR;
}

/** Parses KEY=VALUE lines; blank lines and # comments are skipped, values are taken verbatim. */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`malformed line in stack.env: ${JSON.stringify(line)}`);
    vars[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return vars;
}

/** Reads the stack's variables (see the module comment) and checks that none is missing. */
export function loadStackEnv(env: NodeJS.ProcessEnv = process.env): StackEnv {
  const kind = stackKind(env);
  let vars: Record<string, string>;
  if (kind === "local") {
    const file = `${stackDir(env)}/stack.env`;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (cause) {
      throw new Error(`cannot read ${file}: run "sudo bash test/stack/up.sh" first, or set STACK=external`, {
        cause,
      });
    }
    vars = parseEnvFile(text);
  } else {
    vars = {};
    if (env.STACK_ENV_FILE) {
      try {
        vars = parseEnvFile(readFileSync(env.STACK_ENV_FILE, "utf8"));
      } catch (cause) {
        throw new Error(`cannot read STACK_ENV_FILE=${env.STACK_ENV_FILE}`, { cause });
      }
    }
    for (const [key, value] of Object.entries(env)) {
      if (key.startsWith("STACK_") && key !== "STACK_ENV_FILE" && value !== undefined) vars[key] = value;
    }
  }
  const missing = REQUIRED.filter((key) => !vars[key]);
  if (missing.length > 0) {
    throw new Error(`stack (${kind}) is missing ${missing.join(", ")}`);
  }
  const get = (key: (typeof REQUIRED)[number]): string => vars[key]!;
  const port = (key: (typeof REQUIRED)[number]): number => {
    const value = Number(get(key));
    if (!Number.isInteger(value) || value <= 0 || value > 65535)
      throw new Error(`${key}=${get(key)} is not a port`);
    return value;
  };
  const users = Object.fromEntries(
    STACK_USER_NAMES.map((name) => {
      const upper = name.toUpperCase();
      const user: StackUser = {
        name,
        address: vars[`STACK_USER_${upper}`]!,
        password: vars[`STACK_PASS_${upper}`]!,
      };
      return [name, user];
    }),
  ) as Record<StackUserName, StackUser>;
  return {
    kind,
    controllable: kind === "local",
    dir: kind === "local" ? (vars.STACK_DIR ?? stackDir(env)) : undefined,
    host: get("STACK_HOST"),
    domain: get("STACK_DOMAIN"),
    bounceDomain: vars.STACK_BOUNCE_DOMAIN || undefined,
    ports: {
      imap: port("STACK_IMAP_PORT"),
      imaps: port("STACK_IMAPS_PORT"),
      submission: port("STACK_SUBMISSION_PORT"),
      smtps: port("STACK_SMTPS_PORT"),
      smtpInbound: port("STACK_SMTP_INBOUND_PORT"),
    },
    radicaleUrl: get("STACK_RADICALE_URL"),
    xandikosUrl: get("STACK_XANDIKOS_URL"),
    jmapUrl: vars.STACK_JMAP_URL || undefined,
    xandikosPrincipal: vars.STACK_XANDIKOS_PRINCIPAL || undefined,
    caFile: vars.STACK_CA_FILE || undefined,
    master: {
      user: get("STACK_MASTER_USER"),
      password: get("STACK_MASTER_PASSWORD"),
      // Dovecot's auth_master_user_separator; Stalwart impersonation uses "%".
      separator: vars.STACK_MASTER_SEPARATOR || "*",
    },
    users,
    vars,
  };
}

/** Node TLS options that trust the stack's CA (and only add to the default trust when there is none). */
export function stackTls(env: StackEnv = loadStackEnv()): { ca?: Buffer; rejectUnauthorized: true } {
  return env.caFile
    ? { ca: readFileSync(env.caFile), rejectUnauthorized: true }
    : { rejectUnauthorized: true };
}

/** The login that opens `user`'s mailbox with the master user's password ("alice@example.test*master"). */
export function masterLogin(user: StackUser, env: StackEnv = loadStackEnv()): string {
  return `${user.address}${env.master.separator}${env.master.user}`;
}

function runScript(args: string[], env: StackEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "bash",
      args,
      { env: { ...process.env, STACK_DIR: env.dir ?? stackDir() }, timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function requireControllable(env: StackEnv, what: string): void {
  if (!env.controllable) {
    throw new Error(`${what} needs the local stack (STACK=${env.kind} cannot be controlled); skip this test`);
  }
}

/**
 * Runs `test/stack/ctl.sh <action> <service>`: stop/start/restart really stop and start the daemon.
 * Resolves with the script's output; rejects when it fails. For "status" it resolves with
 * "<service> running" or "<service> stopped" instead of rejecting on the stopped exit code.
 * Async on purpose: clients under test keep running (and notice the outage) while it works.
 */
export async function stackCtl(
  action: StackAction,
  service: StackService,
  env: StackEnv = loadStackEnv(),
): Promise<string> {
  requireControllable(env, `ctl.sh ${action} ${service}`);
  const { code, stdout, stderr } = await runScript([`${STACK_SCRIPTS_DIR}ctl.sh`, action, service], env);
  if (code === 0 || (action === "status" && code === 3)) return stdout.trim();
  throw new Error(`ctl.sh ${action} ${service} failed (exit ${code}): ${stderr.trim() || stdout.trim()}`);
}

/**
 * Starts every service of the local stack that is not running, e.g. in an `afterAll` of a test that
 * stops daemons, so that a failure half-way does not leave the next test file without Dovecot.
 * Does nothing for an external stack or without root. Resolves with the services it started.
 */
export async function restoreStack(env: StackEnv = loadStackEnv()): Promise<StackService[]> {
  if (!env.controllable || process.getuid?.() !== 0) return [];
  const started: StackService[] = [];
  for (const service of STACK_SERVICES) {
    if ((await stackCtl("status", service, env)).endsWith("stopped")) {
      await stackCtl("start", service, env);
      started.push(service);
    }
  }
  return started;
}

/**
 * Gives `mailbox` of `address` a new UIDVALIDITY and resolves with it. With `renumber`, Dovecot also
 * forgets its UID list, so the same messages come back with new UIDs starting at 1.
 */
export async function resetUidValidity(
  address: string,
  options: { mailbox?: string; renumber?: boolean } = {},
  env: StackEnv = loadStackEnv(),
): Promise<number> {
  requireControllable(env, "reset-uidvalidity");
  const args = [`${STACK_SCRIPTS_DIR}ctl.sh`, "reset-uidvalidity", address, options.mailbox ?? "INBOX"];
  if (options.renumber) args.push("--renumber");
  const { code, stdout, stderr } = await runScript(args, env);
  const value = Number(stdout.trim());
  if (code !== 0 || !Number.isInteger(value)) {
    throw new Error(`ctl.sh reset-uidvalidity ${address} failed (exit ${code}): ${stderr.trim()}`);
  }
  return value;
}

/** Asks Postfix to retry deferred mail now (e.g. right after Dovecot came back). */
export async function flushMailQueue(env: StackEnv = loadStackEnv()): Promise<void> {
  requireControllable(env, "flush");
  const { code, stderr } = await runScript([`${STACK_SCRIPTS_DIR}ctl.sh`, "flush"], env);
  if (code !== 0) throw new Error(`ctl.sh flush failed (exit ${code}): ${stderr.trim()}`);
}

export interface DeliverEnvelope {
  /** MAIL FROM; may be any address, the inbound port does not authenticate. "" is the null sender. */
  from: string;
  /** RCPT TO; must be addresses of the stack's domain (anything else is refused, like on the Internet). */
  to: string | string[];
}

/**
 * Hands a raw RFC 5322 message to the stack's inbound SMTP port, as another mail server on the
 * Internet would: no AUTH, STARTTLS when offered, the envelope given separately from the headers.
 * Resolves once the server has accepted it (queued for delivery, not yet necessarily in the mailbox).
 */
export async function deliverRaw(
  raw: string | Buffer,
  envelope: DeliverEnvelope,
  env: StackEnv = loadStackEnv(),
): Promise<SMTPTransport.SentMessageInfo> {
  const transport = nodemailer.createTransport({
    host: env.host,
    port: env.ports.smtpInbound,
    secure: false,
    name: "mx.sender.test",
    tls: stackTls(env),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  try {
    const to = Array.isArray(envelope.to) ? envelope.to : [envelope.to];
    return await transport.sendMail({ envelope: { from: envelope.from, to }, raw });
  } finally {
    transport.close();
  }
}
