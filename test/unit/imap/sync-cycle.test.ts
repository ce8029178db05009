import type { ImapFlow } from "imapflow";
import { describe, expect, it } from "vitest";
import { openSqliteStore, silentLogger } from "../../../src/index.js";
import { runSyncCycle, type SyncContext } from "../../../src/imap/sync-cycle.js";
import type { MailboxHandler } from "../../../src/imap/types.js";

const account = "a@x.test";

/**
 * An ImapFlow stand-in whose SEARCH fails as imapflow reports it (NO, BAD or a connection lost
 * meanwhile): `false`, never an error. Nine messages are in the mailbox (UIDNEXT 10).
 */
function failingSearch() {
  const searches: unknown[] = [];
  const c = {
    usable: true,
    mailbox: { path: "INBOX", uidValidity: 7n, uidNext: 10, exists: 9 },
    async search(query: unknown) {
      searches.push(query);
      return false;
    },
  };
  return { client: c as unknown as ImapFlow, searches };
}

function context(
  store: ReturnType<typeof openSqliteStore>,
  initialSync: SyncContext["initialSync"],
): SyncContext {
  const handler: MailboxHandler = {
    onMessage: async () => ({ action: "none" }),
    onOversize: async () => undefined,
    onVanished: async () => undefined,
  };
  return {
    account,
    mailbox: "INBOX",
    store,
    handler,
    logger: silentLogger(),
    initialSync,
    maxMessageBytes: 1024 * 1024,
    batchSize: 100,
    inlineFetchBytes: 1024 * 1024,
    window: 8,
    windowBytes: 1024 * 1024,
    dispose: async () => undefined,
    signal: new AbortController().signal,
  };
}

describe("runSyncCycle when the server's SEARCH fails", () => {
  it.each(["unseen", "all"] as const)(
    "fails a first start (%s) and leaves the cursor unset",
    async (mode) => {
      const store = openSqliteStore({ path: ":memory:" });
      const { client, searches } = failingSearch();
      await expect(runSyncCycle(client, context(store, mode))).rejects.toMatchObject({
        code: "IMAP_SEARCH_FAILED",
        retryable: true,
      });
      expect(searches).toHaveLength(1);
      // Not "no messages": the next session searches again and hands the nine messages over.
      expect(store.cursors.get(account, "INBOX")).toBeUndefined();
    },
  );

  it("fails a rescan after a UIDVALIDITY change and keeps the old cursor", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    store.cursors.set({ account, mailbox: "INBOX", uidValidity: "6", lastUid: 3 });
    const { client } = failingSearch();
    await expect(runSyncCycle(client, context(store, "unseen"))).rejects.toMatchObject({
      code: "IMAP_SEARCH_FAILED",
    });
    expect(store.cursors.get(account, "INBOX")).toMatchObject({ uidValidity: "6", lastUid: 3 });
  });

  it("fails an incremental cycle too, so the session is retried rather than idling on a broken one", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    store.cursors.set({ account, mailbox: "INBOX", uidValidity: "7", lastUid: 3 });
    const { client } = failingSearch();
    await expect(runSyncCycle(client, context(store, "unseen"))).rejects.toMatchObject({
      code: "IMAP_SEARCH_FAILED",
    });
    expect(store.cursors.get(account, "INBOX")).toMatchObject({ uidValidity: "7", lastUid: 3 });
  });
});

/**
 * An ImapFlow stand-in holding `count` small messages (UIDs 1..count, UIDVALIDITY 7) that answers
 * SEARCH, FETCH of sizes and FETCH of sources, and notes the UID sets each FETCH asked for.
 */
function mailbox(count: number) {
  const fetched: string[] = [];
  const expand = (set: string) =>
    set.split(",").flatMap((part) => {
      const [a, b] = part.split(":").map(Number);
      return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
    });
  const c = {
    usable: true,
    mailbox: { path: "INBOX", uidValidity: 7n, uidNext: count + 1, exists: count },
    async search() {
      return Array.from({ length: count }, (_, i) => i + 1);
    },
    async fetchAll(set: string, query: { size?: boolean; source?: boolean }) {
      fetched.push(`${query.source ? "source" : "size"} ${set}`);
      return expand(set).map((uid) =>
        query.source
          ? { uid, source: Buffer.from(`Message-ID: <m${uid}@x.test>\r\n\r\nhi\r\n`) }
          : { uid, size: 40 },
      );
    },
  };
  return { client: c as unknown as ImapFlow, fetched };
}

