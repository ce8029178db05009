import type { ImapFlow, SearchObject } from "imapflow";
import { ServerError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { InboundRecord, StateStore } from "../store/types.js";
import { messageIdOf, UnitFeed } from "./fetch-feed.js";
import { arrivedSince, newUids, planSync, type RescanScope, searchSinceDay, uidSet } from "./sync-plan.js";
import type { Disposition, MailboxHandler } from "./types.js";

export interface SyncContext {
  account: string;
  mailbox: string;
  store: StateStore;
  handler: MailboxHandler;
  logger: Logger;
  initialSync: "unseen" | "new" | "all";
  maxMessageBytes: number;
  /** UIDs per FETCH of envelopes. Default 100. */
  batchSize: number;
  /**
   * Messages up to this size (bytes) are fetched whole, several per FETCH (groups of at most 4x this
   * many bytes); bigger ones are streamed one at a time. Default 1 MiB.
   */
  inlineFetchBytes: number;
  /** Messages handed over concurrently (converted in parallel, recorded in order). */
  window: number;
  /** Raw bytes of the messages handed over concurrently, at most (one message always goes). */
  windowBytes: number;
  /**
   * Called whenever the cycle moves on (a unit fetched, a message settled): the watcher's watchdog
   * ends only a cycle that stalls (it also counts the bytes the server sends as progress).
   */
  progress?: () => void;
  /**
   * Where a first start or a rescan that paused (SyncResult.resumeAfter) got to, under which
   * UIDVALIDITY: the same plan next time skips the UIDs up to it (all settled, so in the ledger)
   * rather than fetching the metadata of every message of the mailbox again at each resumption.
   */
  resumeAfter?: { uidValidity: string; uid: number };
  /** Applies a disposition to one UID (flags/move); runs on the same connection. */
  dispose: (client: ImapFlow, uid: number, disposition: Disposition) => Promise<void>;
  signal: AbortSignal;
}

/**
 * UID SEARCH. imapflow answers a failed SEARCH (a NO or BAD, a connection lost meanwhile) with
 * `false`, never an error: read as "no messages", a first start or a rescan would move the cursor
 * past every message in the mailbox. It fails the cycle instead; the session is retried.
 */
async function uidSearch(client: ImapFlow, query: SearchObject): Promise<number[]> {
  const found = await client.search(query, { uid: true });
  if (Array.isArray(found)) return found;
  throw new ServerError(
    "IMAP UID SEARCH failed (refused, or the connection was lost): nothing is skipped, the cycle is retried",
    {
      code: "IMAP_SEARCH_FAILED",
      stage: "imap",
      retryable: true,
    },
  );
}

const FINAL = new Set<InboundRecord["status"]>(["handled", "ignored", "quarantined", "duplicate"]);

export interface SyncResult {
  uidValidity: string;
  handedOver: number;
  skipped: number;
  /** The handler was saturated: the cycle stopped before the end (MailboxHandler.saturated). */
  paused: boolean;
  /**
   * A first start or a rescan that paused: the UID up to which it settled every message in order.
   * Given back as SyncContext.resumeAfter, the next cycle goes on after it (see there).
   */
  resumeAfter?: number;
}

/** The UIDs a rescan hands over (before the ledger's Message-ID check), see RescanScope. */
async function rescanCandidates(client: ImapFlow, scope: RescanScope): Promise<number[]> {
  if (scope.kind === "all") return newUids(await uidSearch(client, { all: true }), 1);
  const unseen = scope.kind === "unseen-or-since" ? await uidSearch(client, { seen: false }) : [];
  const dayMatches = await uidSearch(client, { since: searchSinceDay(scope.since) });
  let recent: number[] = [];
  if (dayMatches.length > 0) {
    const dated = await client.fetchAll(uidSet(dayMatches), { uid: true, internalDate: true }, { uid: true });
    recent = arrivedSince(dated, scope.since);
  }
  return newUids([...unseen, ...recent], 1);
}

/**
 * One pass over the selected mailbox: new messages after the cursor (or the initial set, or a full
 * rescan after a UIDVALIDITY change), plus messages whose handling never finished. Runs inside the
 * connection lock; collects FETCH results before issuing the next command (no command inside a fetch loop).
 */
export async function runSyncCycle(client: ImapFlow, ctx: SyncContext): Promise<SyncResult> {
  const box = client.mailbox;
  if (!box) throw new Error(`mailbox ${ctx.mailbox} is not selected`);
  const uidValidity = String(box.uidValidity);
  const cursor = ctx.store.cursors.get(ctx.account, ctx.mailbox);
  // A cursor written by this cycle for the first time says watching began now (MailboxCursor).
  const watchingSince = new Date().toISOString();
  const plan = planSync(cursor, { uidValidity, uidNext: Number(box.uidNext ?? 1) }, ctx.initialSync);
  const log = ctx.logger;
  let candidates: number[] = [];

  switch (plan.kind) {
    case "initial-skip":
      ctx.store.cursors.set({
        account: ctx.account,
        mailbox: ctx.mailbox,
        uidValidity,
        lastUid: plan.cursorAfter,
        watchingSince,
      });
      log.info({ lastUid: plan.cursorAfter }, "first start: only mail arriving from now on is handled");
      break;
    case "initial": {
      const found = await uidSearch(client, plan.mode === "unseen" ? { seen: false } : { all: true });
      candidates = newUids(found, 1);
      log.info({ mode: plan.mode, count: candidates.length }, "first start: handling existing mail");
      break;
    }
    case "rescan": {
      log.warn(
        { previous: plan.previousUidValidity, current: uidValidity },
        "UIDVALIDITY changed: rescanning the mailbox, de-duplicated by Message-ID",
      );
      candidates = await rescanCandidates(client, plan.scope);
      log.info(
        {
          scope: plan.scope.kind,
          ...(plan.scope.kind === "all" ? {} : { since: plan.scope.since.toISOString() }),
          count: candidates.length,
        },
        plan.scope.kind === "all"
          ? "rescanning every message"
          : "rescanning the mail that arrived since the channel began watching (and, initial_sync unseen, unseen mail)",
      );
      break;
    }
    case "incremental": {
      const found = await uidSearch(client, { uid: `${plan.fromUid}:*` });
      candidates = newUids(found, plan.fromUid);
      break;
    }
  }

  if ((plan.kind === "initial" || plan.kind === "rescan") && ctx.resumeAfter?.uidValidity === uidValidity) {
    const after = ctx.resumeAfter.uid;
    candidates = candidates.filter((uid) => uid > after);
  }

  // Messages recorded but never finished (a crash, a stop mid-agent) are handed over again.
  const unfinished = ctx.store.inbound
    .unfinished(ctx.account)
    .filter((r) => r.mailbox === ctx.mailbox && r.uidValidity === uidValidity)
    .map((r) => r.uid);
  const resumeSet = new Set(unfinished);
  const all = [...new Set([...unfinished, ...candidates])].sort((a, b) => a - b);

  let handedOver = 0;
  let skipped = 0;
  let paused = false;
  let settledThrough = ctx.resumeAfter?.uidValidity === uidValidity ? ctx.resumeAfter.uid : 0;
  const present = new Set<number>();
  let cursorUid = 0;
  const saveCursor = () => {
    if (plan.kind !== "incremental" || cursorUid === 0) return;
    ctx.store.cursors.set({ account: ctx.account, mailbox: ctx.mailbox, uidValidity, lastUid: cursorUid });
    cursorUid = 0;
  };
  const units = new UnitFeed(client, all, {
    batchSize: ctx.batchSize,
    inlineBytes: Math.min(ctx.inlineFetchBytes, ctx.maxMessageBytes),
    groupBytes: ctx.inlineFetchBytes * 4,
    records: (uids) => ctx.store.inbound.getByUids(ctx.account, ctx.mailbox, uidValidity, uids),
    isFinal: (record) => FINAL.has(record.status),
  });
  // Messages fetched whole are handed over with up to `window` in flight (the handler converts
  // them concurrently and records them in call order); everything is settled in UID order, and the
  // cursor only passes a UID once it and every UID before it are recorded. It is written once per
  // group (a cursor that lags is safe: the ledger knows what was handled).
  const inflight: { uid: number; bytes: number; work: Promise<Disposition | "pending" | "skip"> }[] = [];
  let inflightBytes = 0;
  const settleOldest = async () => {
    const item = inflight.shift()!;
    inflightBytes -= item.bytes;
    const outcome = await item.work;
    ctx.progress?.();
    if (outcome !== "skip") {
      handedOver++;
      if (outcome !== "pending") await ctx.dispose(client, item.uid, outcome);
    }
    if (plan.kind === "incremental" && item.uid >= plan.fromUid) cursorUid = item.uid;
    settledThrough = Math.max(settledThrough, item.uid);
  };
  const drain = async () => {
    while (inflight.length > 0) await settleOldest();
  };
  try {
    // The signal is checked before each FETCH too: a stopping watcher must not wait for one more unit.
    const nextUnit = async () => {
      if (ctx.signal.aborted) return undefined;
      const unit = await units.next();
      ctx.progress?.();
      return unit;
    };
    intake: for (let unit = await nextUnit(); unit && !ctx.signal.aborted; unit = await nextUnit()) {
      for (const meta of unit.items) {
        if (ctx.signal.aborted) break;
        const record = meta.record;
        if (!(record && FINAL.has(record.status)) && ctx.handler.saturated?.()) {
          // The agent stage is full: what is not handed over stays in the mailbox, unrecorded, and
          // the cursor stops before it (a later cycle, kicked when there is room, goes on from there).
          paused = true;
          break intake;
        }
        present.add(meta.uid);
        const base = {
          account: ctx.account,
          mailbox: ctx.mailbox,
          uidValidity,
          uid: meta.uid,
          size: meta.size,
        };
        const resumed = resumeSet.has(meta.uid) || record?.status === "received";
        const inline = unit.sources.get(meta.uid);
        if (record && FINAL.has(record.status)) {
          skipped++;
          inflight.push({ uid: meta.uid, bytes: 0, work: Promise.resolve("skip") });
        } else if (inline) {
          inflight.push({
            uid: meta.uid,
            bytes: inline.byteLength,
            work: ctx.handler.onMessage({ ...base, raw: inline, resumed, unrecorded: !record && !resumed }),
          });
          inflightBytes += inline.byteLength;
        } else {
          // Needs the connection (a MOVE, or a streamed download): settle what is in flight first.
          await drain();
          const withId = { ...base, ...(await messageIdOf(client, meta.uid)) };
          if (base.size > ctx.maxMessageBytes) {
            await ctx.handler.onOversize(withId, ctx.maxMessageBytes);
            inflight.push({
              uid: meta.uid,
              bytes: 0,
              work: Promise.resolve({
                action: "quarantine",
                reason: "message larger than max_message_bytes",
              }),
            });
          } else {
            const raw = (await client.download(String(meta.uid), undefined, { uid: true }))?.content;
            if (!raw) {
              await ctx.handler.onVanished(ctx.account, ctx.mailbox, uidValidity, meta.uid);
              inflight.push({ uid: meta.uid, bytes: 0, work: Promise.resolve("skip") });
            } else {
              // Streamed: its conversion reads the download as it arrives (nothing held whole).
              inflight.push({
                uid: meta.uid,
                bytes: 0,
                work: ctx.handler.onMessage({ ...withId, raw, resumed }),
              });
            }
          }
        }
        while (inflight.length >= ctx.window || (inflight.length > 0 && inflightBytes >= ctx.windowBytes))
          await settleOldest();
      }
      saveCursor();
    }
    await drain();
  } finally {
    // On an error or abort, still wait for what was started (never leave a handler running), and
    // keep the cursor for what was settled.
    await Promise.allSettled(inflight.map((i) => i.work));
    units.close();
    saveCursor();
  }
  for (const uid of unfinished) {
    if (!present.has(uid) && !ctx.signal.aborted && !paused)
      await ctx.handler.onVanished(ctx.account, ctx.mailbox, uidValidity, uid);
  }
  if (paused) {
    // A first start or a rescan that paused plans the same way again next time, going on after
    // what it settled (resumeAfter); the ledger skips anything handed over again.
    log.info({ handedOver, skipped }, "the agent stage is full: handing over paused until there is room");
  } else if ((plan.kind === "initial" || plan.kind === "rescan") && !ctx.signal.aborted) {
    const lastUid = Math.max(plan.cursorAfter, ...candidates, 0);
    ctx.store.cursors.set({
      account: ctx.account,
      mailbox: ctx.mailbox,
      uidValidity,
      lastUid,
      watchingSince,
    });
    log.info(
      { handedOver, skipped, lastUid },
      plan.kind === "initial" ? "initial backlog done" : "rescan done",
    );
  }
  const resumable = paused && (plan.kind === "initial" || plan.kind === "rescan");
  return { uidValidity, handedOver, skipped, paused, ...(resumable ? { resumeAfter: settledThrough } : {}) };
}
