/**
 * The channel as a separate process, for tests that kill it (SIGKILL) and start it again. Configured
 * by EMAIL_* variables like the CLI; the agent records every hand-over to EC_AGENT_LOG (one JSON line
 * per call: the messageId, conversationId and pid) before it answers, optionally after a delay.
 */
import { appendFileSync } from "node:fs";
import { createLogger, EmailChannel, loadConfig } from "../../src/index.js";

const log = process.env.EC_AGENT_LOG!;
const delayMs = Number(process.env.EC_AGENT_DELAY_MS ?? "0");
const config = await loadConfig({ env: process.env });
const logger = createLogger({ level: process.env.LOG_LEVEL ?? "warn", pretty: false });
const channel = new EmailChannel(
  async (m) => {
    appendFileSync(
      log,
      `${JSON.stringify({ event: "start", messageId: m.messageId, conversationId: m.conversationId, pid: process.pid })}\n`,
    );
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    appendFileSync(log, `${JSON.stringify({ event: "answer", messageId: m.messageId, pid: process.pid })}\n`);
    return `ack ${m.messageId}`;
  },
  { config, logger },
);
process.on("SIGTERM", () => void channel.stop().then(() => process.exit(0)));
await channel.start();
process.stdout.write("READY\n");
