/**
 * The inbound stages without IMAP: where the backlog's time goes once the sources are in memory.
 * The same messages as bench/inbound's backlog (b), in one thread, each figure beside mailparser's
 * simpleParser over the same sources in the same round:
 *   - the converter alone (convertMessage: MIME, charsets, HTML to text, reply stripping), 8 at once;
 *   - the whole inbound pipeline (convert, de-duplicate, thread, guards, ledger records with their
 *     group commits, the agent queue, a no-op agent, `handled` recorded), 8 hand-overs in flight,
 *     as the watcher feeds it. A fresh state store (file, WAL) per round.
 * One warm-up round is not counted; the median round by ratio is reported with its own figures.
 *
 *   node --import tsx bench/inbound-stages.ts [--messages 2000] [--rounds 5]
 */
import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { simpleParser } from "mailparser";
import { GuardStage } from "../src/channel/guard-stage.js";
import { InboundPipeline } from "../src/channel/inbound-pipeline.js";
import { openSqliteStore, silentLogger } from "../src/index.js";
import { convertMessage } from "../src/mime/index.js";
import { KeyedQueue } from "../src/runtime/keyed-queue.js";
import { offlineConfig } from "../test/support/offline-config.js";
import { backlogSources } from "./support/backlog-mail.js";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "2000" },
    rounds: { type: "string", default: "5" },
  },
});
const count = Number(values.messages);
const rounds = Math.max(1, Number(values.rounds));
const account = "hello@bench.test";
const IN_FLIGHT = 8;

interface Figure {
  rate: number;
  /** Process CPU (all threads) per message, ms. */
  cpu: number;
}

async function timed(n: number, work: () => Promise<void>): Promise<Figure> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  return { rate: (n / ms) * 1000, cpu: (cpu.user + cpu.system) / 1000 / n };
}

/** Runs `each` over the sources with at most IN_FLIGHT started and not finished. */
async function windowed(sources: Buffer[], each: (raw: Buffer, i: number) => Promise<unknown>) {
  const inflight: Promise<unknown>[] = [];
  for (const [i, raw] of sources.entries()) {
    inflight.push(each(raw, i));
    if (inflight.length >= IN_FLIGHT) await inflight.shift();
  }
  await Promise.all(inflight);
}

const bare = (sources: Buffer[]) =>
  timed(sources.length, async () => {
    for (const raw of sources) await simpleParser(raw);
  });

const converter = (sources: Buffer[]) =>
  timed(sources.length, () => windowed(sources, (raw) => convertMessage(raw)));

async function pipeline(sources: Buffer[]): Promise<Figure> {
  const stateDir = mkdtempSync(join(tmpdir(), "ec-bench-stages-"));
  const config = await offlineConfig(account, { EMAIL_ALLOWED_SENDERS: "*", EMAIL_STATE_DIR: stateDir });
  // No rate limits, as in bench/inbound: an empty list disables a limit.
  config.rateLimits = { perSender: [], perConversation: [] };
  const store = openSqliteStore({ path: join(stateDir, "state.sqlite") });
  const guards = new GuardStage({ config, store, ownAddresses: [account] });
  let handled = 0;
  let allHandled!: () => void;
  const done = new Promise<void>((resolve) => {
    allHandled = resolve;
  });
  const abort = new AbortController();
  const stages = new InboundPipeline({
    config,
    store,
    logger: silentLogger(),
    secret: Buffer.alloc(32, 7),
    ownAddresses: [account],
    ownDomains: ["bench.test"],
    queue: new KeyedQueue(config.watch.concurrency),
    events: new EventEmitter(),
    convert: (raw, options) => convertMessage(raw, options),
    guard: (input) => guards.decide(input),
    recordAccepted: (input) => guards.recordAccepted(input),
    deliver: async () => {
      if (++handled === sources.length) allHandled();
    },
    settle: () => undefined,
    signal: abort.signal,
  });
  const figure = await timed(sources.length, async () => {
    await windowed(sources, (raw, i) =>
      stages.onMessage({
        account,
        mailbox: "INBOX",
        uidValidity: "1",
        uid: i + 1,
        size: raw.length,
        raw,
        resumed: false,
        unrecorded: true,
      }),
    );
    await done;
  });
  abort.abort();
  stages.stop();
  store.close();
  rmSync(stateDir, { recursive: true, force: true });
  return figure;
}

const measured: { bare: Figure; converter: Figure; pipeline: Figure }[] = [];
for (let r = 0; r <= rounds; r++) {
  const sources = await backlogSources(count, "alice@bench.test", account);
  const round = {
    bare: await bare(sources),
    converter: await converter(sources),
    pipeline: await pipeline(sources),
  };
  const pct = (f: Figure) => `${((f.rate / round.bare.rate) * 100).toFixed(0)} %`;
  console.error(
    `${r === 0 ? "warm-up (not counted)" : `round ${r}/${rounds}`}: simpleParser ${round.bare.rate.toFixed(0)} msg/s, converter ${round.converter.rate.toFixed(0)} msg/s (${pct(round.converter)}), pipeline ${round.pipeline.rate.toFixed(0)} msg/s (${pct(round.pipeline)})`,
  );
  if (r > 0) measured.push(round);
}

const median = <K extends "converter" | "pipeline">(key: K) =>
  [...measured].sort((a, b) => a[key].rate / a.bare.rate - b[key].rate / b.bare.rate)[
    Math.floor(measured.length / 2)
  ]!;
const row = (label: string, key: "converter" | "pipeline") => {
  const m = median(key);
  const cpu = (f: Figure) => `${f.cpu.toFixed(3)} ms CPU/msg`;
  return `| ${label} | ${m[key].rate.toFixed(0)} msg/s, ${cpu(m[key])} | ${m.bare.rate.toFixed(0)} msg/s, ${cpu(m.bare)} (simpleParser) | ${((m[key].rate / m.bare.rate) * 100).toFixed(0)} % (median of ${rounds}) |`;
};
console.log("\n| inbound stages, no IMAP | email-channel | baseline | ratio |\n|---|---|---|---|");
console.log(row(`converter alone, ${count} messages, one thread`, "converter"));
console.log(row(`whole inbound pipeline (no-op agent), ${count} messages, one thread`, "pipeline"));
