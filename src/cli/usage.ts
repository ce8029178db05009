import { EmailChannelError } from "../errors/index.js";

/** A command line the CLI cannot act on (exit code 1, the message says what to change). */
export function usageError(message: string): EmailChannelError {
  return new EmailChannelError(message, { code: "CLI_USAGE", stage: "cli", kind: "config" });
}
