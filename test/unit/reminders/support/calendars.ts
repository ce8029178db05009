/** Loads calendar fixtures and runs computeReminders on them with a fixed user and clock. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  type ComputeRemindersOptions,
  type ComputeRemindersResult,
  computeReminders,
} from "../../../../src/dav/calendar/reminders/index.js";

export const FIXTURES = fileURLToPath(new URL("../../../fixtures/calendars/", import.meta.url));
export const CALENDAR_URL = "https://dav.example.com/dav/cal/alice@example.com/personal/";
export const USER = "email:alice@example.com";

export function fixture(name: string): string {
  return readFileSync(FIXTURES + name, "utf8");
}

export function compute(
  name: string,
  now: string,
  userTimeZone: string,
  extra: Partial<ComputeRemindersOptions> = {},
  href = name,
): ComputeRemindersResult {
  return computeReminders(
    { calendarUrl: CALENDAR_URL, href, data: fixture(name) },
    { userId: USER, now: new Date(now), userTimeZone, ...extra },
  );
}

/** "<fire instant> <title>" per reminder, in the result's order (by fire instant). */
export function fires(result: ComputeRemindersResult): string[] {
  return result.reminders.map((r) => `${r.fireAt.toISOString()} ${r.title}`);
}
