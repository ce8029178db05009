/**
 * Inbound benchmarks on the real stack, each beside a baseline measured in the same run:
 *   (a) latency: SMTP accepted -> agent invoked, p50/p99 over N messages, beside a plain imapflow
 *       IDLE client's EXISTS latency for the same messages (both watch the same INBOX at once);
 *   (b) backlog: M messages already in the INBOX drained to a no-op agent, messages/second, beside
 *       a bare batched FETCH + mailparser parse of the same mailbox; R rounds, each with its own
 *       baseline, the median ratio reported (one round of ~1 s swings by +-10 % on a shared box);
 *       each round also drains the same mailbox with the channel's watcher and conversion pool alone
 *       (every later stage replaced by a handler that only converts), to show what those stages cost,
 *       and reports the CPU time each side spent per message (this process; the whole machine);
 *   (c) memory: peak RSS growth while one message with a 50 MB attachment is handled.
 *
 *   node --import tsx bench/inbound.ts [--latency 50] [--backlog 2000] [--backlog-warmup 500]
 *     [--backlog-rounds 3] [--convert-workers N] [--attachment-mb 50] [--only abc]
 */
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { simpleParser } from "mailparser";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import { createLogger, EmailChannel, loadConfig, type MessageFormat } from "../src/index.js";
import { convertOptionsFor } from "../src/channel/inbound-records.js";
import { MailboxWatcher } from "../src/imap/mailbox-watcher.js";
import type { MailboxHandler } from "../src/imap/types.js";
import { ConvertPool, convertMessage } from "../src/mime/index.js";
import { openSqliteStore } from "../src/store/sqlite/index.js";
import { stackChannelEnv } from "../test/support/channel.js";
import { backlogSources } from "./support/backlog-mail.js";
import { type CpuPerMessage, cpuMeter } from "./support/cpu.js";
import { openMailbox, purgeMailbox, sendAs } from "../test/support/mail.js";
import { loadStackEnv } from "../test/support/stack.js";

const { values } = parseArgs({
  options: {
    latency: { type: "string", default: "50" },
    backlog: { type: "string", default: "2000" },
    "backlog-warmup": { type: "string", default: "500" },
    "backlog-rounds": { type: "string", default: "3" },
    // The channel's convert_workers (default: the library's, the cores but one); 0 = main thread.
    "convert-workers": { type: "string" },
    "attachment-mb": { type: "string", default: "50" },
    // Run some parts only, e.g. --only b (a: latency, b: backlog, c: memory).
    only: { type: "string", default: "abc" },
  },
});
const stack = loadStackEnv();
const { assistant, alice } = stack.users;
const quiet = createLogger({ level: "error", pretty: false });
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const signed = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const workersEnv: Record<string, string> =
  values["convert-workers"] !== undefined ? { EMAIL_CONVERT_WORKERS: values["convert-workers"] } : {};

/** (b) keeps one pool across its drains, as a long-running channel keeps its conversion workers. */
let backlogPool: ConvertPool | undefined;

/** The benches' channel config on the stack: any sender, no rate limits, a fresh state dir. */
async function benchConfig(env: Record<string, string>) {
  const config = await loadConfig({
    env: stackChannelEnv(stack, {
      stateDir: mkdtempSync(join(tmpdir(), "ec-bench-")),
      env: {
        EMAIL_ALLOWED_SENDERS: "*",
        EMAIL_RATE_LIMITS_PER_SENDER: "",
        EMAIL_SWEEP_INTERVAL: "60",
        ...workersEnv,
        ...env,
      },
    }),
  });
  // No rate limits for a benchmark: an empty list disables a limit.
  config.rateLimits = { perSender: [], perConversation: [] };
  return config;
}

async function channelWith(
  agent: (m: MessageFormat) => Promise<void>,
  env: Record<string, string> = {},
  o: { keepWorkers?: boolean } = {},
) {
  const config = await benchConfig(env);
  const workers = config.watch.convertWorkers;
  if (o.keepWorkers && workers > 0) {
    backlogPool ??= new ConvertPool({ workers });
    const pool = backlogPool;
    return new EmailChannel(agent, {
      config,
      logger: quiet,
      convert: (raw, opts) => pool.convert(raw, opts),
    });
  }
  return new EmailChannel(agent, { config, logger: quiet });
}

