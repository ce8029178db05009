import type { ImapFlow } from "imapflow";
import type { InboundRecord } from "../store/types.js";
import { headerMessageId } from "./header-id.js";
import { batches, uidSet } from "./sync-plan.js";

export interface FeedItem {
  uid: number;
  /** RFC822.SIZE. */
  size: number;
  /** The ledger record at planning time, if any. */
  record?: InboundRecord;
}

/** Consecutive messages (UID order) and the sources of those fetched whole. */
export interface FeedUnit {
  items: FeedItem[];
  /** Sources of the messages fetched whole; a message without one is streamed, oversized or done. */
  sources: Map<number, Buffer>;
}

export interface UnitFeedOptions {
  /** UIDs per FETCH of sizes. */
  batchSize: number;
  /** Messages up to this size (bytes) are fetched whole. */
  inlineBytes: number;
  /** Whole messages fetched together add up to at most this many bytes (one message always fits). */
  groupBytes: number;
  /** The ledger records of a batch's UIDs (absent: no record). */
  records(uids: readonly number[]): Map<number, InboundRecord>;
  /** A record that needs no download (handled, ignored, ...). */
  isFinal(record: InboundRecord): boolean;
}

interface Pending {
  items: FeedItem[];
  fetch: number[];
  sources?: Promise<Map<number, Buffer>>;
}

/** Marks a prefetch promise handled: its error surfaces where it is awaited, never as unhandled. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * Feeds a sync cycle the messages of `uids` in UID order, in units: a group of small messages
 * fetched whole with one FETCH (bounded bytes), or one big message (streamed or oversized; the cycle
 * handles it). The next unit's FETCH and the next batch's sizes are requested while the current unit
 * is being handed over, so the server works while we convert; at most two groups are in memory.
 * Only complete FETCH responses are used (fetchAll): no command is issued inside a fetch loop.
 */
export class UnitFeed {
  readonly #client: ImapFlow;
  readonly #o: UnitFeedOptions;
  readonly #batches: number[][];
  #nextBatch = 0;
  #metas: Promise<FeedItem[]> | undefined;
  readonly #queue: Pending[] = [];
  #closed = false;

  constructor(client: ImapFlow, uids: number[], options: UnitFeedOptions) {
    this.#client = client;
    this.#o = options;
    this.#batches = batches(uids, options.batchSize);
  }

  /** The next unit, or undefined at the end. */
  async next(): Promise<FeedUnit | undefined> {
    await this.#fill();
    const current = this.#queue.shift();
    if (!current) return undefined;
    const sources = this.#start(current);
    const following = this.#queue[0];
    if (following) this.#start(following);
    if (this.#queue.length < 2) this.#prefetchMetas();
    return { items: current.items, sources: await sources };
  }

  /** Stops prefetching; what is in flight is left to finish (its errors are ignored). */
  close(): void {
    this.#closed = true;
  }

  /** Makes sure the current and the following unit are planned (sizes known). */
  async #fill(): Promise<void> {
    while (this.#queue.length < 2 && !this.#closed) {
      this.#prefetchMetas();
      const metas = this.#metas;
      if (!metas) return;
      this.#metas = undefined;
      this.#queue.push(...this.#plan(await metas));
    }
  }

  #prefetchMetas(): void {
    if (this.#metas || this.#closed || this.#nextBatch >= this.#batches.length) return;
    const batch = this.#batches[this.#nextBatch++]!;
    this.#metas = quiet(
      this.#client
        .fetchAll(uidSet(batch), { uid: true, size: true }, { uid: true })
        .then((found) => found.map((m) => ({ uid: m.uid, size: m.size ?? 0 })).sort((a, b) => a.uid - b.uid)),
    );
  }

  #start(unit: Pending): Promise<Map<number, Buffer>> {
    unit.sources ??= quiet(
      unit.fetch.length === 0
        ? Promise.resolve(new Map<number, Buffer>())
        : this.#client
            .fetchAll(uidSet(unit.fetch), { uid: true, source: true }, { uid: true })
            .then((fetched) => {
              const map = new Map<number, Buffer>();
              for (const f of fetched) if (f.source) map.set(f.uid, f.source);
              return map;
            }),
    );
    return unit.sources;
  }

  /** Splits one batch (UID order) into units. Pure apart from the ledger reads. */
  #plan(metas: { uid: number; size: number }[]): Pending[] {
    const records = this.#o.records(metas.map((m) => m.uid));
    const units: Pending[] = [];
    let group: Pending = { items: [], fetch: [] };
    let bytes = 0;
    const close = () => {
      if (group.items.length > 0) units.push(group);
      group = { items: [], fetch: [] };
      bytes = 0;
    };
    for (const meta of metas) {
      const record = records.get(meta.uid);
      const item: FeedItem = { ...meta, ...(record ? { record } : {}) };
      if (record && this.#o.isFinal(record)) {
        group.items.push(item);
      } else if (meta.size <= this.#o.inlineBytes) {
        if (group.fetch.length > 0 && bytes + meta.size > this.#o.groupBytes) close();
        group.items.push(item);
        group.fetch.push(meta.uid);
        bytes += meta.size;
      } else {
        close();
        units.push({ items: [item], fetch: [] });
      }
    }
    close();
    return units;
  }
}

/** The Message-ID of one message, read from its header only (for messages not downloaded whole). */
export async function messageIdOf(client: ImapFlow, uid: number): Promise<{ envelopeMessageId?: string }> {
  const found = await client.fetchOne(String(uid), { uid: true, headers: ["message-id"] }, { uid: true });
  const headers = found ? found.headers : undefined;
  const id = headers ? headerMessageId(headers) : undefined;
  return id ? { envelopeMessageId: id } : {};
}
