/**
 * Idle footprint: resident memory and CPU of a channel that watches and waits, for 1 account and for
 * 100 watched mailboxes, each beside the same number of bare imapflow IDLE connections measured in the
 * same run (the floor: what holding that many IMAP sessions costs without the channel).
 *
 * The stack has six users, so "100" is 100 watchers over five of them (Dovecot's master user opens
 * each; every account watches INBOX and 19 extra mailboxes created for the run): one IMAP
 * session, IDLE loop, sweep timer and cursor per watcher, as 100 single-mailbox accounts would have.
 * Each side runs as its own process (node --import tsx, the same loader for both); the parent reads
 * VmRSS and utime+stime from /proc after the start has settled.
 *
 *   node --import tsx bench/idle-footprint.ts [--watchers 1,100] [--idle-seconds 30] [--settle-seconds 5]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ImapFlow } from "imapflow";
import { stackChannelEnv } from "../test/support/channel.js";
import { loadStackEnv, masterLogin, STACK_USER_NAMES, type StackUser } from "../test/support/stack.js";

const { values } = parseArgs({
  options: {
    watchers: { type: "string", default: "1,100" },
    "idle-seconds": { type: "string", default: "30" },
    "settle-seconds": { type: "string", default: "5" },
    role: { type: "string" },
    pairs: { type: "string" },
  },
});
const stack = loadStackEnv();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const users = STACK_USER_NAMES.slice(0, 5).map((n) => stack.users[n]);
const extraBoxes = Array.from({ length: 19 }, (_, i) => `Bench/idle-${String(i + 1).padStart(2, "0")}`);

function client(user: StackUser, idle: boolean): ImapFlow {
  const c = new ImapFlow({
    host: stack.host,
    port: stack.ports.imap,
    secure: false,
    doSTARTTLS: true,
    auth: { user: masterLogin(user, stack), pass: stack.master.password },
    tls: { ...(stack.caFile ? { ca: [readFileSync(stack.caFile, "utf8")] } : {}) },
    logger: false,
    disableAutoIdle: !idle,
  });
  c.on("error", () => undefined);
  return c;
}

/** The (account, mailbox) pairs that make up `n` watchers: INBOX of the assistant alone, or spread. */
function pairs(n: number): [StackUser, string][] {
  if (n === 1) return [[stack.users.assistant, "INBOX"]];
  const all: [StackUser, string][] = [];
  for (const box of ["INBOX", ...extraBoxes]) for (const u of users) all.push([u, box]);
  if (all.length < n) throw new Error(`only ${all.length} mailboxes available`);
  return all.slice(0, n);
}

if (values.role === "baseline") {
  // Child: the floor. One IMAP session per pair, the mailbox selected, IDLE.
  const list = JSON.parse(values.pairs!) as [string, string][];
  const clients: ImapFlow[] = [];
  for (const [name, box] of list) {
    const c = client(stack.users[name as keyof typeof stack.users], true);
    await c.connect();
    await c.mailboxOpen(box);
    clients.push(c);
  }
  process.stdout.write("READY\n");
  process.on("SIGTERM", () => void Promise.all(clients.map((c) => c.logout())).then(() => process.exit(0)));
  await new Promise(() => undefined);
}

function start(args: string[], env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    p.stdout!.on("data", (d: Buffer) => d.toString().includes("READY") && resolve(p));
    p.once("exit", (code) => reject(new Error(`${args.join(" ")} exited (${code}) before READY`)));
  });
}

