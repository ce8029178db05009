/**
 * The channel as a separate process, for tests that kill it (SIGKILL) and start it again. Configured
 * by EMAIL_* variables like the CLI; the agent records every hand-over to EC_AGENT_LOG (one JSON line
 * per call: the messageId, conversationId and pid) before it answers, optionally after a delay.
 * EC_KILL_ON_FIRST_SEND=1 kills the process (SIGKILL) at its first SMTP send attempt, that is after
 * the agent answered and the reply was written to the outbox, before anything reached the server.
 * EC_KILL_ON_SUBJECT=<subject> kills the process (SIGKILL) whenever the agent is handed a message
 * with that subject (a message the process keeps crashing on).
 */
import { appendFileSync } from "node:fs";
import { createLogger, EmailChannel, loadConfig } from "../../src/index.js";
import { SmtpSender } from "../../src/smtp/index.js";

const log = process.env.EC_AGENT_LOG!;
const delayMs = Number(process.env.EC_AGENT_DELAY_MS ?? "0");
const config = await loadConfig({ env: process.env });
const logger = createLogger({ level: process.env.LOG_LEVEL ?? "warn", pretty: false });
const killOnSend = process.env.EC_KILL_ON_FIRST_SEND === "1";
const killOnSubject = process.env.EC_KILL_ON_SUBJECT;
const channel = new EmailChannel(
  async (m) => {
    appendFileSync(
      log,
      `${JSON.stringify({ event: "start", messageId: m.messageId, conversationId: m.conversationId, pid: process.pid })}\n`,
    );
    if (killOnSubject && (m.metadata as { subject?: string }).subject === killOnSubject)
      process.kill(process.pid, "SIGKILL");
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    appendFileSync(log, `${JSON.stringify({ event: "answer", messageId: m.messageId, pid: process.pid })}\n`);
    return `ack ${m.messageId}`;
  },
  {
    config,
    logger,
    ...(killOnSend
      ? {
          senderFactory: (address: string) => {
            const account = config.accounts.find((a) => a.address === address)!;
            const real = new SmtpSender({
              host: config.smtp.host,
              port: config.smtp.port,
              secure: config.smtp.tls,
              auth: { user: account.smtp.username, pass: account.smtp.password.reveal() },
              tls: { ...(config.tls.ca ? { ca: config.tls.ca } : {}) },
            });
            return {
              send: (request, signal) => {
                appendFileSync(log, `${JSON.stringify({ event: "killed-before-send", pid: process.pid })}\n`);
                process.kill(process.pid, "SIGKILL");
                return real.send(request, signal);
              },
            };
          },
        }
      : {}),
  },
);
process.on("SIGTERM", () => void channel.stop().then(() => process.exit(0)));
await channel.start();
process.stdout.write("READY\n");