async function latency(n: number) {
  await purgeMailbox(assistant);
  const sentAt = new Map<string, number>();
  const sendTimes: number[] = [];
  const agentLat: number[] = [];
  const idleLat: number[] = [];
  let agentSeen = 0;
  const channel = await channelWith(async (m) => {
    const t = sentAt.get(m.messageId);
    if (t !== undefined) agentLat.push(performance.now() - t);
    agentSeen++;
  });
  await channel.start();
  // The baseline: a bare imapflow client IDLEing on the same INBOX.
  // Same IDLE timing as the channel's watcher (IDLE 50 ms after the last command).
  const bare = await openMailbox(assistant, stack, { autoIdleDelay: 50 });
  await bare.mailboxOpen("INBOX");
  // EXISTS carries the message count: message i is the one that makes it base + i + 1. Matching by
  // count (not "the next EXISTS after a send") keeps a late notification from being credited to
  // the next message with a tiny latency.
  let base = Number.NaN;
  let bareCount = 0;
  bare.on("exists", (e: { count: number }) => {
    bareCount = e.count;
    const t = sendTimes[e.count - base - 1];
    if (t !== undefined && idleLat[e.count - base - 1] === undefined)
      idleLat[e.count - base - 1] = performance.now() - t;
  });
  // One warm-up message (module loading, JIT), not counted.
  await sendAs(alice, { to: assistant.address, subject: "warm-up", text: "warm-up" });
  while (channel.store!.inbound.countByStatus().handled !== 1 || bareCount === 0) await sleep(5);
  base = bareCount;
  agentSeen = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    sendTimes[i] = t0;
    const id = (
      await sendAs(alice, { to: assistant.address, subject: `latency ${i}`, text: `ping ${i}` })
    ).replace(/^<|>$/g, "");
    // t0 (before the SMTP session) is the start for both measures; sendAs resolves once Postfix accepted.
    sentAt.set(id, t0);
    // Each message is measured on its own: the next one is sent once both sides have seen this one.
    const end = Date.now() + 15_000;
    while ((agentSeen <= i || idleLat[i] === undefined) && Date.now() < end) await sleep(2);
    await sleep(20);
  }
  await bare.logout();
  await channel.stop();
  return { agentLat, idleLat: idleLat.filter((x) => x !== undefined) };
}

async function fillBacklog(m: number) {
  await purgeMailbox(assistant);
  const client = await openMailbox(assistant);
  for (const raw of await backlogSources(m, alice.address, assistant.address))
    await client.append("INBOX", raw);
  await client.logout();
}

/**
 * (b) Both sides drain a smaller backlog first, not counted: neither is measured while V8 is still
 * compiling its code (a channel is a long-running process), and both are measured warm. The
 * warm-up's figures go to stderr.
 */
async function backlog(m: number, warmup: number, rounds: number) {
  if (warmup > 0) {
    const w = await drainOnce(warmup);
    console.error(
      `backlog warm-up (${warmup}, not counted): channel ${w.channelRate.toFixed(0)} msg/s, bare ${w.baselineRate.toFixed(0)} msg/s`,
    );
  }
  const measured: (Drained & { ratio: number })[] = [];
  for (let r = 0; r < rounds; r++) {
    const d = await drainOnce(m);
    measured.push({ ...d, ratio: d.channelRate / d.baselineRate });
    console.error(
      `backlog round ${r + 1}/${rounds}: channel ${d.channelRate.toFixed(0)} msg/s, bare ${d.baselineRate.toFixed(0)} msg/s = ${((d.channelRate / d.baselineRate) * 100).toFixed(0)} %; watcher + conversion alone ${d.stagesRate.toFixed(0)} msg/s = ${((d.stagesRate / d.baselineRate) * 100).toFixed(0)} %`,
    );
    console.error(
      `  CPU per message: channel ${cpuLine(d.channelCpu)}; bare ${cpuLine(d.baselineCpu)}; watcher + conversion alone ${cpuLine(d.stagesCpu)}`,
    );
  }
  await backlogPool?.close();
  // The median round by ratio: its own channel and baseline figures are reported with it.
  const median = [...measured].sort((a, b) => a.ratio - b.ratio)[Math.floor(measured.length / 2)]!;
  const stageRatios = measured.map((d) => d.stagesRate / d.baselineRate).sort((a, b) => a - b);
  return {
    ...median,
    ratios: measured.map((d) => d.ratio),
    stagesRatio: stageRatios[Math.floor(stageRatios.length / 2)]!,
  };
}

