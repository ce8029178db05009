/**
 * The channel as a separate process with a fault injected below the public API: with
 * EC_KILL_ON_FIRST_SEND=1 the process kills itself (SIGKILL) at its first SMTP send attempt, that is
 * after the agent answered and the reply was written to the outbox, before anything reached the
 * server. Configured by EMAIL_* variables like the CLI; the agent is test/support/logging-agent.ts.
 * Every other child the tests start runs the CLI itself (see child.ts).
 */
import { appendFileSync } from "node:fs";
import { createLogger, EmailChannel, loadConfig } from "../../src/index.js";
import { smtpAuthFor } from "../../src/smtp/account-auth.js";
import { SmtpSender } from "../../src/smtp/index.js";
import { agent } from "./logging-agent.js";

const config = await loadConfig({ env: process.env });
const logger = createLogger({ level: process.env.LOG_LEVEL ?? "warn", pretty: false });
const killOnSend = process.env.EC_KILL_ON_FIRST_SEND === "1";
const log = process.env.EC_AGENT_LOG!;
const channel = new EmailChannel(agent, {
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
            auth: smtpAuthFor(account, config.tls),
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
});
process.on("SIGTERM", () => void channel.stop().then(() => process.exit(0)));
await channel.start();
process.stdout.write("READY\n");