/** RSS (MB) now, and CPU ms used over `seconds` of idling. */
async function footprint(p: ChildProcess, settleS: number, idleS: number) {
  // CPU of every thread (main, libuv pool, V8 helpers), in ns from schedstat: finer than stat's 10 ms ticks.
  const cpu = () =>
    readdirSync(`/proc/${p.pid}/task`).reduce(
      (sum, t) =>
        sum + Number(readFileSync(`/proc/${p.pid}/task/${t}/schedstat`, "utf8").split(" ")[0]) / 1e6,
      0,
    );
  await sleep(settleS * 1000);
  const c0 = cpu();
  const t0 = performance.now();
  await sleep(idleS * 1000);
  const cpuMs = cpu() - c0;
  const wallMs = performance.now() - t0;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p.pid}/status`, "utf8"))![1]) / 1024;
  p.kill("SIGTERM");
  await new Promise((r) => p.once("exit", r));
  return { rss, cpuPerMin: (cpuMs / wallMs) * 60_000 };
}

async function prepareMailboxes(): Promise<void> {
  for (const u of users) {
    const c = client(u, false);
    await c.connect();
    const existing = new Set((await c.list()).map((b) => b.path));
    for (const box of extraBoxes) if (!existing.has(box)) await c.mailboxCreate(box);
    await c.logout();
  }
}

async function removeMailboxes(): Promise<void> {
  for (const u of users) {
    const c = client(u, false);
    await c.connect();
    for (const box of extraBoxes) await c.mailboxDelete(box).catch(() => undefined);
    await c.mailboxDelete("Bench").catch(() => undefined);
    await c.logout();
  }
}

const counts = values.watchers.split(",").map(Number);
const settle = Number(values["settle-seconds"]);
const idle = Number(values["idle-seconds"]);
const rows: string[][] = [];
if (counts.some((n) => n > 1)) await prepareMailboxes();
try {
  for (const n of counts) {
    const list = pairs(n);
    const accounts = [...new Set(list.map(([u]) => u.address))];
    const boxes = [...new Set(list.map(([, b]) => b))];
    if (n > 1 && accounts.length * boxes.length !== n)
      throw new Error(`${n} watchers do not split evenly over ${accounts.length} accounts`);
    const env = stackChannelEnv(stack, {
      stateDir: mkdtempSync(join(tmpdir(), "ec-bench-idle-")),
      env: {
        EMAIL_INITIAL_SYNC: "new",
        ...(n > 1
          ? {
              EMAIL_MONITORED_ACCOUNTS: accounts.join(","),
              EMAIL_LOGIN_TEMPLATE: `%u${stack.master.separator}${stack.master.user}`,
              EMAIL_IMAP_PASSWORD: stack.master.password,
              EMAIL_MAILBOXES: boxes.join(","),
            }
          : {}),
        EMAIL_SWEEP_INTERVAL: "60",
      },
    });
    if (n > 1) delete env.EMAIL_IMAP_USERNAME;
    const channel = await footprint(
      await start(["test/support/channel-child.ts"], {
        ...env,
        EC_AGENT_LOG: join(env.EMAIL_STATE_DIR!, "agent.jsonl"),
        LOG_LEVEL: "error",
      }),
      settle,
      idle,
    );
    const bare = await footprint(
      await start(
        [
          "bench/idle-footprint.ts",
          "--role",
          "baseline",
          "--pairs",
          JSON.stringify(list.map(([u, b]) => [u.name, b])),
        ],
        {},
      ),
      settle,
      idle,
    );
    const what =
      n === 1 ? "1 account" : `${n} watched mailboxes (${accounts.length} accounts x ${boxes.length})`;
    rows.push([
      `${what}: RSS`,
      `${channel.rss.toFixed(1)} MB`,
      `${bare.rss.toFixed(1)} MB (bare imapflow IDLE)`,
      `${(channel.rss / bare.rss).toFixed(2)}x`,
    ]);
    rows.push([
      `${what}: CPU while idle`,
      `${channel.cpuPerMin.toFixed(0)} ms/min`,
      `${bare.cpuPerMin.toFixed(0)} ms/min`,
      bare.cpuPerMin > 0 ? `${(channel.cpuPerMin / bare.cpuPerMin).toFixed(2)}x` : "n/a",
    ]);
  }
} finally {
  if (counts.some((n) => n > 1)) await removeMailboxes();
}
console.log(
  `\n| idle footprint (${idle} s idle after ${settle} s settle) | email-channel | baseline | ratio |\n|---|---|---|---|`,
);
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
process.exit(0);
