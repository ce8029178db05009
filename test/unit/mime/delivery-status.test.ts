/**
 * Delivery status notifications (RFC 3464) read into per-recipient statuses: the field grammar on
 * small bodies, then every standard bounce of the shared corpus against sisimai's expectations.
 * (Our own DSN fixtures are checked in fixtures.test.ts against expected.json.)
 */
import { describe, expect, it } from "vitest";
import {
  deliveryStatusBlocks,
  parseDeliveryStatus,
  readDeliveryReport,
} from "../../../src/mime/delivery-status.js";
import { convertMessage } from "../../../src/mime/index.js";
import { corpusBytes, corpusPresent, expectedOf, manifest } from "./corpus-support.js";

const POSTFIX = [
  "Reporting-MTA: dns; mail.example.test",
  "Original-Envelope-Id: 26171209a278380180c27614a15d61ee",
  "X-Postfix-Queue-ID: 72FEC20DFFF",
  "Arrival-Date: Sun, 22 Nov 2026 03:47:12 +0000 (UTC)",
  "",
  "Final-Recipient: rfc822; Gone@Bounce.Example.test",
  "Original-Recipient: rfc822;gone@bounce.example.test",
  "Action: failed",
  "Status: 5.1.1",
  "Remote-MTA: dns; 127.0.0.1",
  "Diagnostic-Code: smtp; 550 5.1.1 <gone@bounce.example.test> User doesn't exist:",
  "    gone@bounce.example.test",
  "",
].join("\r\n");

describe("parseDeliveryStatus", () => {
  it("reads the per-message block and each recipient block, unfolding continued fields", () => {
    expect(parseDeliveryStatus(POSTFIX)).toEqual({
      envelopeId: "26171209a278380180c27614a15d61ee",
      reportingMta: "mail.example.test",
      recipients: [
        {
          recipient: "gone@bounce.example.test",
          originalRecipient: "gone@bounce.example.test",
          action: "failed",
          status: "5.1.1",
          remoteMta: "127.0.0.1",
          diagnostic: "550 5.1.1 <gone@bounce.example.test> User doesn't exist: gone@bounce.example.test",
        },
      ],
    });
  });

  it("keeps every recipient in report order, with delayed ones and without optional fields", () => {
    const body = [
      "Reporting-MTA: dns; mx.example.org",
      "",
      "Final-Recipient: rfc822; <a@example.org>",
      "Action: delayed",
      "Status: 4.4.1 (connection timed out)",
      "Will-Retry-Until: Mon, 23 Nov 2026 03:00:00 +0000",
      "",
      "Final-Recipient: RFC822; b@example.org",
      "Action: Failed",
      "",
      "Final-Recipient: rfc822; c@example.org",
      "Action: delivered",
      "Status: 2.0.0",
    ].join("\n");
    expect(parseDeliveryStatus(body)?.recipients).toEqual([
      { recipient: "a@example.org", action: "delayed", status: "4.4.1" },
      { recipient: "b@example.org", action: "failed" },
      { recipient: "c@example.org", action: "delivered", status: "2.0.0" },
    ]);
  });

  it("leaves out recipient blocks it cannot use and yields nothing without a recipient", () => {
    expect(parseDeliveryStatus("Final-Recipient: rfc822; x@example.org\nStatus: 5.0.0\n")).toBeUndefined();
    expect(parseDeliveryStatus("Action: failed\nStatus: 5.0.0\n")).toBeUndefined();
    expect(parseDeliveryStatus("")).toBeUndefined();
    expect(parseDeliveryStatus("not a report at all")).toBeUndefined();
    expect(
      parseDeliveryStatus("Final-Recipient: rfc822; x@example.org\nAction: failed\nStatus: bogus\n"),
    ).toEqual({
      recipients: [{ recipient: "x@example.org", action: "failed" }],
    });
  });

  it("splits blocks on blank lines and keeps the first of a repeated field", () => {
    expect(deliveryStatusBlocks("\n\nA: 1\nA: 2\n b: c\n\n\nC: 3\n")).toEqual([{ a: "1" }, { c: "3" }]);
  });
});

