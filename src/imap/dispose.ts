import type { ImapFlow } from "imapflow";
import { uidSet } from "./sync-plan.js";
import type { MailboxTodo } from "../store/types.js";
import type { Disposition } from "./types.js";

/** Keyword set on mail refused by a guard, besides \Flagged (servers without keywords ignore it). */
export const REFUSED_KEYWORD = "$EmailChannelRefused";

const created = new WeakMap<ImapFlow, Set<string>>();

/** UID STORE ... +FLAGS.SILENT: the server does not echo one FETCH (FLAGS) line per message back. */
const STORE_SILENT = { uid: true, silent: true } as const;

/** Creates a mailbox once per connection when it is missing (ALREADYEXISTS is fine). */
export async function ensureMailbox(client: ImapFlow, path: string): Promise<void> {
  let known = created.get(client);
  if (!known) {
    known = new Set();
    created.set(client, known);
  }
  if (known.has(path)) return;
  try {
    await client.mailboxCreate(path);
  } catch (error) {
    const e = error as { serverResponseCode?: string; responseText?: string };
    if (e.serverResponseCode !== "ALREADYEXISTS" && !/exists/i.test(e.responseText ?? "")) throw error;
  }
  known.add(path);
}

/**
 * Applies settled dispositions with one command per kind of action (UID sets, RFC 3501 §9). Nothing
 * is ever deleted: a message leaves the mailbox only by a MOVE to the processed or quarantine
 * mailbox. Returns the UIDs whose command was not carried out: imapflow reports a failed STORE or MOVE (a NO,
 * or a connection lost meanwhile) as `false`, never as an error.
 */
export async function applyDispositions(
  client: ImapFlow,
  items: [number, Disposition][],
  options: { processedMailbox?: string; quarantineMailbox?: string; mailbox: string },
): Promise<number[]> {
  const seen = items.filter(([, d]) => d.action === "seen").map(([u]) => u);
  const refused = items.filter(([, d]) => d.action === "refused").map(([u]) => u);
  const quarantined = items.filter(([, d]) => d.action === "quarantine").map(([u]) => u);
  const failed: number[] = [];
  if (seen.length > 0) {
    const range = uidSet(seen);
    let done = await client.messageFlagsAdd(range, ["\\Seen"], STORE_SILENT);
    if (done && options.processedMailbox && options.processedMailbox !== options.mailbox) {
      await ensureMailbox(client, options.processedMailbox);
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
    await ensureMailbox(client, target);
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