describe("runSyncCycle when the handler is saturated", () => {
  it("pauses a first start, and the next cycle goes on after what it settled", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    const { client, fetched } = mailbox(10);
    let handed = 0;
    const ctx = context(store, "all");
    ctx.handler = {
      ...ctx.handler,
      onMessage: async (m) => {
        handed++;
        store.inbound.put({ ...m, messageId: `m${m.uid}@x.test`, status: "handled", attempts: 1 });
        return "pending";
      },
      // Room for three hand-overs in the first cycle, then for all.
      saturated: () => handed >= 3 && fetched.length <= 2,
    };
    const first = await runSyncCycle(client, ctx);
    expect(first).toMatchObject({ paused: true, handedOver: 3, resumeAfter: 3 });
    // No cursor: the first start is not over.
    expect(store.cursors.get(account, "INBOX")).toBeUndefined();
    const second = await runSyncCycle(client, { ...ctx, resumeAfter: { uidValidity: "7", uid: 3 } });
    expect(second).toMatchObject({ paused: false, handedOver: 7 });
    expect(second.resumeAfter).toBeUndefined();
    // The second cycle asked only for the messages after UID 3 (the first asked for all ten sizes).
    expect(fetched).toEqual(["size 1:10", "source 1:10", "size 4:10", "source 4:10"]);
    expect(store.cursors.get(account, "INBOX")).toMatchObject({ uidValidity: "7", lastUid: 10 });
  });
});

/**
 * A mailbox after a UIDVALIDITY change (now 7, the cursor says 6): messages with their \Seen flag
 * and INTERNALDATE, answering SEARCH by ALL, UNSEEN and SINCE (by UTC date, as a server in UTC
 * would) and FETCH of sizes, INTERNALDATEs and sources.
 */
function renumbered(messages: { seen: boolean; at: string }[]) {
  const searches: unknown[] = [];
  const expand = (set: string) =>
    set.split(",").flatMap((part) => {
      const [a, b] = part.split(":").map(Number);
      return Array.from({ length: (b ?? a!) - a! + 1 }, (_, i) => a! + i);
    });
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const c = {
    usable: true,
    mailbox: { path: "INBOX", uidValidity: 7n, uidNext: messages.length + 1, exists: messages.length },
    async search(query: { all?: boolean; seen?: boolean; since?: Date }) {
      searches.push(query);
      return messages
        .map((m, i) => ({ ...m, uid: i + 1 }))
        .filter((m) => (query.seen === false ? !m.seen : true))
        .filter((m) => (query.since ? day(new Date(m.at)) >= day(query.since) : true))
        .map((m) => m.uid);
    },
    async fetchAll(set: string, query: { size?: boolean; source?: boolean; internalDate?: boolean }) {
      return expand(set).map((uid) =>
        query.source
          ? { uid, source: Buffer.from(`Message-ID: <m${uid}@x.test>\r\n\r\nhi\r\n`) }
          : query.internalDate
            ? { uid, internalDate: new Date(messages[uid - 1]!.at) }
            : { uid, size: 40 },
      );
    },
  };
  return { client: c as unknown as ImapFlow, searches };
}

describe("runSyncCycle rescanning after a UIDVALIDITY change", () => {
  const watchingSince = "2026-03-01T10:00:00.000Z";
  // 1, 2: older than the channel (read, unread); 3: the same day, before it started (read);
  // 4: the day it started, after (read by a person before the channel saw it); 5: later, unread.
  const mail = [
    { seen: true, at: "2025-12-24T08:00:00Z" },
    { seen: false, at: "2026-01-10T08:00:00Z" },
    { seen: true, at: "2026-03-01T07:00:00Z" },
    { seen: true, at: "2026-03-01T11:00:00Z" },
    { seen: false, at: "2026-03-05T09:00:00Z" },
  ];
  it.each([
    ["unseen", [2, 4, 5]],
    ["new", [4, 5]],
    ["all", [1, 2, 3, 4, 5]],
  ] as const)("initial_sync %s hands over %j", async (mode, expected) => {
    const store = openSqliteStore({ path: ":memory:" });
    store.cursors.set({ account, mailbox: "INBOX", uidValidity: "6", lastUid: 9, watchingSince });
    const handed: number[] = [];
    const ctx = context(store, mode);
    ctx.handler = {
      ...ctx.handler,
      onMessage: async (m) => {
        handed.push(m.uid);
        return { action: "none" };
      },
    };
    const { client } = renumbered(mail);
    await runSyncCycle(client, ctx);
    expect(handed).toEqual(expected);
    // The rescan is over: the cursor is at the mailbox's end under the new UIDVALIDITY, and still
    // says when watching began.
    expect(store.cursors.get(account, "INBOX")).toEqual({
      account,
      mailbox: "INBOX",
      uidValidity: "7",
      lastUid: 5,
      watchingSince,
    });
  });
});