describe("readDeliveryReport", () => {
  const report = (text: string) => ({
    reportType: "delivery-status",
    reports: [{ contentType: "message/delivery-status", text }],
    returnedMessageId: "ec.abc@example.test",
  });

  it("reads a delivery-status report with the returned Message-ID", () => {
    expect(readDeliveryReport(report(POSTFIX))).toMatchObject({
      envelopeId: "26171209a278380180c27614a15d61ee",
      returnedMessageId: "ec.abc@example.test",
      recipients: [{ recipient: "gone@bounce.example.test", status: "5.1.1" }],
    });
  });

  it("is undefined for other reports and for a delivery-status report without its status part", () => {
    expect(
      readDeliveryReport({ ...report(POSTFIX), reportType: "disposition-notification" }),
    ).toBeUndefined();
    expect(readDeliveryReport({ ...report(POSTFIX), reports: [] })).toBeUndefined();
    expect(readDeliveryReport({ reportType: undefined, reports: [] })).toBeUndefined();
  });
});

describe.skipIf(!corpusPresent)("standard bounces of the shared corpus", () => {
  const bounces = manifest().filter((f) => f.kind === "message" && f.tags.includes("dsn-bounce"));
  const sisimai = corpusPresent
    ? expectedOf<{ bounces: { deliveryStatus: string }[] }>("sisimai")
    : { cases: {} as Record<string, { bounces: { deliveryStatus: string }[] }> };

  it("has the bounces the test is about", () => {
    expect(bounces.length).toBeGreaterThanOrEqual(20);
  });

  for (const f of bounces) {
    it(`${f.file}: a machine-readable report names failed or delayed recipients, or there is none`, async () => {
      const parsed = await convertMessage(corpusBytes(f.file));
      const report = readDeliveryReport(parsed);
      const hasStatusPart = parsed.reports.some((r) => /delivery-status$/.test(r.contentType));
      if (!report) {
        // Prose-only bounces (qmail, Gmail's and Google Groups' own), or a status part cut short.
        expect(hasStatusPart && /^Final-Recipient:/im.test(parsed.reports[0]?.text ?? "")).toBe(false);
        return;
      }
      expect(report.recipients.length).toBeGreaterThan(0);
      for (const r of report.recipients) {
        expect(r.recipient).toMatch(/^[^\s<>]+@[^\s<>]+$/);
        expect(["failed", "delayed"]).toContain(r.action);
      }
      // sisimai's status where the report states one (it invents 5.0.9xx codes where none is given).
      const expected = sisimai.cases[f.file.replace(/^sisimai\//, "")]?.bounces[0]?.deliveryStatus;
      const stated = report.recipients.find((r) => r.status)?.status;
      if (expected && stated && !/^5\.0\.9/.test(expected)) expect(stated).toBe(expected);
    });
  }

  it("finds no delivery report in any other corpus message (people, auto-replies, lists, MDNs, ARF)", async () => {
    const others = manifest().filter((f) => f.kind === "message" && !f.tags.includes("dsn-bounce"));
    expect(others.length).toBeGreaterThanOrEqual(80);
    const found: string[] = [];
    for (const f of others)
      if (readDeliveryReport(await convertMessage(corpusBytes(f.file)))) found.push(f.file);
    expect(found).toEqual([]);
  });

  it("reads the Message-ID of the returned message wherever the report returns one", async () => {
    const found: string[] = [];
    for (const f of bounces) {
      const parsed = await convertMessage(corpusBytes(f.file));
      if (parsed.returnedMessageId) found.push(parsed.returnedMessageId);
    }
    // 12 of the 23 bounces return headers or a message with a Message-ID.
    expect(found.length).toBeGreaterThanOrEqual(12);
    for (const id of found) expect(id).toMatch(/^[^\s<>]+@[^\s<>]+$/);
  });
});
