import { describe, expect, it } from "vitest";
import {
  arrivedSince,
  batches,
  newUids,
  planSync,
  RESCAN_CLOCK_MARGIN_MS,
  rescanScope,
  searchSinceDay,
  uidSet,
} from "../../../src/imap/sync-plan.js";

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
      scope: { kind: "all" },
    });
  });

  it("rescans only what arrived since watching began (and unseen mail, initial_sync unseen)", () => {
    const watching = { ...cursor, watchingSince: "2026-03-01T10:00:00.000Z" };
    const since = new Date(Date.parse("2026-03-01T10:00:00.000Z") - RESCAN_CLOCK_MARGIN_MS);
    const plan = (mode: "unseen" | "new" | "all") =>
      planSync(watching, { uidValidity: "777", uidNext: 3 }, mode);
    expect(plan("unseen")).toMatchObject({ kind: "rescan", scope: { kind: "unseen-or-since", since } });
    expect(plan("new")).toMatchObject({ kind: "rescan", scope: { kind: "since", since } });
    expect(plan("all")).toMatchObject({ kind: "rescan", scope: { kind: "all" } });
  });
});

describe("rescanScope", () => {
  it("looks at every message when the cursor does not say when watching began", () => {
    expect(rescanScope("unseen", undefined)).toEqual({ kind: "all" });
    expect(rescanScope("new", "not a date")).toEqual({ kind: "all" });
  });
  it("reaches back by the clock margin", () => {
    expect(rescanScope("new", "2026-03-01T10:00:00Z")).toEqual({
      kind: "since",
      since: new Date("2026-03-01T09:45:00Z"),
    });
  });
});

describe("searchSinceDay", () => {
  it("is the UTC day before, so a server in any time zone finds everything from `since` on", () => {
    expect(searchSinceDay(new Date("2026-03-01T00:30:00Z"))).toEqual(new Date("2026-02-28T00:00:00Z"));
    expect(searchSinceDay(new Date("2026-03-01T23:59:00Z"))).toEqual(new Date("2026-02-28T00:00:00Z"));
    expect(searchSinceDay(new Date("2026-01-01T12:00:00Z"))).toEqual(new Date("2025-12-31T00:00:00Z"));
  });
});

describe("arrivedSince", () => {
  const since = new Date("2026-03-01T10:00:00Z");
  it("keeps messages whose INTERNALDATE is at or after `since`, and any without a readable one", () => {
    expect(
      arrivedSince(
        [
          { uid: 1, internalDate: new Date("2026-03-01T09:59:59Z") },
          { uid: 2, internalDate: new Date("2026-03-01T10:00:00Z") },
          { uid: 3, internalDate: "2026-03-02T08:00:00+01:00" },
          { uid: 4 },
          { uid: 5, internalDate: "garbage" },
          { uid: 6, internalDate: "2026-03-01T10:30:00+01:00" },
        ],
        since,
      ),
    ).toEqual([2, 3, 4, 5]);
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
