import type { ImapFlow } from "imapflow";
import type { Logger } from "../log/index.js";
import type { StateStore } from "../store/types.js";
import { applyDispositions, owedDisposition } from "./dispose.js";
import type { Disposition } from "./types.js";

export interface SettlementOptions {
  account: string;
  mailbox: string;
  store: StateStore;
  logger: Logger;
  processedMailbox?: string;
  quarantineMailbox?: string;
}

/**
 * What one mailbox still owes its settled messages (\Seen, \Flagged, a move) and getting it done on
 * the watcher's connection. Pending dispositions are applied in batches (one command per kind);
 * what is applied is cleared in the ledger, what the server did not carry out stays owed there, so
 * a crash or a lost connection in between is made good by a later session (loadOwed).
 */
export class Settlement {
  readonly #o: SettlementOptions;
  /**
   * By UIDVALIDITY and UID (see pendingKey): a late settle for a UID of an older UIDVALIDITY must
   * not replace what the current one owes for the same number.
   */
  readonly #pending = new Map<string, Pending>();

  constructor(options: SettlementOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#pending.size;
  }

  /**
   * A disposition to apply with the next batch (a newer one for the same UID replaces it).
   * `uidValidity`: the mailbox's when the message was handed over; a UID names that message only
   * under it (RFC 3501 §2.3.1.1).
   */
  add(uid: number, disposition: Disposition, uidValidity: string): void {
    this.#pending.set(pendingKey(uidValidity, uid), { uidValidity, uid, disposition });
  }

  /** Adds what the ledger says the mailbox selected on `client` (its UIDVALIDITY) still owes. */
  loadOwed(client: ImapFlow): void {
    const uidValidity = uidValidityOf(client);
    if (uidValidity === undefined) return;
    for (const owed of this.#o.store.inbound.mailboxTodos(this.#o.account, this.#o.mailbox, uidValidity))
      if (!this.#pending.has(pendingKey(uidValidity, owed.uid)))
        this.add(owed.uid, owedDisposition(owed), uidValidity);
  }

  /**
   * Applies everything pending that was decided under the UIDVALIDITY of the mailbox selected on
   * `client` (see #apply). Settlements outlive a lost connection; the next session may find the
   * mailbox recreated, where the same UID is another message: \Seen or a move meant for the old
   * one would make the new one look handled, or take it away before the rescan sees it.
   */
  async flush(client: ImapFlow): Promise<void> {
    if (this.#pending.size === 0) return;
    const uidValidity = uidValidityOf(client);
    if (uidValidity === undefined) return; // no mailbox selected: kept for a cycle that has one
    this.#dropStale(uidValidity);
    const items = [...this.#pending.values()].map((p): [number, Disposition] => [p.uid, p.disposition]);
    this.#pending.clear();
    if (items.length > 0) await this.#apply(client, items, uidValidity);
  }

  /**
   * Applies one disposition at once (the sync cycle's: refused, robot mail, quarantined). It is owed
   * in the ledger already: the handler recorded it with the status that decided it (MailboxHandler).
   */
  async now(client: ImapFlow, uid: number, disposition: Disposition): Promise<void> {
    if (disposition.action === "none") return;
    const uidValidity = uidValidityOf(client);
    // imapflow unsets the mailbox when the connection closes: the cycle is over, the ledger owes it.
    if (uidValidity === undefined) throw new Error("the IMAP connection was lost before flagging a message");
    await this.#apply(client, [[uid, disposition]], uidValidity);
  }

  /**
   * Applies dispositions (one command per kind) and clears in the ledger what the server carried
   * out. The rest stays owed: with the connection gone it is kept pending and this throws; refused
   * by a live server, it waits in the ledger for the next session. `uidValidity` is read before
   * the commands: imapflow unsets the selected mailbox when the connection closes meanwhile.
   */
  async #apply(client: ImapFlow, items: [number, Disposition][], uidValidity: string): Promise<void> {
    let failed: Set<number>;
    try {
      failed = new Set(await applyDispositions(client, items, this.#o));
    } catch (error) {
      this.#keep(items, uidValidity);
      throw error;
    }
    this.#o.store.inbound.mailboxDone(
      this.#o.account,
      this.#o.mailbox,
      uidValidity,
      items.filter(([uid]) => !failed.has(uid)).map(([uid]) => uid),
    );
    if (failed.size === 0) return;
    if (!client.usable) {
      this.#keep(
        items.filter(([uid]) => failed.has(uid)),
        uidValidity,
      );
      throw new Error("the IMAP connection was lost while flagging settled messages");
    }
    this.#o.logger.warn(
      { count: failed.size, uids: [...failed].slice(0, 20) },
      "the server did not flag or move settled messages; they stay owed and are tried again at the next session",
    );
  }

  /** Puts dispositions back for a later batch (newer ones for the same UID win). */
  #keep(items: [number, Disposition][], uidValidity: string): void {
    for (const [uid, disposition] of items)
      if (!this.#pending.has(pendingKey(uidValidity, uid))) this.add(uid, disposition, uidValidity);
  }

  /**
   * Forgets dispositions decided under another UIDVALIDITY than the mailbox's now. Their ledger
   * records stay as they are: what they owe is kept per UIDVALIDITY there (mailboxTodos), and only a
   * mailbox with that UIDVALIDITY again would be asked for it.
   */
  #dropStale(uidValidity: string): void {
    const stale: Pending[] = [];
    for (const [key, p] of this.#pending)
      if (p.uidValidity !== uidValidity) {
        stale.push(p);
        this.#pending.delete(key);
      }
    if (stale.length > 0)
      this.#o.logger.info(
        {
          count: stale.length,
          uids: stale.slice(0, 20).map((p) => p.uid),
          staleUidValidity: [...new Set(stale.map((p) => p.uidValidity))],
          uidValidity,
        },
        "the mailbox's UIDVALIDITY changed: settled messages of the old one are not flagged or moved",
      );
  }
}

interface Pending {
  uidValidity: string;
  uid: number;
  disposition: Disposition;
}

const pendingKey = (uidValidity: string, uid: number) => `${uidValidity}:${uid}`;

/** The UIDVALIDITY of the mailbox selected on `client`, as the ledger keeps it. */
function uidValidityOf(client: ImapFlow): string | undefined {
  return client.mailbox ? String(client.mailbox.uidValidity) : undefined;
}
