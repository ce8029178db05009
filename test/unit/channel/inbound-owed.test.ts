/**
 * The change a directly decided message owes its mailbox (\Seen for robot mail and duplicates,
 * \Flagged for a refused sender, the quarantine move for what cannot be read) is in the ledger the
 * moment its status is: the pipeline answers the disposition and the watcher applies it later, so a
 * crash in between must leave it owed for the next session (Settlement.loadOwed).
 */
import { EventEmitter } from "node:events";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { InboundPipeline, type GuardDecision } from "../../../src/channel/inbound-pipeline.js";
import type { Disposition } from "../../../src/imap/types.js";
import { openSqliteStore, silentLogger } from "../../../src/index.js";
import { convertMessage } from "../../../src/mime/index.js";
import { KeyedQueue } from "../../../src/runtime/keyed-queue.js";
import { offlineConfig } from "../../support/offline-config.js";

const account = "hello@x.test";
const position = (uid: number) => ({ account, mailbox: "INBOX", uidValidity: "7", uid });

const mail = (id: string, from: string) =>
  Buffer.from(
    [
      `From: ${from}`,
      `To: ${account}`,
      "Subject: hi",
      `Message-ID: <${id}>`,
      "Date: Sat, 21 Nov 2026 10:00:00 +0000",
      "",
      "Hello there.",
      "",
    ].join("\r\n"),
  );

async function setup(env: Record<string, string> = {}, agentGate?: Promise<void>) {
  const config = await offlineConfig(account, env);
  const store = openSqliteStore({ path: ":memory:" });
  const settled: Disposition[] = [];
  const delivered: string[] = [];
  const pipeline = new InboundPipeline({
    config,
    store,
    logger: silentLogger(),
    secret: Buffer.alloc(32, 1),
    ownAddresses: [account],
    ownDomains: ["x.test"],
    queue: new KeyedQueue(4),
    events: new EventEmitter(),
    convert: (raw) => {
      if (Buffer.isBuffer(raw) && raw.includes("BROKEN")) return Promise.reject(new Error("bad MIME"));
      return convertMessage(raw);
    },
    // The guard stage's answer by sender: a stranger is refused, a robot is recorded as robot mail.
    guard: async (input): Promise<GuardDecision> => {
      const from = input.from?.address ?? "";
      if (from.startsWith("stranger@"))
        return {
          robot: false,
          verdicts: {},
          refusal: {
            ok: false,
            guard: "allowlist",
            code: "ALLOWLIST_DENIED",
            reason: "not allowed",
            reply: false,
          },
        };
      if (from.startsWith("mailer-daemon@"))
        return {
          robot: true,
          verdicts: {},
          refusal: { ok: false, guard: "loop", code: "LOOP_BOUNCE", reason: "a bounce", reply: false },
        };
      return { robot: false, verdicts: {} };
    },
    recordAccepted: () => undefined,
    deliver: async (m) => {
      delivered.push(m.messageId);
      await agentGate;
    },
    settle: (_w, d) => settled.push(d),
    signal: new AbortController().signal,
  });
  const send = (uid: number, raw: Buffer) =>
    pipeline.onMessage({ ...position(uid), size: raw.length, raw, resumed: false, unrecorded: true });
  return { store, pipeline, send, settled, delivered };
}

describe("inbound pipeline: what a direct outcome owes the mailbox is recorded with its status", () => {
  it("refused, robot mail, a duplicate, an unparseable and an oversized message are owed before any command", async () => {
    const { store, pipeline, send, settled } = await setup();
    expect(await send(1, mail("a@y.test", "stranger@y.test"))).toMatchObject({ action: "refused" });
    expect(await send(2, mail("b@y.test", "mailer-daemon@y.test"))).toEqual({ action: "seen" });
    expect(await send(3, Buffer.from("BROKEN"))).toMatchObject({ action: "quarantine" });
    // The same Message-ID as uid 1 in another mailbox position (a second copy).
    expect(await send(4, mail("a@y.test", "stranger@y.test"))).toEqual({ action: "seen" });
    // Too big to download: quarantined from its size alone.
    await pipeline.handler().onOversize({ ...position(5), size: 900 }, 100);
    pipeline.stop();

    // Nothing was applied (no dispose ran: a crash here), yet the ledger owes each its change.
    expect(settled).toEqual([]);
    const owed = store.inbound.mailboxTodos(account, "INBOX", "7").map((o) => [o.uid, o.todo]);
    expect(owed).toEqual([
      [1, "refused"],
      [2, "seen"],
      [3, "quarantine"],
      [4, "seen"],
      [5, "quarantine"],
    ]);
    const statuses = [1, 2, 3, 4, 5].map((uid) => store.inbound.getByUid(account, "INBOX", "7", uid)?.status);
    expect(statuses).toEqual(["ignored", "ignored", "quarantined", "duplicate", "quarantined"]);
  });

  it("a handed-over message owes nothing until its handling is done", async () => {
    const { store, pipeline, send, delivered } = await setup();
    expect(await send(1, mail("c@y.test", "alice@y.test"))).toBe("pending");
    await expect.poll(() => delivered).toEqual(["c@y.test"]);
    await expect
      .poll(() => store.inbound.mailboxTodos(account, "INBOX", "7").map((o) => [o.uid, o.todo]))
      .toEqual([[1, "seen"]]);
    pipeline.stop();
  });
});

