/** The poll loop: diffs delivered, backoff and recovery, re-delivery after a failing consumer, stop(). */
import { afterEach, describe, expect, it } from "vitest";
import { createDavClient } from "../../../src/dav/client.js";
import { DavPoller, backoffDelay } from "../../../src/dav/poller.js";
import { type SyncDiff, SyncEngine } from "../../../src/dav/sync-engine.js";
import type { EmailChannelError, ServerError } from "../../../src/errors/index.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import { type FakeServer, startFakeServer } from "./support/fake-server.js";
import { type SabreState, sabreLike } from "./support/sabre-like.js";

let server: FakeServer | undefined;
let store: StateStore | undefined;
let poller: DavPoller | undefined;
afterEach(async () => {
  await poller?.stop();
  await server?.close();
  store?.close();
  poller = server = store = undefined;
});

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

async function setup(
  state: SabreState,
  options: { onDiff?: (d: SyncDiff) => void | Promise<void>; rediscoverMs?: number } = {},
) {
  server = await startFakeServer(sabreLike(state));
  store = openSqliteStore({ path: ":memory:" });
  const client = createDavClient({
    baseUrl: `${server.url}dav/`,
    username: "alice@example.org",
    password: "pw",
    stage: "caldav",
  });
  const engine = new SyncEngine({ client, repo: store.dav, account: "alice@example.org", kind: "calendar" });
  const diffs: SyncDiff[] = [];
  const errors: { error: unknown; collectionUrl?: string }[] = [];
  poller = new DavPoller({
    account: "alice@example.org",
    sources: [{ kind: "calendar", client, engine }],
    onDiff: options.onDiff ?? ((d) => void diffs.push(d)),
    onError: (error, context) =>
      errors.push({ error, ...(context.collectionUrl ? { collectionUrl: context.collectionUrl } : {}) }),
    intervalMs: 100,
    minBackoffMs: 10,
    maxBackoffMs: 50,
    ...(options.rediscoverMs !== undefined ? { rediscoverMs: options.rediscoverMs } : {}),
  });
  return { diffs, errors, poller, engine };
}

describe("DavPoller", () => {
  it("discovers, delivers the initial diff before start() resolves, then a change; stop() leaves no timer", async () => {
    const before = timers();
    const { diffs, poller } = await setup({});
    await poller.start();
    expect(diffs).toHaveLength(1);
    expect(diffs[0]!.mode).toBe("full");
    expect(diffs[0]!.added).toHaveLength(3);
    await until(() => diffs.length === 2);
    expect(diffs[1]!.changed.map((o) => o.href)).toEqual([
      "/dav/calendars/alice@example.org/work/dentist.ics",
    ]);
    expect(diffs[1]!.removed).toEqual(["/dav/calendars/alice@example.org/work/standup.ics"]);

    await poller.stop();
    expect(poller.running).toBe(false);
    expect(timers()).toBeLessThanOrEqual(before);
    const sent = server!.requests.length;
    await new Promise((r) => setTimeout(r, 250));
    expect(server!.requests.length).toBe(sent);
    await poller.stop(); // idempotent
  });

  it("backs off through an outage, reports each failed cycle, and recovers", async () => {
    const state: SabreState = { down: true };
    const { diffs, errors, poller } = await setup(state);
    await poller.start();
    // First cycle failed: start() still resolved, nothing delivered.
    expect(diffs).toHaveLength(0);
    expect(errors).toHaveLength(1);
    expect((errors[0]!.error as ServerError).status).toBe(500);
    await until(() => errors.length >= 3);
    expect(diffs).toHaveLength(0);
    state.down = false;
    await until(() => diffs.length >= 1);
    expect(diffs[0]!.added).toHaveLength(3);
  });

  it("hands a diff again when the consumer failed on it", async () => {
    let calls = 0;
    const delivered: SyncDiff[] = [];
    const { poller, errors } = await setup(
      {},
      {
        onDiff: (d) => {
          calls++;
          if (calls === 1) throw new Error("sink unavailable");
          delivered.push(d);
        },
      },
    );
    await poller.start();
    await until(() => delivered.length >= 1);
    expect(delivered[0]!.mode).toBe("full");
    expect(delivered[0]!.added).toHaveLength(3);
    expect((errors[0]!.error as Error).message).toBe("sink unavailable");
  });

  it("keeps a collection when discovery suddenly lists none", async () => {
    const state: SabreState = {};
    const { diffs, errors, poller, engine } = await setup(state, { rediscoverMs: 0 });
    await poller.start();
    expect(diffs).toHaveLength(1);
    state.noCalendars = true;
    await until(() => errors.length >= 1);
    expect((errors[0]!.error as EmailChannelError).code).toBe("DAV_SUSPICIOUS_EMPTY");
    expect(engine.knownCollections()).toHaveLength(1);
    expect(engine.objects(engine.knownCollections()[0]!)).toHaveLength(3);
  });
});

describe("backoffDelay", () => {
  const base = { minMs: 1_000, maxMs: 300_000 };
  it("doubles from 1 s to the 5 min ceiling, with equal jitter", () => {
    const high = (n: number) => backoffDelay(n, { ...base, random: () => 0.999999 });
    const low = (n: number) => backoffDelay(n, { ...base, random: () => 0 });
    expect([1, 2, 3, 4].map((n) => Math.round(high(n)))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect([1, 2, 3].map(low)).toEqual([500, 1_000, 2_000]);
    expect(high(20)).toBeLessThanOrEqual(300_000);
    expect(low(50)).toBe(150_000);
  });

  it("honours Retry-After up to the ceiling", () => {
    expect(backoffDelay(1, { ...base, random: () => 0, retryAfterSeconds: 30 })).toBe(30_000);
    expect(backoffDelay(1, { ...base, random: () => 0, retryAfterSeconds: 3_600 })).toBe(300_000);
  });
});
