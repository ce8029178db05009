/** The real SmtpSender logged in as a stack user on the stack's submission port (STARTTLS, its CA). */
import { readFileSync } from "node:fs";
import { SmtpSender, type SmtpSenderOptions } from "../../src/smtp/index.js";
import type { StackEnv, StackUser } from "./stack.js";

export function stackSmtpSender(
  env: StackEnv,
  user: StackUser,
  options: Partial<SmtpSenderOptions> = {},
): SmtpSender {
  const ca = env.caFile ? readFileSync(env.caFile) : undefined;
  return new SmtpSender({
    host: env.host,
    port: env.ports.submission,
    secure: "starttls",
    auth: { user: user.address, pass: user.password },
    ...(ca ? { tls: { ca } } : {}),
    ...options,
  });
}
