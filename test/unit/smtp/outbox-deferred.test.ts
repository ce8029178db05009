/**
 * Recipients a server deferred (RCPT TO 4xx) while it took the message for the others: they get
 * the same message later from a follow-up entry, stored with the sent mark. The store is real (a
 * file where a restart matters); the sender is scripted with the results nodemailer gives.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ServerError } from "../../../src/errors/index.js";
import { envelopeIdFor } from "../../../src/outbox/delivery-reports.js";
import type { OutboxDispatcher, OutboxDispatcherOptions } from "../../../src/outbox/index.js";
import type { RecipientReply, SendResult } from "../../../src/smtp/index.js";
import { type StateStore, openSqliteStore } from "../../../src/store/index.js";
import { ScriptedSender, entry, fastDispatcher, until } from "./support/outbox-fixtures.js";

const ALICE = "alice@example.com";
const BOB = "bob@example.test";
const CAROL = "carol@example.org";
const COPY = "hello@cassey.ai";

const stores: StateStore[] = [];
const dispatchers: OutboxDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  for (const s of stores.splice(0)) s.close();
});

function open(file = ":memory:"): StateStore {
  const db = openSqliteStore({ path: file });
  stores.push(db);
  return db;
}

function dispatcherOn(db: StateStore, sender: ScriptedSender, extra: Partial<OutboxDispatcherOptions> = {}) {
  const d = fastDispatcher(db.outbox, sender, extra);
  dispatchers.push(d);
  return d;
}

/** What nodemailer reports when the server took the message for `accepted` and refused the rest. */
function partly(accepted: string[], refused: [recipient: string, code: number][]): SendResult {
  const replies: RecipientReply[] = refused.map(([recipient, code]) => ({
    recipient,
    code,
    response: code < 500 ? `${code} 4.1.2 <${recipient}>: domain not found` : `${code} 5.1.1 no such user`,
  }));
  return {
    response: "250 2.0.0 Ok: queued as 9Zt4",
    accepted,
    rejected: refused.map(([r]) => r),
    rejectedReplies: replies,
  };
}

const toAll = (key: string, recipients = [ALICE, BOB]) => ({ ...entry(key), recipients });

