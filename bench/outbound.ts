/**
 * Outbound throughput: the same 200 composed replies sent through the stack's Postfix (submission,
 * STARTTLS, AUTH) twice in one run:
 *   - pooled: SmtpSender with a pool of 3 connections that are reused;
 *   - baseline: one connection per message (connect, STARTTLS, AUTH, send, QUIT each time).
 * Both keep 3 sends in flight (the outbox's default concurrency), so the difference is connection
 * reuse alone. Prints messages/second per mode and the ratio.
 *
 *   node --import tsx bench/outbound.ts [--count 200] [--concurrency 3]
 *
 * Needs the local stack (sudo bash test/stack/up.sh) or STACK=external with the STACK_* variables.
 * The messages go to the stack user bob.
 */
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { type ComposedMessage, composeMessage } from "../src/compose/index.js";
import type { SmtpSender } from "../src/smtp/index.js";
import { loadStackEnv } from "../test/support/stack.js";
import { stackSmtpSender } from "../test/support/stack-sender.js";

const { values } = parseArgs({
  options: { count: { type: "string", default: "200" }, concurrency: { type: "string", default: "3" } },
});
const count = Number(values.count);
const concurrency = Number(values.concurrency);
const env = loadStackEnv();
const from = env.users.hello;
const to = env.users.bob;

function makeSender(pool: boolean): SmtpSender {
  return stackSmtpSender(env, from, { pool, maxConnections: concurrency, maxMessagesPerConnection: 1_000 });
}

async function compose(n: number, label: string): Promise<ComposedMessage[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      composeMessage({
        from: { address: from.address, name: "Cassey" },
        to: [{ address: to.address }],
        subject: `Re: bench ${label} ${i}`,
        messageId: `bench-${randomUUID()}@${env.domain}`,
        inReplyTo: `<bench-parent-${i}@${env.domain}>`,
        markdown: `Thanks for your message.\n\nHere is **reply ${i}** with a [link](https://example.org/${i}).\n\n- a\n- b\n`,
      }),
    ),
  );
}

/** Sends all messages with `concurrency` in flight; returns elapsed ms. */
async function run(sender: SmtpSender, messages: ComposedMessage[]): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < messages.length) {
        const message = messages[next++]!;
        const result = await sender.send(message);
        if (!result.response.startsWith("250")) throw new Error(`unexpected reply ${result.response}`);
      }
    }),
  );
  return performance.now() - started;
}

async function measure(label: string, pool: boolean): Promise<{ label: string; ms: number }> {
  const sender = makeSender(pool);
  try {
    await run(sender, await compose(concurrency * 2, `${label} warm-up`));
    const ms = await run(sender, await compose(count, label));
    return { label, ms };
  } finally {
    await sender.close();
  }
}

const baseline = await measure("one connection per message", false);
const pooled = await measure(`pool of ${concurrency} connections`, true);

const rate = (ms: number) => count / (ms / 1000);
const rows = [baseline, pooled].map((r) => [
  r.label,
  String(count),
  (r.ms / 1000).toFixed(2),
  rate(r.ms).toFixed(1),
]);
const header = ["mode", "messages", "seconds", "msg/s"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
console.log(
  `outbound: ${count} replies via ${env.host}:${env.ports.submission} (STARTTLS + AUTH), ${concurrency} in flight`,
);
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of rows) console.log(line(row));
console.log(`pooled / per-message: ${(rate(pooled.ms) / rate(baseline.ms)).toFixed(2)}x`);
