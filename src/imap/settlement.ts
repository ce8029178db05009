import type { ImapFlow } from "imapflow";
import type { Logger } from "../log/index.js";
import type { StateStore } from "../store/types.js";
import { applyDisposition, applyDispositions, owedDisposition } from "./dispose.js";
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

  /** Adds what the ledger says the mailbox (at this UIDVALIDITY) still owes. */
  loadOwed(uidValidity: string): void {
    for (const owed of this.#o.store.inbound.mailboxTodos(this.#o.account, this.#o.mailbox, uidValidity))
      if (!this.#pending.has(owed.uid)) this.#pending.set(owed.uid, owedDisposition(owed));
  }

  /**
   * Applies everything pending and records it done. What the server did not carry out stays owed:
   * with the connection gone it is kept pending and this throws; refused by a live server, it waits
   * in the ledger for the next session.
   */
  async flush(client: ImapFlow): Promise<void> {
    if (this.#pending.size === 0) return;
    const items = [...this.#pending];
    this.#pending.clear();
    let failed: Set<number>;
    try {
      failed = new Set(await applyDispositions(client, items, this.#o));
    } catch (error) {
      this.#keep(items);
      throw error;
    }
    const box = client.mailbox;
    if (box)
      this.#o.store.inbound.mailboxDone(
        this.#o.account,
        this.#o.mailbox,
        String(box.uidValidity),
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

  /**
   * Applies one disposition at once (the sync cycle's: refused, robot mail, quarantined). It is owed
   * in the ledger from before the command until the server has carried it out; with the connection
   * gone this throws.
   */
  async now(client: ImapFlow, uid: number, disposition: Disposition): Promise<void> {
    if (disposition.action === "none") return;
    const box = client.mailbox;
    const uidValidity = box ? String(box.uidValidity) : undefined;
    const { account, mailbox, store } = this.#o;
    if (uidValidity) store.inbound.setMailboxTodo({ account, mailbox, uidValidity, uid }, disposition.action);
    if (await applyDisposition(client, uid, disposition, this.#o)) {
      if (uidValidity) store.inbound.mailboxDone(account, mailbox, uidValidity, [uid]);
      return;
    }
    if (!client.usable) throw new Error("the IMAP connection was lost while flagging a settled message");
    this.#o.logger.warn(
      { uid, action: disposition.action },
      "the server did not flag or move a settled message; it stays owed",
    );
  }

  /** Puts dispositions back for a later batch (newer ones for the same UID win). */
  #keep(items: [number, Disposition][]): void {
    for (const [uid, d] of items) if (!this.#pending.has(uid)) this.#pending.set(uid, d);
  }
}
