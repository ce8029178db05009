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
  | { kind: "rescan"; previousUidValidity: string; cursorAfter: number };

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
    return { kind: "rescan", previousUidValidity: cursor.uidValidity, cursorAfter: end };
  }
  return { kind: "incremental", fromUid: cursor.lastUid + 1 };
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
