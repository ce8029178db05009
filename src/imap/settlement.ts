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
  readonly #pending = new Map<number, Disposition>();

  constructor(options: SettlementOptions) {
    this.#o = options;
  }

  get size(): number {
    return this.#pending.size;
  }

  /** A disposition to apply with the next batch (a newer one for the same UID replaces it). */
  add(uid: number, disposition: Disposition): void {
    this.#pending.set(uid, disposition);
  }

  /** Adds what the ledger says the mailbox selected on `client` (its UIDVALIDITY) still owes. */
  loadOwed(client: ImapFlow): void {
    const uidValidity = uidValidityOf(client);
    if (uidValidity === undefined) return;
    for (const owed of this.#o.store.inbound.mailboxTodos(this.#o.account, this.#o.mailbox, uidValidity))
      if (!this.#pending.has(owed.uid)) this.#pending.set(owed.uid, owedDisposition(owed));
  }

  /** Applies everything pending (see #apply). */
  async flush(client: ImapFlow): Promise<void> {
    if (this.#pending.size === 0) return;
    const items = [...this.#pending];
    this.#pending.clear();
    await this.#apply(client, items);
  }

  /**
   * Applies one disposition at once (the sync cycle's: refused, robot mail, quarantined). It is owed
   * in the ledger already: the handler recorded it with the status that decided it (MailboxHandler).
   */
  async now(client: ImapFlow, uid: number, disposition: Disposition): Promise<void> {
    if (disposition.action === "none") return;
    await this.#apply(client, [[uid, disposition]]);
  }

  /**
   * Applies dispositions (one command per kind) and clears in the ledger what the server carried
   * out. The rest stays owed: with the connection gone it is kept pending and this throws; refused
   * by a live server, it waits in the ledger for the next session.
   */
  async #apply(client: ImapFlow, items: [number, Disposition][]): Promise<void> {
    let failed: Set<number>;
    try {
      failed = new Set(await applyDispositions(client, items, this.#o));
    } catch (error) {
      this.#keep(items);
      throw error;
    }
    const uidValidity = uidValidityOf(client);
    if (uidValidity !== undefined)
      this.#o.store.inbound.mailboxDone(
        this.#o.account,
        this.#o.mailbox,
        uidValidity,
        items.filter(([uid]) => !failed.has(uid)).map(([uid]) => uid),
      );
    if (failed.size === 0) return;
    if (!client.usable) {
      this.#keep(items.filter(([uid]) => failed.has(uid)));
      throw new Error("the IMAP connection was lost while flagging settled messages");
    }
    this.#o.logger.warn(
      { count: failed.size, uids: [...failed].slice(0, 20) },
      "the server did not flag or move settled messages; they stay owed and are tried again at the next session",
    );
  }

  /** Puts dispositions back for a later batch (newer ones for the same UID win). */
  #keep(items: [number, Disposition][]): void {
    for (const [uid, d] of items) if (!this.#pending.has(uid)) this.#pending.set(uid, d);
  }
}

/** The UIDVALIDITY of the mailbox selected on `client`, as the ledger keeps it. */
function uidValidityOf(client: ImapFlow): string | undefined {
  return client.mailbox ? String(client.mailbox.uidValidity) : undefined;
}
