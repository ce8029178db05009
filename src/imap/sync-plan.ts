import type { MailboxCursor } from "../store/types.js";

/**
 * What one sync cycle must look at, from the stored cursor and the mailbox as the server reports it.
 * Pure. RFC 3501 §2.3.1.1: a UID means nothing without its UIDVALIDITY; when UIDVALIDITY changes every
 * stored UID is void and the mailbox is rescanned (de-duplicated by Message-ID, never skipped silently).
 */
export type SyncPlan =
  | { kind: "initial"; mode: "unseen" | "all"; cursorAfter: number }
  | { kind: "initial-skip"; cursorAfter: number } // initial_sync "new": start from the current end
  | { kind: "incremental"; fromUid: number }
  | { kind: "rescan"; previousUidValidity: string; cursorAfter: number; scope: RescanScope };

/**
 * What a rescan after a UIDVALIDITY change looks at. The old UIDs are void, so the mailbox's mail is
 * matched against the ledger by Message-ID; what the ledger does not know is handed over. That must
 * not include mail the first start left alone on purpose (initial_sync): a mailbox's read history
 * (`unseen`) or everything older than the channel (`new`) would otherwise be answered, months late.
 * - `all`: every message (initial_sync `all`, or a cursor from before schema 7 that does not say
 *   when watching began: nothing is skipped that the channel may owe an answer);
 * - `unseen-or-since`: unseen mail, and any mail that arrived since watching began;
 * - `since`: mail that arrived since watching began.
 * "Arrived" is the server's INTERNALDATE; `since` is the cursor's watchingSince less
 * RESCAN_CLOCK_MARGIN_MS, so a server clock behind the channel's does not make it skip new mail.
 */
export type RescanScope =
  | { kind: "all" }
  | { kind: "unseen-or-since"; since: Date }
  | { kind: "since"; since: Date };

/** How far a rescan reaches back before the cursor's watchingSince (clock skew between channel and server). */
export const RESCAN_CLOCK_MARGIN_MS = 15 * 60_000;

export function planSync(
  cursor: MailboxCursor | undefined,
  mailbox: { uidValidity: string; uidNext: number },
  initialSync: "unseen" | "new" | "all",
): SyncPlan {
  const end = Math.max(0, mailbox.uidNext - 1);
  if (!cursor) {
    if (initialSync === "new") return { kind: "initial-skip", cursorAfter: end };
    return { kind: "initial", mode: initialSync, cursorAfter: end };
  }
  if (cursor.uidValidity !== mailbox.uidValidity) {
    return {
      kind: "rescan",
      previousUidValidity: cursor.uidValidity,
      cursorAfter: end,
      scope: rescanScope(initialSync, cursor.watchingSince),
    };
  }
  return { kind: "incremental", fromUid: cursor.lastUid + 1 };
}

/** See RescanScope. */
export function rescanScope(initialSync: "unseen" | "new" | "all", watchingSince?: string): RescanScope {
  const began = watchingSince === undefined ? Number.NaN : Date.parse(watchingSince);
  if (initialSync === "all" || !Number.isFinite(began)) return { kind: "all" };
  const since = new Date(began - RESCAN_CLOCK_MARGIN_MS);
  return initialSync === "unseen" ? { kind: "unseen-or-since", since } : { kind: "since", since };
}

/**
 * The date for `SEARCH SINCE` that finds every message that arrived at `since` or later. SEARCH
 * compares dates only, in the server's time zone (RFC 3501 §6.4.4), and imapflow sends the UTC
 * date: a day earlier covers any zone. The exact instant is checked on INTERNALDATE (arrivedSince).
 */
export function searchSinceDay(since: Date): Date {
  const day = new Date(since.getTime() - 24 * 3600_000);
  return new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
}

/**
 * UIDs of the messages that arrived at `since` or later, by INTERNALDATE. One without a readable
 * date is kept: a rescan errs towards handing over (de-duplicated by Message-ID) over skipping.
 */
export function arrivedSince(
  messages: { uid: number; internalDate?: Date | string }[],
  since: Date,
): number[] {
  return messages
    .filter((m) => {
      const at = m.internalDate === undefined ? Number.NaN : new Date(m.internalDate).getTime();
      return !Number.isFinite(at) || at >= since.getTime();
    })
    .map((m) => m.uid);
}

/** `N:*` always matches the highest UID even when it is below N (RFC 3501 §6.4.8): keep only UIDs >= from. */
export function newUids(found: number[], fromUid: number): number[] {
  return [...new Set(found.filter((u) => u >= fromUid))].sort((a, b) => a - b);
}

/** Splits UIDs into batches for FETCH. */
export function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * A UID set for a command (RFC 3501 §9 sequence-set): runs of consecutive UIDs as `a:b`, the rest
 * comma-separated, in ascending order, duplicates dropped. `1,2,3,7` -> `1:3,7`. A backlog is mostly
 * consecutive, so a FETCH or STORE of 100 UIDs is usually one short range instead of ~500 bytes
 * that imapflow and the server would each have to walk.
 */
export function uidSet(uids: readonly number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    const start = sorted[i]!;
    let end = start;
    while (i + 1 < sorted.length && sorted[i + 1] === end + 1) end = sorted[++i]!;
    i++;
    parts.push(end === start ? String(start) : `${start}:${end}`);
  }
  return parts.join(",");
}