/** `N µs in this process, M µs on the machine (its cores P % busy)`. */
function cpuLine(c: CpuPerMessage): string {
  const machine = Number.isFinite(c.machineUs)
    ? `, ${c.machineUs.toFixed(0)} µs on the machine (${(c.machineBusy * 100).toFixed(0)} % busy)`
    : "";
  return `${c.processUs.toFixed(0)} µs in this process${machine}`;
}

interface Drained {
  baselineRate: number;
  channelRate: number;
  stagesRate: number;
  baselineCpu: CpuPerMessage;
  channelCpu: CpuPerMessage;
  stagesCpu: CpuPerMessage;
}

async function drainOnce(m: number): Promise<Drained> {
  await fillBacklog(m);
  // Baseline: batched FETCH of the full sources + mailparser, nothing else. Both sides are timed from
  // nothing: the bare client's connect, login and SELECT count as the channel's start() does.
  const b0 = performance.now();
  const bareCpu = cpuMeter();
  const bare = await openMailbox(assistant);
  const lock = await bare.getMailboxLock("INBOX");
  let parsed = 0;
  for (let start = 1; start <= m; start += 100) {
    const batch = await bare.fetchAll(`${start}:${Math.min(m, start + 99)}`, { uid: true, source: true });
    for (const msg of batch) {
      await simpleParser(msg.source!);
      parsed++;
    }
  }
  const baselineMs = performance.now() - b0;
  const baselineCpu = bareCpu(parsed);
  lock.release();
  await bare.logout();
  let handled = 0;
  // The clock stops when the last message reaches the agent (not at the next poll).
  let channelMs = 0;
  let allHandled!: () => void;
  const drained = new Promise<void>((resolve) => {
    allHandled = resolve;
  });
  const channel = await channelWith(
    async () => {
      if (++handled === m) {
        channelMs = performance.now() - c0;
        allHandled();
      }
    },
    { EMAIL_CONCURRENCY: "8" },
    { keepWorkers: true },
  );
  const c0 = performance.now();
  const channelCpu = cpuMeter();
  await channel.start();
  await drained;
  const channelCpuUsed = channelCpu(m);
  await channel.stop();
  // The channel left the messages in the INBOX (seen): the watcher alone converts them all again.
  const stages = await watcherAndConversion(m);
  return {
    baselineRate: (parsed / baselineMs) * 1000,
    channelRate: (handled / channelMs) * 1000,
    stagesRate: stages.rate,
    baselineCpu,
    channelCpu: channelCpuUsed,
    stagesCpu: stages.cpu,
  };
}

/**
 * The backlog drained by the channel's own watcher (same options as the channel's) and conversion
 * pool, with a handler that only converts: no ledger record, de-duplication, threading, guards,
 * MessageFormat, agent or \Seen. Timed from start() like the channel. What the channel takes beyond
 * this is what those stages cost.
 */
async function watcherAndConversion(m: number): Promise<{ rate: number; cpu: CpuPerMessage }> {
  const config = await benchConfig({});
  const account = config.accounts[0]!;
  const store = openSqliteStore({ path: join(config.stateDir, "state.sqlite") });
  // The channel's converter in this bench: the kept pool, or this thread with --convert-workers 0.
  const pool = backlogPool;
  const signal = new AbortController().signal;
  // One listener per conversion in flight (the watcher's window), as the channel allows on its own.
  setMaxListeners(64, signal);
  const options = convertOptionsFor(config, account.address, signal);
  let converted = 0;
  let ms = 0;
  let allConverted!: () => void;
  const done = new Promise<void>((resolve) => {
    allConverted = resolve;
  });
  const handler: MailboxHandler = {
    onMessage: async (message) => {
      await (pool ? pool.convert(message.raw, options) : convertMessage(message.raw, options));
      if (++converted === m) {
        ms = performance.now() - t0;
        allConverted();
      }
      return { action: "none" };
    },
    onOversize: async () => undefined,
    onVanished: async () => undefined,
  };
  const watcher = new MailboxWatcher({
    account,
    mailbox: "INBOX",
    endpoint: config.imap,
    tls: config.tls,
    store,
    handler,
    logger: quiet,
    idle: config.watch.idle,
    sweepIntervalMs: config.watch.sweepIntervalMs,
    initialSync: "all",
    maxMessageBytes: config.watch.maxMessageBytes,
  });
  const t0 = performance.now();
  const meter = cpuMeter();
  await watcher.start();
  await done;
  const cpu = meter(m);
  await watcher.stop();
  store.close();
  return { rate: (converted / ms) * 1000, cpu };
}

