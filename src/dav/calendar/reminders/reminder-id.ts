/**
 * Stable reminder ids. The key material is, joined by U+001F (a separator no URL or UID contains):
 *
 *   calendarUrl, UID, recurrence id ("" for a non-recurring event or a series-level absolute alarm;
 *   otherwise the occurrence's original start as "20250310T080000Z", or "20250310" all-day),
 *   alarm index (the VALARM's position, or "default"), repeat index (0 for the first firing)
 *
 * hashed with SHA-256 and written as "rem_" + the first 32 hex digits (128 bits): fixed length for any
 * store, no URL or UID leaked into logs, and the same input always gives the same id. The fire instant
 * is not part of the id: an event moved to another time keeps its reminder ids, which then show up as
 * `changed` in a diff (and, fired marks being keyed by id and fire instant, fire again at the new time).
 */
import * as crypto from "node:crypto";

// crypto.hash (one-shot, about 3x faster) exists from Node 20.12; the package allows any Node 20.
const sha256Hex: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text).digest("hex");

export interface ReminderKey {
  calendarUrl: string;
  uid: string;
  recurrenceId?: string;
  alarm: string;
  repeat: number;
}

/** The key material before hashing (exported for tests and debugging). */
export function reminderKeyMaterial(key: ReminderKey): string {
  return [key.calendarUrl, key.uid, key.recurrenceId ?? "", key.alarm, String(key.repeat)].join("\u001f");
}

export function reminderId(key: ReminderKey): string {
  return "rem_" + sha256Hex(reminderKeyMaterial(key)).slice(0, 32);
}
