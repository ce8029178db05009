import { describe, expect, it } from "vitest";
import { batches, newUids, planSync, uidSet } from "../../../src/imap/sync-plan.js";

const cursor = { account: "a@x", mailbox: "INBOX", uidValidity: "100", lastUid: 41 };

describe("planSync", () => {
  it("starts the first run as configured", () => {
    expect(planSync(undefined, { uidValidity: "100", uidNext: 50 }, "unseen")).toEqual({
      kind: "initial",
      mode: "unseen",
      cursorAfter: 49,
    });
    expect(planSync(undefined, { uidValidity: "100", uidNext: 50 }, "all")).toEqual({
      kind: "initial",
      mode: "all",
      cursorAfter: 49,
    });
    expect(planSync(undefined, { uidValidity: "100", uidNext: 50 }, "new")).toEqual({
      kind: "initial-skip",
      cursorAfter: 49,
    });
    expect(planSync(undefined, { uidValidity: "100", uidNext: 1 }, "new")).toEqual({
      kind: "initial-skip",
      cursorAfter: 0,
    });
  });

  it("continues after the cursor while UIDVALIDITY holds", () => {
    expect(planSync(cursor, { uidValidity: "100", uidNext: 60 }, "unseen")).toEqual({
      kind: "incremental",
      fromUid: 42,
    });
  });

  it("rescans when UIDVALIDITY changed, whatever the initial mode", () => {
    expect(planSync(cursor, { uidValidity: "777", uidNext: 3 }, "new")).toEqual({
      kind: "rescan",
      previousUidValidity: "100",
      cursorAfter: 2,
    });
  });
});

describe("newUids", () => {
  it("drops the highest UID that N:* returns even when it is below N (RFC 3501 §6.4.8)", () => {
    expect(newUids([41], 42)).toEqual([]);
    expect(newUids([45, 42, 42, 43], 42)).toEqual([42, 43, 45]);
  });
  it("batches", () => {
    expect(batches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
  });
});

describe("uidSet", () => {
  it("writes runs of consecutive UIDs as ranges, in ascending order, without duplicates", () => {
    expect(uidSet([1, 2, 3, 7])).toBe("1:3,7");
    expect(uidSet([9, 4, 5, 5, 1])).toBe("1,4:5,9");
    expect(uidSet([42])).toBe("42");
    expect(uidSet(Array.from({ length: 100 }, (_, i) => 101 + i))).toBe("101:200");
    expect(uidSet([1, 3, 5])).toBe("1,3,5");
  });
});
