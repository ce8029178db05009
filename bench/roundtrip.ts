/**
 * Inbound-to-reply latency on the real stack: a person sends (Postfix submission accepted) -> the
 * channel's reply lands in the person's INBOX (EXISTS on an IDLE client), p50/p99 over N round
 * trips, beside the transport floor measured in the same run: one plain message person -> person
 * (submission accepted -> EXISTS in the recipient's INBOX). Reply = two such hops plus the channel.
 *
 *   node --import tsx bench/roundtrip.ts [--count 50]
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLogger, EmailChannel, loadConfig } from "../src/index.js";
import { stackChannelEnv } from "../test/support/channel.js";
import { openMailbox, purgeMailbox, sendAs } from "../test/support/mail.js";
import { loadStackEnv, type StackUser } from "../test/support/stack.js";

const { values } = parseArgs({ options: { count: { type: "string", default: "50" } } });
const n = Number(values.count);
const stack = loadStackEnv();
const { assistant, alice, bob } = stack.users;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends n messages from `from` to `to`; returns latency from "accepted" to EXISTS at `watch`. */
async function measure(from: StackUser, to: string, watch: StackUser, label: string): Promise<number[]> {
  const client = await openMailbox(watch, stack, { autoIdleDelay: 50 });
  await client.mailboxOpen("INBOX");
  let arrived: (() => void) | undefined;
  client.on("exists", () => arrived?.());
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const got = new Promise<void>((r) => (arrived = r));
    const t0 = performance.now();
    await sendAs(from, { to, subject: `${label} ${i}`, text: `round trip ${i}` });
    await Promise.race([got, sleep(20_000)]);
    out.push(performance.now() - t0);
    await sleep(50);
  }
  await client.logout();
  return out;
}

for (const u of [assistant, alice, bob]) await purgeMailbox(u);
const floor = await measure(alice, bob.address, bob, "floor");
const config = await loadConfig({
  env: stackChannelEnv(stack, {
    stateDir: mkdtempSync(join(tmpdir(), "ec-rt-")),
    env: { EMAIL_INITIAL_SYNC: "new" },
  }),
});
config.rateLimits = { perSender: [], perConversation: [] };
const channel = new EmailChannel(async (m) => `echo: ${m.content}`, {
  config,
  logger: createLogger({ level: "error", pretty: false }),
});
await channel.start();
const reply = await measure(alice, assistant.address, alice, "roundtrip");
await channel.stop();
console.log(
  "\n| round trip | email-channel reply in INBOX | baseline: one plain hop | ratio |\n|---|---|---|---|",
);
console.log(
  `| p50 over ${n} | ${pct(reply, 50).toFixed(0)} ms | ${pct(floor, 50).toFixed(0)} ms | ${(pct(reply, 50) / pct(floor, 50)).toFixed(2)}x (two hops + channel) |`,
);
console.log(`| p99 | ${pct(reply, 99).toFixed(0)} ms | ${pct(floor, 99).toFixed(0)} ms | |`);
process.exit(0);
