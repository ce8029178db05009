/** Scaffolding shared by the outbox dispatcher tests: a scripted sender, entries, a wait. */
import { AbortedError, type EmailChannelError } from "../../../../src/errors/index.js";
import { OutboxDispatcher, type OutboxDispatcherOptions } from "../../../../src/outbox/index.js";
import type { OutboundSender, SendRequest, SendResult } from "../../../../src/smtp/index.js";

export type Step = SendResult | EmailChannelError | "hang";

/** Replays scripted outcomes, records every call; "hang" waits until the signal aborts. */
export class ScriptedSender implements OutboundSender {
  calls: SendRequest[] = [];
  constructor(private readonly steps: Step[] = []) {}
  async send(request: SendRequest, signal?: AbortSignal): Promise<SendResult> {
    this.calls.push(request);
    const step = this.steps.shift() ?? ok();
    await new Promise((r) => setTimeout(r, 5));
    if (step === "hang") {
      await new Promise<void>((_, reject) => {
        if (signal?.aborted) reject(new AbortedError("smtp"));
        signal?.addEventListener("abort", () => reject(new AbortedError("smtp")), { once: true });
      });
    }
    if (step instanceof Error) throw step;
    return step as SendResult;
  }
}

export function ok(response = "250 2.0.0 Ok: queued as 4Xk2"): SendResult {
  return { response, accepted: ["alice@example.com"], rejected: [] };
}
export function entry(key: string) {
  return {
    key,
    conversationId: "c-1",
    messageId: `${key}@cassey.ai`,
    account: "hello@cassey.ai",
    recipients: ["alice@example.com"],
    raw: new Uint8Array(Buffer.from(`Message-ID: <${key}@cassey.ai>\r\n\r\nhi\r\n`)),
  };
}

export async function until(check: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A dispatcher with the tests' fast timing (20-80 ms backoff, 50 ms poll, no jitter) over `repo`. */
export function fastDispatcher(
  repo: OutboxDispatcherOptions["repo"],
  sender: OutboundSender,
  extra: Partial<OutboxDispatcherOptions> = {},
): OutboxDispatcher {
  return new OutboxDispatcher({
    repo,
    sender,
    retry: { baseDelayMs: 20, maxDelayMs: 80 },
    pollIntervalMs: 50,
    random: () => 0,
    ...extra,
  });
}
