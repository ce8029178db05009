/**
 * The channel's rule for "the delivery copy of a send in doubt has arrived" (deliveryCopyArrived),
 * over the real embedded store: the copies the watcher recorded under the message's Message-ID,
 * beyond those of earlier sends that reached nobody.
 */
import { afterEach, describe, expect, it } from "vitest";
import { deliveryCopyArrived } from "../../../src/channel/parts.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import { entry } from "../smtp/support/outbox-fixtures.js";

const stores: StateStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

function storeWithEntry() {
  const store = openSqliteStore({ path: ":memory:" });
  stores.push(store);
  store.outbox.enqueue(entry("k1"));
  return store;
}

/** What the watcher records when a copy of the message reaches the account (our own mail). */
function copyRecorded(store: StateStore, uid: number) {
  const e = store.outbox.get("k1")!;
  store.inbound.put({
    account: e.account,
    mailbox: "INBOX",
    uidValidity: "1",
    uid,
    messageId: e.messageId,
    status: uid === 1 ? "ignored" : "duplicate",
    attempts: 0,
  });
}

describe("deliveryCopyArrived", () => {
  it("is confirmed by the first copy when no earlier send left one", () => {
    const store = storeWithEntry();
    const arrived = deliveryCopyArrived(store);
    expect(arrived(store.outbox.get("k1")!)).toBe(false);
    copyRecorded(store, 1);
    expect(arrived(store.outbox.get("k1")!)).toBe(true);
  });

  it("is not confirmed by the copy of an earlier send that reached nobody, only by one more", () => {
    const store = storeWithEntry();
    const arrived = deliveryCopyArrived(store);
    store.outbox.markAttemptFailed("k1", "450 deferred", new Date().toISOString(), { strayCopy: true });
    // The earlier send's copy, recorded late (after the send in doubt began): not this send's.
    copyRecorded(store, 1);
    expect(arrived(store.outbox.get("k1")!)).toBe(false);
    copyRecorded(store, 2);
    expect(arrived(store.outbox.get("k1")!)).toBe(true);
  });
});
