import type { ImapFlow } from "imapflow";
import { ServerError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { uidSet } from "./sync-plan.js";
import type { MailboxTodo } from "../store/types.js";
import type { Disposition } from "./types.js";

/** Keyword set on mail refused by a guard, besides \Flagged (servers without keywords ignore it). */
export const REFUSED_KEYWORD = "$EmailChannelRefused";

/** Per connection, the mailboxes CREATE was sent for: created, there already, or refused (see ensureMailbox). */
const asked = new WeakMap<ImapFlow, Set<string>>();

/** UID STORE ... +FLAGS.SILENT: the server does not echo one FETCH (FLAGS) line per message back. */
const STORE_SILENT = { uid: true, silent: true } as const;

/**
 * Creates a mailbox once per connection when it is missing (ALREADYEXISTS is fine). A CREATE the
 * server refuses (NO [NOPERM], a quota, a name it will not take) is logged once and not sent again
 * on this connection: the MOVE that follows then fails (NO [TRYCREATE]) unless the mailbox exists
 * after all (a server may check the right to create before existence), and what it should have
 * moved stays owed until the next session asks again. Throwing instead failed the flush before
 * every sync cycle, so no new mail was handled again. A lost connection still throws.
 */
export async function ensureMailbox(client: ImapFlow, path: string, logger: Logger): Promise<void> {
  let known = asked.get(client);
  if (!known) {
    known = new Set();
    asked.set(client, known);
  }
  if (known.has(path)) return;
  try {
    await client.mailboxCreate(path);
  } catch (error) {
    const e = error as { serverResponseCode?: string; responseText?: string };
    if (e.serverResponseCode !== "ALREADYEXISTS" && !/exists/i.test(e.responseText ?? "")) {
      if (!refusedByServer(client, error)) throw error;
      known.add(path);
      const refusal = new ServerError(`the IMAP server refused to create mailbox "${path}"`, {
        code: "IMAP_CREATE_REFUSED",
        stage: "imap",
        retryable: true,
        response: [e.serverResponseCode && `[${e.serverResponseCode}]`, e.responseText]
          .filter(Boolean)
          .join(" "),
        cause: error,
        details: { mailbox: path },
      });
      logger.warn(
        { err: refusal, mailbox: path, response: refusal.response },
        "the server refused to create the mailbox: messages to move there stay owed until the next session",
      );
      return;
    }
  }
  known.add(path);
}

/**
 * A tagged NO or BAD on a connection still up: the server said no. imapflow's own reading
 * (commands/list.js): a BAD that asks to wait (Microsoft 365 throttling, ETHROTTLE) is not a refusal.
 */
function refusedByServer(client: ImapFlow, error: unknown): boolean {
  const e = error as { responseStatus?: string; code?: string };
  return (e.responseStatus === "NO" || e.responseStatus === "BAD") && e.code !== "ETHROTTLE" && client.usable;
}

/**
 * Applies settled dispositions with one command per kind of action (UID sets, RFC 3501 §9). Nothing
 * is ever deleted: a message leaves the mailbox only by a MOVE to the processed or quarantine
 * mailbox. Returns the UIDs whose command was not carried out: imapflow reports a failed STORE or MOVE (a NO,
 * or a connection lost meanwhile) as `false`, never as an error; a refused CREATE of the target
 * mailbox shows as its MOVE failing (see ensureMailbox).
 */
export async function applyDispositions(
  client: ImapFlow,
  items: [number, Disposition][],
  options: { processedMailbox?: string; quarantineMailbox?: string; mailbox: string; logger: Logger },
): Promise<number[]> {
  const seen = items.filter(([, d]) => d.action === "seen").map(([u]) => u);
  const refused = items.filter(([, d]) => d.action === "refused").map(([u]) => u);
  const quarantined = items.filter(([, d]) => d.action === "quarantine").map(([u]) => u);
  const failed: number[] = [];
  if (seen.length > 0) {
    const range = uidSet(seen);
    let done = await client.messageFlagsAdd(range, ["\\Seen"], STORE_SILENT);
    if (done && options.processedMailbox && options.processedMailbox !== options.mailbox) {
      await ensureMailbox(client, options.processedMailbox, options.logger);
      done = !!(await client.messageMove(range, options.processedMailbox, { uid: true }));
    }
    if (!done) failed.push(...seen);
  }
  if (
    refused.length > 0 &&
    !(await client.messageFlagsAdd(uidSet(refused), ["\\Flagged", REFUSED_KEYWORD], STORE_SILENT))
  )
    failed.push(...refused);
  if (quarantined.length > 0) {
    const target = options.quarantineMailbox ?? "Quarantine";
    await ensureMailbox(client, target, options.logger);
    if (!(await client.messageMove(uidSet(quarantined), target, { uid: true }))) failed.push(...quarantined);
  }
  return failed;
}

/** The disposition a ledger record still owes the mailbox (see InboundLedger.mailboxTodos). */
export function owedDisposition(owed: { todo: MailboxTodo; reason?: string }): Disposition {
  switch (owed.todo) {
    case "seen":
      return { action: "seen" };
    case "refused":
      return { action: "refused", reason: owed.reason ?? "refused" };
    case "quarantine":
      return { action: "quarantine", reason: owed.reason ?? "quarantined" };
  }
}