describe("OutboxDispatcher: recipients the server deferred", () => {
  it("stores a follow-up for the deferred recipients with the sent mark, and sends it to them alone after a restart", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "ec-deferred-"));
    try {
      const file = path.join(dir, "state.db");
      const first = open(file);
      const onSent: string[] = [];
      const hook: OutboxDispatcherOptions["onSent"] = (e, info) =>
        void onSent.push(`${e.key}:${info.replayed}`);
      const d1 = dispatcherOn(first, new ScriptedSender([partly([ALICE], [[BOB, 450]])]), { onSent: hook });
      d1.enqueue(toAll("p1"));
      expect(await d1.sendNow("p1")).toMatchObject({ status: "sent", rejected: [BOB] });
      expect(first.outbox.get("p1")).toMatchObject({ status: "sent", recipients: [ALICE, BOB] });
      expect(first.outbox.get("p1#deferred-1")).toMatchObject({
        status: "pending",
        attempts: 0,
        recipients: [BOB],
        deferredFrom: "p1",
        messageId: "p1@cassey.ai",
        conversationId: "c-1",
        account: COPY,
        envelopeId: envelopeIdFor("p1@cassey.ai"),
        savedToSent: true,
        lastError: expect.stringContaining("450 4.1.2"),
      });
      // A crash now (nothing else written after the send) loses neither the sent mark nor Bob.
      await d1.stop();
      first.close();
      stores.splice(stores.indexOf(first), 1);

      const reopened = open(file);
      const sender = new ScriptedSender();
      const d2 = dispatcherOn(reopened, sender, { onSent: hook });
      await d2.start();
      await until(() => reopened.outbox.get("p1#deferred-1")?.status === "sent");
      expect(sender.calls).toHaveLength(1);
      expect(sender.calls[0]!.envelope).toEqual({
        from: COPY,
        to: [BOB],
        envelopeId: envelopeIdFor("p1@cassey.ai"),
      });
      expect(Buffer.from(sender.calls[0]!.raw).toString()).toBe("Message-ID: <p1@cassey.ai>\r\n\r\nhi\r\n");
      // onSent (the copy in Sent, the "sent" event) ran for the message once: not for the follow-up,
      // not replayed at the restart for it either.
      expect(onSent).toEqual(["p1:false", "p1:true"]);
      expect(reopened.outbox.unsaved().map((e) => e.key)).toEqual(["p1"]);
      expect(reopened.outbox.countByStatus()).toEqual({ sent: 2 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives no follow-up to a recipient refused for good (5xx), and one to the deferred only", async () => {
    const db = open();
    const sender = new ScriptedSender([
      partly([ALICE], [[CAROL, 550]]),
      partly(
        [ALICE],
        [
          [CAROL, 550],
          [BOB, 451],
        ],
      ),
    ]);
    const d = dispatcherOn(db, sender);
    const refused: string[][] = [];
    d.on("recipientsRejected", (_e, list) => refused.push(list));
    d.enqueue(toAll("p2", [ALICE, CAROL]));
    expect(await d.sendNow("p2")).toMatchObject({ status: "sent", rejected: [CAROL] });
    expect(db.outbox.countByStatus()).toEqual({ sent: 1 });

    d.enqueue(toAll("p3", [ALICE, BOB, CAROL]));
    await d.sendNow("p3");
    expect(db.outbox.pending().map((e) => [e.key, e.recipients])).toEqual([["p3#deferred-1", [BOB]]]);
    expect(refused).toEqual([[CAROL], [CAROL, BOB]]);
  });

  it("sends a follow-up without the delivery copy, defers again as #deferred-2, and runs onSent once", async () => {
    const db = open();
    const sender = new ScriptedSender([
      partly(
        [ALICE, COPY],
        [
          [BOB, 450],
          [CAROL, 451],
        ],
      ),
      partly([BOB], [[CAROL, 450]]),
      { response: "250 ok", accepted: [CAROL], rejected: [] },
    ]);
    const onSent: string[] = [];
    const sent: string[] = [];
    const d = dispatcherOn(db, sender, {
      deliveryCopy: (e) => e.account,
      confirmDelivered: () => false,
      onSent: (e) => {
        onSent.push(e.key);
        db.outbox.markSavedToSent(e.key); // as the channel's hook does once the copy is in Sent
      },
    });
    d.on("sent", (e) => sent.push(e.key));
    d.enqueue(toAll("p4", [ALICE, BOB, CAROL]));
    await d.sendNow("p4");
    await d.start();
    await until(() => db.outbox.get("p4#deferred-2")?.status === "sent");
    expect(sender.calls.map((c) => c.envelope.to)).toEqual([
      [ALICE, BOB, CAROL, COPY],
      [BOB, CAROL],
      [CAROL],
    ]);
    expect(db.outbox.get("p4#deferred-2")).toMatchObject({ deferredFrom: "p4", recipients: [CAROL] });
    expect(sent).toEqual(["p4", "p4#deferred-1", "p4#deferred-2"]);
    expect(onSent).toEqual(["p4"]);
  });

  it("reports a follow-up refused for good as a permanent failure naming its recipients", async () => {
    const db = open();
    const sender = new ScriptedSender([
      partly([ALICE], [[BOB, 450]]),
      new ServerError("refused", {
        code: "SMTP_REJECTED",
        stage: "smtp",
        retryable: false,
        status: 550,
        response: "550 5.1.1 <bob@example.test>: Recipient address rejected",
      }),
    ]);
    const d = dispatcherOn(db, sender);
    const failures: unknown[] = [];
    d.on("permanentFailure", (e, err) => failures.push([e.key, e.recipients, err.code]));
    d.enqueue(toAll("p5"));
    await d.sendNow("p5");
    await d.start();
    await until(() => db.outbox.get("p5#deferred-1")?.status === "failed");
    expect(failures).toEqual([["p5#deferred-1", [BOB], "SMTP_REJECTED"]]);
    expect(db.outbox.get("p5")?.status).toBe("sent");
  });
});
