/** Stable reminder ids and diffs between two versions of a calendar object. */
import { describe, expect, it } from "vitest";
import {
  computeReminders,
  diffReminders,
  reminderId,
  reminderKeyMaterial,
} from "../../../src/dav/calendar/reminders/index.js";
import { CALENDAR_URL, USER, compute, fixture } from "./support/calendars.js";

const NOW = "2025-03-10T00:00:00Z";

describe("reminder ids", () => {
  it("are the same for the same input, every time", () => {
    const a = compute("google-export.ics", "2025-03-09T12:00:00Z", "Europe/Berlin");
    const b = compute("google-export.ics", "2025-03-09T12:00:00Z", "Europe/Berlin");
    expect(a.reminders.map((r) => r.id)).toEqual(b.reminders.map((r) => r.id));
    expect(new Set(a.reminders.map((r) => r.id)).size).toBe(a.reminders.length);
  });

  it("hash calendar URL, UID, recurrence id, alarm index and repeat index", () => {
    const result = compute("weekly-exdate-moved.ics", NOW, "Europe/Berlin");
    const first = result.reminders[0]!;
    const key = {
      calendarUrl: CALENDAR_URL,
      uid: "A1B2C3D4-E5F6-4789-ABCD-EF0123456789",
      recurrenceId: "20250313T130000Z",
      alarm: "0",
      repeat: 0,
    };
    expect(reminderKeyMaterial(key)).toBe(
      `${CALENDAR_URL}\u001fA1B2C3D4-E5F6-4789-ABCD-EF0123456789\u001f20250313T130000Z\u001f0\u001f0`,
    );
    expect(first.id).toBe(reminderId(key));
    expect(first.id).toMatch(/^rem_[0-9a-f]{32}$/);
  });

  it("do not depend on now, and differ between calendars", () => {
    const early = compute("weekly-exdate-moved.ics", NOW, "Europe/Berlin");
    // Two days later the window also holds 10 Apr; the three reminders both hold keep their ids.
    const later = compute("weekly-exdate-moved.ics", "2025-03-12T00:00:00Z", "Europe/Berlin");
    expect(later.reminders.slice(0, 3).map((r) => r.id)).toEqual(early.reminders.map((r) => r.id));
    expect(later.reminders.map((r) => r.source.recurrenceId).at(-1)).toBe("20250410T120000Z");
    const other = computeReminders(
      {
        calendarUrl: "https://dav.example.com/dav/cal/alice@example.com/work/",
        href: "x.ics",
        data: fixture("weekly-exdate-moved.ics"),
      },
      { userId: USER, now: new Date(NOW), userTimeZone: "Europe/Berlin" },
    );
    expect(other.reminders.map((r) => r.fireAt.toISOString())).toEqual(
      early.reminders.map((r) => r.fireAt.toISOString()),
    );
    for (const r of other.reminders) expect(early.reminders.map((e) => e.id)).not.toContain(r.id);
  });
});

describe("diffReminders", () => {
  // The same series after the user restored 20 Mar (EXDATE gone) and moved 3 Apr from 14:00 to 15:00.
  const href = "A1B2C3D4-E5F6-4789-ABCD-EF0123456789.ics";
  const before = compute("weekly-exdate-moved.ics", NOW, "Europe/Berlin", {}, href).reminders;
  const after = compute("weekly-exdate-moved-edited.ics", NOW, "Europe/Berlin", {}, href).reminders;

  it("reports the restored occurrence as added and the moved one as changed, under the same id", () => {
    const diff = diffReminders(before, after);
    // 20 Mar 14:00 CET = 13:00Z, -15 min.
    expect(diff.added.map((r) => r.fireAt.toISOString())).toEqual(["2025-03-20T12:45:00.000Z"]);
    // 3 Apr now 15:00 CEST = 13:00Z, -15 min (was 11:45Z).
    expect(diff.changed.map((r) => [r.source.recurrenceId, r.fireAt.toISOString()])).toEqual([
      ["20250403T120000Z", "2025-04-03T12:45:00.000Z"],
    ]);
    expect(diff.removed).toEqual([]);
    const moved = before.find((r) => r.source.recurrenceId === "20250403T120000Z")!;
    expect(diff.changed[0]!.id).toBe(moved.id);
  });

  it("reports everything as removed when the object is deleted, and nothing for no change", () => {
    expect(diffReminders(before, []).removed.map((r) => r.id)).toEqual(before.map((r) => r.id));
    const same = diffReminders(
      before,
      compute("weekly-exdate-moved.ics", NOW, "Europe/Berlin", {}, href).reminders,
    );
    expect(same).toEqual({ added: [], changed: [], removed: [] });
  });
});
