/**
 * A bounce reaching the channel finds the outbox entry it is about (by ENVID, else by the returned
 * Message-ID), is stored on it and emitted once; reports about other messages or other recipients
 * change nothing. The DSN is the Postfix fixture (test/fixtures/mail/dsn-postfix.eml), converted.
 */
import { EventEmitter } from "node:events";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { deliveryReportHandler, recordDeliveryReport } from "../../../src/channel/delivery-reports.js";
import { openSqliteStore, silentLogger } from "../../../src/index.js";
import { convertMessage, type ParsedInbound } from "../../../src/mime/index.js";
import { envelopeIdFor } from "../../../src/outbox/delivery-reports.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/mail");
const RETURNED = "ec.v5b9n3kd.invoice@example.test"; // the Message-ID the fixture returns
const AT = new Date("2024-03-07T16:40:15Z");

async function fixture(file = "dsn-postfix.eml"): Promise<ParsedInbound> {
  return convertMessage(await readFile(path.join(FIXTURES, file)));
}

function setup(entry: { messageId: string; recipients: string[]; envelopeId?: string }) {
  const store = openSqliteStore({ path: ":memory:" });
  store.outbox.enqueue({
    key: "reply:m1",
    conversationId: "c1",
    account: "assistant@example.test",
    raw: new Uint8Array([1]),
    ...entry,
  });
  store.outbox.markSent("reply:m1", "250 ok");
  const events = new EventEmitter();
  const seen: { event: string; info: unknown }[] = [];
  for (const event of ["bounced", "deliveryDelayed"])
    events.on(event, (info: unknown) => seen.push({ event, info }));
  const deps = { store, events, logger: silentLogger(), now: () => AT };
  return { store, seen, deps };
}

describe("recordDeliveryReport", () => {
  it("finds the entry by the returned Message-ID, stores the bounce on it and emits it once", async () => {
    const { store, seen, deps } = setup({ messageId: RETURNED, recipients: ["nobody@example.com"] });
    const dsn = await fixture();
    expect(recordDeliveryReport(deps, dsn)?.key).toBe("reply:m1");
    const recipient = {
      recipient: "nobody@example.com",
      action: "failed",
      status: "5.1.1",
      diagnostic: expect.stringMatching(/^550 5\.1\.1 <nobody@example\.com>: Recipient address rejected/),
      at: AT.toISOString(),
    };
    expect(seen).toEqual([
      {
        event: "bounced",
        info: { key: "reply:m1", messageId: RETURNED, conversationId: "c1", recipients: [recipient] },
      },
    ]);
    expect(store.outbox.get("reply:m1")).toMatchObject({
      status: "sent",
      deliveryReport: { outcome: "failed", recipients: [recipient], reports: [dsn.messageId] },
    });
    // The same report again (a rescan, a second mailbox): nothing new.
    recordDeliveryReport(deps, dsn);
    expect(seen).toHaveLength(1);
  });

  it("finds the entry first sent, not the follow-up to a recipient its server deferred", async () => {
    const { store, seen, deps } = setup({
      messageId: RETURNED,
      recipients: ["nobody@example.com", "b@x.test"],
    });
    store.outbox.markSent("reply:m1", "250 ok", {
      recipients: ["b@x.test"],
      error: "450 later",
      nextAttemptAt: AT.toISOString(),
    });
    expect(store.outbox.getByMessageId(RETURNED).map((e) => e.key)).toEqual([
      "reply:m1",
      "reply:m1#deferred-1",
    ]);
    expect(recordDeliveryReport(deps, await fixture())?.key).toBe("reply:m1");
    expect(seen.map((s) => s.event)).toEqual(["bounced"]);
  });

  it("finds the entry by the ENVID the report names, whatever headers it returns", async () => {
    const messageId = "ec.other@example.test";
    const { store, seen, deps } = setup({
      messageId,
      recipients: ["nobody@example.com"],
      envelopeId: envelopeIdFor(messageId),
    });
    const dsn = await fixture();
    const status = dsn.reports[0]!;
    const withEnvid = {
      ...dsn,
      reports: [{ ...status, text: `Original-Envelope-Id: ${envelopeIdFor(messageId)}\n${status.text}` }],
    };
    expect(recordDeliveryReport(deps, withEnvid)?.key).toBe("reply:m1");
    expect(seen.map((s) => s.event)).toEqual(["bounced"]);
    expect(store.outbox.getByEnvelopeId(envelopeIdFor(messageId))?.deliveryReport?.outcome).toBe("failed");
  });

  it("changes nothing for a report about another recipient (forged or misrouted) or another message", async () => {
    const other = setup({ messageId: RETURNED, recipients: ["bob@example.org"] });
    expect(recordDeliveryReport(other.deps, await fixture())?.key).toBe("reply:m1");
    expect(other.seen).toEqual([]);
    expect(other.store.outbox.get("reply:m1")?.deliveryReport).toBeUndefined();

    const unknown = setup({ messageId: "ec.unrelated@example.test", recipients: ["nobody@example.com"] });
    expect(recordDeliveryReport(unknown.deps, await fixture())).toBeUndefined();
    expect(unknown.seen).toEqual([]);
  });

  it("ignores mail that is not a delivery report", async () => {
    const { seen, deps } = setup({ messageId: RETURNED, recipients: ["nobody@example.com"] });
    expect(recordDeliveryReport(deps, await fixture("autoreply-exchange-oof.eml"))).toBeUndefined();
    expect(seen).toEqual([]);
  });

  it("as the pipeline's robot-mail handler, logs a store failure instead of throwing", async () => {
    const { store, deps } = setup({ messageId: RETURNED, recipients: ["nobody@example.com"] });
    const warnings: unknown[] = [];
    store.outbox.getByMessageId = () => {
      throw new Error("disk I/O error");
    };
    const handler = deliveryReportHandler({
      ...deps,
      logger: Object.assign(Object.create(deps.logger) as typeof deps.logger, {
        warn: (...args: unknown[]) => void warnings.push(args),
      }),
    });
    const dsn = await fixture();
    expect(() => handler(dsn)).not.toThrow();
    expect(warnings).toHaveLength(1);
  });
});
