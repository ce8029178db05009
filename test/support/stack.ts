/**
 * Helpers for tests that run against the real servers of test/stack (or an external stack such as
 * Stalwart): the stack's addresses, users and CA (loaded by test/stack/stack-env.ts, re-exported
 * here), TLS options, fault injection through ctl.sh, and raw delivery through the inbound SMTP port.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import nodemailer from "nodemailer";
import type SMTPTransport from "nodemailer/lib/smtp-transport";
import {
  STACK_SCRIPTS_DIR,
  STACK_SERVICES,
  type StackAction,
  type StackEnv,
  type StackService,
  type StackUser,
  loadStackEnv,
  stackDir,
} from "../stack/stack-env.js";

export * from "../stack/stack-env.js";

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
 *
 * A service stopped inside a test is started again when that test finishes (vitest onTestFinished),
 * if the test did not start it itself: a fault test that fails half-way must not leave every later
 * test file without Dovecot or Postfix. Outside a running test (hooks, scripts) the caller restores.
 */
export async function stackCtl(
  action: StackAction,
  service: StackService,
  env: StackEnv = loadStackEnv(),
): Promise<string> {
  requireControllable(env, `ctl.sh ${action} ${service}`);
  const { code, stdout, stderr } = await runScript([`${STACK_SCRIPTS_DIR}ctl.sh`, action, service], env);
  if (action === "stop" && code === 0) await restartWhenTestFinishes(service, env);
  if (code === 0 || (action === "status" && code === 3)) return stdout.trim();
  throw new Error(`ctl.sh ${action} ${service} failed (exit ${code}): ${stderr.trim() || stdout.trim()}`);
}

async function restartWhenTestFinishes(service: StackService, env: StackEnv): Promise<void> {
  // Imported here, not at the top: the global setup (outside any test worker) imports this module too.
  const { onTestFinished } = await import("vitest");
  try {
    onTestFinished(async () => {
      if ((await stackCtl("status", service, env)).endsWith("stopped")) await stackCtl("start", service, env);
    });
  } catch {
    // Not inside a running test.
  }
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