describe("inbound pipeline: a streamed message whose download is cut off", () => {
  /** A download that delivers the head of a message and then fails, as imapflow's stream does. */
  const cutOff = () => {
    const stream = new PassThrough();
    stream.write(mail("big@y.test", "alice@y.test").subarray(0, 60));
    setImmediate(() =>
      stream.destroy(Object.assign(new Error("Connection closed"), { code: "NoConnection" })),
    );
    return stream;
  };
  const streamed = (pipeline: InboundPipeline, uid: number) =>
    pipeline.onMessage({
      ...position(uid),
      size: 5_000_000,
      raw: cutOff(),
      resumed: false,
      unrecorded: true,
    });

  it("is not recorded (it is fetched again) until it has failed three times, then it is quarantined", async () => {
    const { store, pipeline, delivered } = await setup();
    for (let attempt = 1; attempt < 3; attempt++) {
      await expect(streamed(pipeline, 9)).rejects.toMatchObject({ code: "IMAP_DOWNLOAD_FAILED" });
      // Not "cannot parse": nothing in the ledger, nothing owed, so the next session fetches it again.
      expect(store.inbound.getByUid(account, "INBOX", "7", 9)).toBeUndefined();
    }
    const third = await streamed(pipeline, 9);
    expect(third).toMatchObject({
      action: "quarantine",
      reason: "download failed 3 times: Connection closed",
    });
    expect(store.inbound.getByUid(account, "INBOX", "7", 9)).toMatchObject({
      status: "quarantined",
      reason: "download failed 3 times: Connection closed",
    });
    expect(store.inbound.mailboxTodos(account, "INBOX", "7").map((o) => [o.uid, o.todo])).toEqual([
      [9, "quarantine"],
    ]);
    // The messages behind it are not held up.
    expect(
      await pipeline.onMessage({
        ...position(10),
        size: 1,
        raw: mail("next@y.test", "alice@y.test"),
        resumed: false,
        unrecorded: true,
      }),
    ).toBe("pending");
    await expect.poll(() => delivered).toEqual(["next@y.test"]);
    pipeline.stop();
  });
});

describe("inbound pipeline: copies of a message at an older UIDVALIDITY (a rescan)", () => {
  const old = (uid: number, messageId: string, status: "received" | "handled") => ({
    account,
    mailbox: "INBOX",
    uidValidity: "6",
    uid,
    messageId,
    status,
    attempts: 1,
  });

  it("takes over a copy whose handling never finished, and closes the old record", async () => {
    const { store, pipeline, send, delivered } = await setup();
    store.inbound.put(old(3, "unfinished@y.test", "received"));
    expect(await send(1, mail("unfinished@y.test", "alice@y.test"))).toBe("pending");
    await expect.poll(() => delivered).toEqual(["unfinished@y.test"]);
    expect(store.inbound.getByUid(account, "INBOX", "6", 3)).toMatchObject({
      status: "duplicate",
      reason: expect.stringContaining("handed over again as uid 1 (UIDVALIDITY 7)"),
    });
    // Nothing is left unfinished under the old UIDVALIDITY.
    expect(store.inbound.unfinished(account).filter((r) => r.uidValidity === "6")).toEqual([]);
    pipeline.stop();
  });

  it("takes over a copy still with the agent in this process too: never lost, one reply key", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { store, pipeline, delivered } = await setup({}, gate);
    const raw = mail("busy@y.test", "alice@y.test");
    const at = (uidValidity: string, uid: number) =>
      pipeline.onMessage({
        ...position(uid),
        uidValidity,
        size: raw.length,
        raw,
        resumed: false,
        unrecorded: true,
      });
    expect(await at("6", 3)).toBe("pending");
    await expect.poll(() => delivered).toEqual(["busy@y.test"]);
    // The mailbox comes back with UIDVALIDITY 7 while the agent still works on the old copy. Should
    // the process stop now, only the new copy would ever be resumed: it is handed over.
    expect(await at("7", 1)).toBe("pending");
    expect(store.inbound.getByUid(account, "INBOX", "7", 1)?.status).toBe("received");
    release();
    await expect.poll(() => store.inbound.getByUid(account, "INBOX", "7", 1)?.status).toBe("handled");
    // The agent ran for both (the reply key, the Message-ID, lets one reply out).
    expect(delivered).toEqual(["busy@y.test", "busy@y.test"]);
    pipeline.stop();
  });

  it("skips a copy that was handled, even with dedupe_across_mailboxes off", async () => {
    const { store, pipeline, send, delivered } = await setup({ EMAIL_DEDUPE_ACROSS_MAILBOXES: "false" });
    store.inbound.put(old(3, "done@y.test", "handled"));
    // The same Message-ID handled in another mailbox: with the setting off, that is not a duplicate.
    store.inbound.put({ ...old(4, "elsewhere@y.test", "handled"), mailbox: "Support", uidValidity: "7" });
    expect(await send(1, mail("done@y.test", "alice@y.test"))).toEqual({ action: "seen" });
    expect(await send(2, mail("elsewhere@y.test", "alice@y.test"))).toBe("pending");
    await expect.poll(() => delivered).toEqual(["elsewhere@y.test"]);
    expect(store.inbound.getByUid(account, "INBOX", "7", 1)?.status).toBe("duplicate");
    pipeline.stop();
  });
});
