/**
 * The outbox side of bounces: the ENVID a message is sent with, and how successive delivery reports
 * merge into what its entry records.
 */
import { describe, expect, it } from "vitest";
import type { DeliveryReport } from "../../../src/mime/delivery-status.js";
import {
  envelopeIdFor,
  MAX_REPORTS_KEPT,
  mergeDeliveryReport,
} from "../../../src/outbox/delivery-reports.js";

const AT = new Date("2026-11-22T10:00:00Z");
const LATER = new Date("2026-11-22T12:00:00Z");
const ours = ["bob@example.org", "carol@example.org"];
const dsn = (...recipients: DeliveryReport["recipients"]): DeliveryReport => ({ recipients });

describe("envelopeIdFor", () => {
  it("is 32 hex digits, the same for the same Message-ID and different for another", () => {
    const id = envelopeIdFor("ec.abc.def.ghi@example.test");
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(envelopeIdFor("ec.abc.def.ghi@example.test")).toBe(id);
    expect(envelopeIdFor("ec.abc.def.ghj@example.test")).not.toBe(id);
  });
});

describe("mergeDeliveryReport", () => {
  it("records a failed recipient as a bounce, with the report's Message-ID", () => {
    const merged = mergeDeliveryReport(
      undefined,
      dsn({
        recipient: "bob@example.org",
        action: "failed",
        status: "5.1.1",
        diagnostic: "550 no such user",
      }),
      ours,
      "r1@mx",
      AT,
    );
    expect(merged).toEqual({
      report: {
        outcome: "failed",
        recipients: [
          {
            recipient: "bob@example.org",
            action: "failed",
            status: "5.1.1",
            diagnostic: "550 no such user",
            at: AT.toISOString(),
          },
        ],
        reports: ["r1@mx"],
      },
      changed: [merged!.report.recipients[0]],
    });
  });

  it("finds the recipient by Original-Recipient when the final one was rewritten", () => {
    const merged = mergeDeliveryReport(
      undefined,
      dsn({
        recipient: "b.smith@mailhost.example.org",
        originalRecipient: "bob@example.org",
        action: "failed",
      }),
      ours,
      "r1@mx",
      AT,
    );
    expect(merged?.report.recipients.map((r) => r.recipient)).toEqual(["bob@example.org"]);
  });

  it("ignores recipients that are not the entry's, actions other than failed or delayed, and a report seen before", () => {
    expect(
      mergeDeliveryReport(
        undefined,
        dsn(
          { recipient: "mallory@example.net", action: "failed", status: "5.1.1" },
          { recipient: "bob@example.org", action: "delivered", status: "2.0.0" },
          { recipient: "carol@example.org", action: "relayed" },
        ),
        ours,
        "r1@mx",
        AT,
      ),
    ).toBeUndefined();
    const first = mergeDeliveryReport(
      undefined,
      dsn({ recipient: "bob@example.org", action: "failed" }),
      ours,
      "r1@mx",
      AT,
    );
    expect(
      mergeDeliveryReport(
        first!.report,
        dsn({ recipient: "carol@example.org", action: "failed" }),
        ours,
        "r1@mx",
        LATER,
      ),
    ).toBeUndefined();
  });

  it("says delayed until something fails, and a failure is not undone by a later delay", () => {
    const delayed = mergeDeliveryReport(
      undefined,
      dsn({ recipient: "bob@example.org", action: "delayed", status: "4.4.1" }),
      ours,
      "r1@mx",
      AT,
    )!;
    expect(delayed.report.outcome).toBe("delayed");
    const failed = mergeDeliveryReport(
      delayed.report,
      dsn({ recipient: "bob@example.org", action: "failed", status: "5.4.7" }),
      ours,
      "r2@mx",
      LATER,
    )!;
    expect(failed.report).toMatchObject({
      outcome: "failed",
      recipients: [
        { recipient: "bob@example.org", action: "failed", status: "5.4.7", at: LATER.toISOString() },
      ],
      reports: ["r1@mx", "r2@mx"],
    });
    expect(
      mergeDeliveryReport(
        failed.report,
        dsn({ recipient: "bob@example.org", action: "delayed" }),
        ours,
        "r3@mx",
        LATER,
      ),
    ).toBeUndefined();
    const carol = mergeDeliveryReport(
      failed.report,
      dsn({ recipient: "carol@example.org", action: "delayed" }),
      ours,
      "r3@mx",
      LATER,
    )!;
    expect(carol.report.outcome).toBe("failed");
    expect(carol.report.recipients.map((r) => [r.recipient, r.action])).toEqual([
      ["bob@example.org", "failed"],
      ["carol@example.org", "delayed"],
    ]);
    expect(carol.changed.map((r) => r.recipient)).toEqual(["carol@example.org"]);
  });

  it("keeps the Message-IDs of the last reports only, however many delays are reported", () => {
    let report: ReturnType<typeof mergeDeliveryReport>;
    let previous: NonNullable<typeof report>["report"] | undefined;
    for (let i = 0; i < MAX_REPORTS_KEPT + 5; i++) {
      report = mergeDeliveryReport(
        previous,
        dsn({ recipient: "bob@example.org", action: "delayed" }),
        ours,
        `r${i}@mx`,
        AT,
      );
      previous = report!.report;
    }
    expect(previous!.reports).toHaveLength(MAX_REPORTS_KEPT);
    expect(previous!.reports.at(-1)).toBe(`r${MAX_REPORTS_KEPT + 4}@mx`);
    expect(previous!.recipients).toHaveLength(1);
  });
});
