import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../../src/store/index.js";
import { GroupCommit } from "../../../src/store/sqlite/group-commit.js";
import type { StateStore } from "../../../src/store/types.js";

const dirs: string[] = [];
const stores: StateStore[] = [];
function open(): { store: StateStore; path: string } {
  const dir = mkdtempSync(join(tmpdir(), "ec-group-"));
  dirs.push(dir);
  const path = join(dir, "state.sqlite");
  const store = openSqliteStore({ path });
  stores.push(store);
  return { store, path };
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const record = (uid: number) => ({
  account: "hello@x.test",
  mailbox: "INBOX",
  uidValidity: "7",
  uid,
  messageId: `m${uid}@x.test`,
  status: "received" as const,
  attempts: 0,
});

describe("GroupCommit", () => {
  it("runs the jobs queued in one turn in one transaction and resolves each with its result after the commit", async () => {
    const { store, path } = open();
    let transactions = 0;
    const counting: Pick<StateStore, "transaction"> = {
      transaction: (fn) => {
        transactions++;
        return store.transaction(fn);
      },
    };
    const counted = new GroupCommit(counting);
    const results = await Promise.all(
      [1, 2, 3].map((uid) => counted.run(() => store.inbound.put(record(uid)))),
    );
    expect(results.map((r) => r.uid)).toEqual([1, 2, 3]);
    // One transaction for the three jobs (no savepoint per job while none fails).
    expect(transactions).toBe(1);
    expect(counted.pending).toBe(0);
    // Committed: another connection sees every row.
    const other = openSqliteStore({ path });
    stores.push(other);
    expect(other.inbound.countByStatus()).toEqual({ received: 3 });
  });

  it("does not let a failing job undo the others, and rejects only that job", async () => {
    const { store } = open();
    const group = new GroupCommit(store);
    const first = group.run(() => store.inbound.put(record(1)));
    const failing = group.run(() => {
      store.inbound.put(record(2));
      throw new Error("boom");
    });
    const third = group.run(() => store.inbound.put(record(3)));
    await expect(failing).rejects.toThrow("boom");
    expect((await first).uid).toBe(1);
    expect((await third).uid).toBe(3);
    // The failing job's own write was rolled back; the others were committed without it.
    expect(store.inbound.getByUid("hello@x.test", "INBOX", "7", 2)).toBeUndefined();
    expect(store.inbound.countByStatus()).toEqual({ received: 2 });
  });

  it("keeps queued writes invisible until they commit, and flushFor commits them when a key matches", async () => {
    const { store, path } = open();
    const other = openSqliteStore({ path });
    stores.push(other);
    const group = new GroupCommit(store);
    const done = group.run(() => store.inbound.put(record(5)), ["id:m5@x.test"]);
    expect(store.inbound.getByUid("hello@x.test", "INBOX", "7", 5)).toBeUndefined();
    group.flushFor(["id:someone-else@x.test"]);
    expect(group.pending).toBe(1);
    expect(other.inbound.getByUid("hello@x.test", "INBOX", "7", 5)).toBeUndefined();
    group.flushFor(["conv:abc", "id:m5@x.test"]);
    expect(group.pending).toBe(0);
    expect(other.inbound.getByUid("hello@x.test", "INBOX", "7", 5)?.status).toBe("received");
    expect((await done).uid).toBe(5);
  });

  it("rejects every job of a group whose commit fails, and commits none of them", async () => {
    const { store } = open();
    // The outer transaction fails after every job ran (as a failing COMMIT would).
    let depth = 0;
    const flaky: Pick<StateStore, "transaction"> = {
      transaction: (fn) =>
        store.transaction(() => {
          depth++;
          try {
            const result = fn();
            if (depth === 1) throw new Error("disk full");
            return result;
          } finally {
            depth--;
          }
        }),
    };
    const group = new GroupCommit(flaky);
    const a = group.run(() => store.inbound.put(record(1)));
    const b = group.run(() => store.inbound.put(record(2)));
    await expect(a).rejects.toThrow("disk full");
    await expect(b).rejects.toThrow("disk full");
    expect(store.inbound.countByStatus()).toEqual({});
  });
});
