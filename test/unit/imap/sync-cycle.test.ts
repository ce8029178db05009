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