async function bigAttachment(mb: number) {
  await purgeMailbox(assistant);
  const client = await openMailbox(assistant);
  const blob = randomBytes(mb * 1024 * 1024);
  const raw = await new MailComposer({
    from: alice.address,
    to: assistant.address,
    subject: "big attachment",
    text: "see attached",
    attachments: [{ filename: "big.bin", content: blob }],
  })
    .compile()
    .build();
  await client.append("INBOX", raw);
  await client.logout();
  global.gc?.();
  await sleep(200);
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 5);
  let done = false;
  let stored = 0;
  const channel = await channelWith(
    async (m) => {
      stored = m.attachments[0]?.size ?? 0;
      done = true;
    },
    {
      EMAIL_MAX_MESSAGE_BYTES: String(200 * 1024 * 1024),
      EMAIL_ATTACHMENTS_MAX_BYTES: String(200 * 1024 * 1024),
    },
  );
  await channel.start();
  while (!done) await sleep(20);
  clearInterval(timer);
  await channel.stop();
  return { growthMb: (peak - base) / 1024 / 1024, stored };
}

const results: string[][] = [];
const only = values.only;
if (only.includes("a")) {
  const n = Number(values.latency);
  const lat = await latency(n);
  console.error(`latency samples: agent ${lat.agentLat.length}, idle ${lat.idleLat.length}`);
  results.push([
    "(a) SMTP accepted -> agent, p50",
    `${pct(lat.agentLat, 50).toFixed(1)} ms`,
    `${pct(lat.idleLat, 50).toFixed(1)} ms (bare IDLE EXISTS)`,
    `${signed(pct(lat.agentLat, 50) - pct(lat.idleLat, 50))} ms (target <= +100)`,
  ]);
  results.push([
    "(a) SMTP accepted -> agent, p99",
    `${pct(lat.agentLat, 99).toFixed(1)} ms`,
    `${pct(lat.idleLat, 99).toFixed(1)} ms`,
    `${lat.agentLat.length}/${n} measured`,
  ]);
}
if (only.includes("b")) {
  const m = Number(values.backlog);
  const rounds = Math.max(1, Number(values["backlog-rounds"]));
  const bl = await backlog(m, Number(values["backlog-warmup"]), rounds);
  const all = bl.ratios.map((r) => `${(r * 100).toFixed(0)}`).join(", ");
  results.push([
    `(b) backlog of ${m} drained, median of ${rounds} rounds`,
    `${bl.channelRate.toFixed(0)} msg/s`,
    `${bl.baselineRate.toFixed(0)} msg/s (bare FETCH+parse)`,
    `${(bl.ratio * 100).toFixed(0)} % (target >= 70 %; rounds: ${all} %; watcher + conversion alone: ${(bl.stagesRatio * 100).toFixed(0)} %)`,
  ]);
  results.push([
    "(b) CPU per message, same round",
    cpuLine(bl.channelCpu),
    cpuLine(bl.baselineCpu),
    `watcher + conversion alone: ${cpuLine(bl.stagesCpu)}`,
  ]);
}
if (only.includes("c")) {
  const mb = Number(values["attachment-mb"]);
  const big = await bigAttachment(mb);
  results.push([
    `(c) ${mb} MB attachment, peak RSS growth`,
    `${big.growthMb.toFixed(1)} MB`,
    `${mb} MB (attachment size)`,
    `stored ${(big.stored / 1024 / 1024).toFixed(1)} MB (target growth <= 64 MB)`,
  ]);
}
console.log("\n| inbound | email-channel | baseline | ratio / note |\n|---|---|---|---|");
for (const r of results) console.log(`| ${r.join(" | ")} |`);
process.exit(0);
