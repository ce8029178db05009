/**
 * Birthday reminders (optional feature): one Reminder per contact with a birthday, for its next
 * occurrence, at `atHour` o'clock in the user's time zone. Pure (the clock is an argument).
 *
 * - Id `birthday:<profile id>`: stable across syncs and years, so a sink upsert replaces last year's
 *   reminder, and the fired-marks (id + fireAt) keep each year's reminder exactly-once.
 * - "Next" is the first birthday whose day has not ended yet in the user's zone: on the day itself
 *   the reminder stays today's, even after `atHour` (a late start still delivers it, once).
 * - 29 February in a common year is celebrated on 28 February.
 * - `source` reuses the reminder's calendar-shaped source: `calendarUrl` holds the address book URL.
 */
import type { Reminder, UserProfile } from "../contract/sinks.js";
import { addDays, instantOf, isValidZone, type WallTime, wallAt } from "../dav/calendar/zone.js";
import { ConfigError } from "../errors/index.js";

export interface BirthdayReminderOptions {
  /** `"email:<monitored account>"`: whose reminders these are. */
  userId: string;
  /** The current instant. */
  now: Date;
  /** IANA zone of the user (EMAIL_TIMEZONE), e.g. `Europe/Berlin`. */
  userTimeZone: string;
  /** Hour of the day (0-23, user's zone) at which the reminder fires. Default 9. */
  atHour?: number;
}

const isLeap = (year: number): boolean => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** `YYYY-MM-DD` or `--MM-DD` to its parts; undefined for anything else. */
function birthdayParts(birthday: string): { year?: number; month: number; day: number } | undefined {
  const m = /^(?:(\d{4})|--)-?(\d{2})-(\d{2})$/.exec(birthday.trim());
  if (!m) return undefined;
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  return m[1] === undefined ? { month, day } : { year: Number(m[1]), month, day };
}

/** The birthday as celebrated in `year` (29 February -> 28 February in common years). */
function celebrated(year: number, month: number, day: number): WallTime {
  const d = month === 2 && day === 29 && !isLeap(year) ? 28 : day;
  return { year, month, day: d, hour: 0, minute: 0, second: 0 };
}

export function birthdayReminders(profiles: UserProfile[], options: BirthdayReminderOptions): Reminder[] {
  const zone = options.userTimeZone;
  if (!isValidZone(zone)) {
    throw new ConfigError(`unknown time zone ${JSON.stringify(zone)}`, [
      { path: "timezone", message: "an IANA time zone name such as Europe/Berlin" },
    ]);
  }
  const atHour = options.atHour ?? 9;
  if (!Number.isInteger(atHour) || atHour < 0 || atHour > 23) {
    throw new ConfigError(`birthday reminder hour must be an integer 0-23, got ${atHour}`, [
      { path: "atHour", message: "an integer from 0 to 23" },
    ]);
  }
  const now = options.now.getTime();
  const today = wallAt(now, zone);
  const reminders: Reminder[] = [];
  for (const profile of profiles) {
    if (!profile.birthday) continue;
    const parts = birthdayParts(profile.birthday);
    if (!parts) continue;
    let day = celebrated(today.year, parts.month, parts.day);
    // Passed this year when its day ended before now: take next year's.
    if (instantOf(addDays(day, 1), zone) <= now) day = celebrated(today.year + 1, parts.month, parts.day);
    const start = instantOf(day, zone);
    const age = parts.year !== undefined && parts.year < day.year ? day.year - parts.year : undefined;
    reminders.push({
      id: `birthday:${profile.id}`,
      userId: options.userId,
      title:
        age === undefined ? `Birthday: ${profile.displayName}` : `Birthday: ${profile.displayName} (${age})`,
      description:
        parts.year === undefined
          ? `${profile.displayName} has a birthday on ${profile.birthday.slice(2)} (MM-DD).`
          : `${profile.displayName} was born on ${profile.birthday}.`,
      fireAt: new Date(instantOf({ ...day, hour: atHour }, zone)),
      eventStart: new Date(start),
      eventEnd: new Date(instantOf(addDays(day, 1), zone)),
      allDay: true,
      source: {
        calendarUrl: profile.source.addressBookUrl,
        href: profile.source.href,
        uid: profile.source.uid,
      },
    });
  }
  return reminders;
}
