import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HandlingQueue } from "../../../src/channel/handling-queue.js";
import type { MessageFormat } from "../../../src/contract/index.js";
import { openSqliteStore, silentLogger } from "../../../src/index.js";
import { KeyedQueue } from "../../../src/runtime/keyed-queue.js";
import { GroupCommit } from "../../../src/store/sqlite/group-commit.js";
import { offlineConfig } from "../../support/offline-config.js";

const where = { account: "hello@x.test", mailbox: "INBOX", uidValidity: "7", uid: 1 };
const message = {
  messageId: "m1@x.test",
  conversationId: "c1",
  userId: "email:alice@x.test",
  content: "hi",
  attachments: [],
  metadata: {},
} as unknown as MessageFormat;

async function setup(deliver: () => Promise<void>, answered?: (m: MessageFormat) => boolean) {
  const config = await offlineConfig("hello@x.test", { EMAIL_MAX_ATTEMPTS: "3" });
  const store = openSqliteStore({ path: ":memory:" });
  const record = store.inbound.put({ ...where, messageId: "m1@x.test", status: "received", attempts: 1 });
  const settled: string[] = [];
  const settledAt: unknown[] = [];
  const events = new EventEmitter();
  const handling = new HandlingQueue({
    config,
    store,
    logger: silentLogger(),
    queue: new KeyedQueue(4),
    events,
    writes: new GroupCommit(store),
    deliver,
    ...(answered ? { answered } : {}),
    settle: (w, d) => {
      settled.push(d.action);
      settledAt.push(w);
    },
    signal: new AbortController().signal,
  });
  return { store, record, handling, settled, settledAt, events };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("HandlingQueue", () => {
  it("settles a handled message with its whole position, UIDVALIDITY included", async () => {
    const { handling, settledAt } = await setup(async () => undefined);
    handling.enqueue(message, where);
    // The watcher applies the \Seen only while the mailbox still has this UIDVALIDITY.
    await vi.waitFor(() => expect(settledAt).toEqual([where]));
  });

  it("keeps a message in flight while it waits for a retry, then records it handled", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let calls = 0;
    const { store, record, handling, settled } = await setup(async () => {
      if (++calls === 1) throw new Error("agent hiccup");
    });
    handling.enqueue(message, where, record);
    await vi.waitFor(() => expect(calls).toBe(1));
    // The retry waits 2 s: a sync cycle listing the message meanwhile must see it in flight.
    await vi.advanceTimersByTimeAsync(1000);
    expect(handling.has(where)).toBe(true);
    expect(store.inbound.getByUid("hello@x.test", "INBOX", "7", 1)?.status).toBe("received");
    await vi.advanceTimersByTimeAsync(2000);
    await vi.waitFor(() =>
      expect(store.inbound.getByUid("hello@x.test", "INBOX", "7", 1)?.status).toBe("handled"),
    );
    expect(calls).toBe(2);
    expect(store.inbound.getByUid("hello@x.test", "INBOX", "7", 1)?.attempts).toBe(2);
    expect(settled).toEqual(["seen"]);
    await vi.waitFor(() => expect(handling.has(where)).toBe(false));
  });

  it("quarantines after max_attempts failures, counting each attempt before the agent runs", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let calls = 0;
    const { store, record, handling, settled } = await setup(async () => {
      calls++;
      throw new Error("always broken");
    });
    handling.enqueue(message, where, record);
    await vi.waitFor(() => expect(calls).toBe(1));
    await vi.advanceTimersByTimeAsync(2000);
    await vi.waitFor(() => expect(calls).toBe(2));
    await vi.advanceTimersByTimeAsync(4000);
    await vi.waitFor(() => expect(settled).toEqual(["quarantine"]));
    expect(calls).toBe(3);
    const final = store.inbound.getByUid("hello@x.test", "INBOX", "7", 1)!;
    expect(final).toMatchObject({ status: "quarantined", attempts: 3 });
    expect(final.reason).toContain("handling failed 3 times: always broken");
  });

  it("counts the attempt of a resumed message (not counted by a hand-over) before the agent runs", async () => {
    let calls = 0;
    const { store, handling } = await setup(async () => {
      calls++;
    });
    handling.enqueue(message, where); // resumed: no counted record
    await vi.waitFor(() =>
      expect(store.inbound.getByUid("hello@x.test", "INBOX", "7", 1)?.status).toBe("handled"),
    );
    expect(calls).toBe(1);
    expect(store.inbound.getByUid("hello@x.test", "INBOX", "7", 1)?.attempts).toBe(2);
  });

  it("records a resumed message handled, without the agent, when its reply was recorded before the stop", async () => {
    let calls = 0;
    const asked: string[] = [];
    const { store, record, handling, settled, events } = await setup(
      async () => {
        calls++;
      },
      (m) => {
        asked.push(m.messageId);
        return true;
      },
    );
    const handled: string[] = [];
    events.on("handled", (h: { messageId: string }) => handled.push(h.messageId));
    handling.enqueue(message, where); // resumed after a stop that came between the reply and its record
    await vi.waitFor(() =>
      expect(store.inbound.getByUid("hello@x.test", "INBOX", "7", 1)?.status).toBe("handled"),
    );
    expect(calls).toBe(0);
    expect(asked).toEqual(["m1@x.test"]);
    expect(settled).toEqual(["seen"]);
    expect(handled).toEqual(["m1@x.test"]);
    // A first hand-over is not asked (its reply cannot exist yet): the agent runs.
    store.inbound.put({ ...record, uid: 2, messageId: "m2@x.test", status: "received", attempts: 1 });
    const second = { ...where, uid: 2 };
    handling.enqueue({ ...message, messageId: "m2@x.test" } as MessageFormat, second, {
      ...record,
      uid: 2,
      messageId: "m2@x.test",
    });
    await vi.waitFor(() => expect(calls).toBe(1));
    expect(asked).toEqual(["m1@x.test"]);
  });

  it("says it has room again once half its limit is free, also when arrivals end unqueued", async () => {
    const config = await offlineConfig("hello@x.test");
    const store = openSqliteStore({ path: ":memory:" });
    let rooms = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const handling = new HandlingQueue({
      config,
      store,
      logger: silentLogger(),
      queue: new KeyedQueue(4),
      events: new EventEmitter(),
      writes: new GroupCommit(store),
      deliver: () => gate,
      settle: () => undefined,
      // Only the message count given: the text limit keeps its default.
      limits: { messages: 4 },
      onRoom: () => rooms++,
      signal: new AbortController().signal,
    });
    // Four arriving (converting, being decided): full before any is queued.
    for (let i = 0; i < 4; i++) handling.arriving(1);
    expect(handling.saturated()).toBe(true);
    // Two are refused or robot mail (never queued): half the limit is free.
    handling.arriving(-1);
    expect(rooms).toBe(0);
    handling.arriving(-1);
    expect(rooms).toBe(1);
    // The other two are queued for the agent, which holds them; two more arrive: full again.
    for (const uid of [2, 3]) {
      store.inbound.put({ ...where, uid, messageId: `m${uid}@x.test`, status: "received", attempts: 1 });
      handling.enqueue(
        { ...message, messageId: `m${uid}@x.test`, conversationId: `c${uid}` },
        { ...where, uid },
      );
      handling.arriving(-1);
    }
    handling.arriving(1);
    handling.arriving(1);
    expect(handling.saturated()).toBe(true);
    handling.arriving(-1);
    handling.arriving(-1);
    expect(rooms).toBe(2);
    release();
    await vi.waitFor(() => expect(store.inbound.countByStatus()).toEqual({ handled: 2 }));
    expect(handling.saturated()).toBe(false);
  });
});
