/**
 * The agent the proof suites run the CLI with (`email-channel run --agent test/support/logging-agent.ts`):
 * it records every hand-over to EC_AGENT_LOG (one JSON line per call: the messageId, conversationId
 * and pid) before it answers, optionally after EC_AGENT_DELAY_MS; with EC_KILL_ON_SUBJECT=<subject>
 * it kills its process (SIGKILL) when handed a message with that subject.
 */
import { appendFileSync } from "node:fs";
import type { Agent } from "../../src/index.js";

const log = process.env.EC_AGENT_LOG;
const delayMs = Number(process.env.EC_AGENT_DELAY_MS ?? "0");
const killOnSubject = process.env.EC_KILL_ON_SUBJECT;

const record = (entry: Record<string, unknown>) => {
  if (log) appendFileSync(log, `${JSON.stringify({ ...entry, pid: process.pid })}\n`);
};

export const agent: Agent = async (m) => {
  record({ event: "start", messageId: m.messageId, conversationId: m.conversationId });
  if (killOnSubject && (m.metadata as { subject?: string }).subject === killOnSubject)
    process.kill(process.pid, "SIGKILL");
  if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
  record({ event: "answer", messageId: m.messageId });
  return `ack ${m.messageId}`;
};

export default agent;
