import pino, { type Logger, type LoggerOptions } from "pino";

export type { Logger } from "pino";

/**
 * Paths pino censors wherever they appear in a log object: secrets are redacted by configuration,
 * not by care. Covers our config objects, imapflow/nodemailer auth objects and HTTP headers.
 */
export const REDACT_PATHS = [
  "password",
  "pass",
  "token",
  "accessToken",
  "secret",
  "authorization",
  "Authorization",
  "*.password",
  "*.pass",
  "*.token",
  "*.accessToken",
  "*.secret",
  "*.authorization",
  "*.Authorization",
  "*.*.password",
  "*.*.pass",
  "*.*.accessToken",
  "*.*.authorization",
  "*.*.Authorization",
  "headers.authorization",
  "headers.Authorization",
  "auth.pass",
  "auth.password",
  "config.smtp.password",
  "config.imap.password",
];

export interface CreateLoggerOptions {
  /** pino level; default "info" (env LOG_LEVEL is read by the CLI, not here). */
  level?: string;
  /** Pretty output; default: when stdout is a TTY. */
  pretty?: boolean;
  /** Write to this destination instead of stdout (tests use it to scan log lines). */
  destination?: pino.DestinationStream;
  base?: Record<string, unknown>;
}

/** Creates the library's default logger: pino, secrets redacted, pretty on a TTY. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? "info",
    base: { name: "email-channel", ...(options.base ?? {}) },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
  };
  const pretty = options.pretty ?? (options.destination === undefined && process.stdout.isTTY === true);
  if (pretty) {
    return pino({ ...pinoOptions, transport: { target: "pino-pretty", options: { colorize: true } } });
  }
  return options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);
}

/** A logger that drops everything (the default when a host passes none and wants silence). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
