/** BDAY and REV values as producers write them, into one form each. Pure. */

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const validMonthDay = (month: number, day: number): boolean =>
  month >= 1 && month <= 12 && day >= 1 && day <= (DAYS_IN_MONTH[month - 1] ?? 0);

const pad2 = (n: number): string => String(n).padStart(2, "0");

/**
 * BDAY to `YYYY-MM-DD`, or `--MM-DD` when the year is unknown; undefined when it is not a day.
 * Accepted: `1985-04-15`, `19850415`, either with a time part (`1985-04-15T00:00:00Z`, whose date part
 * is taken as written), `--0415` / `--04-15` (RFC 6350 §4.3.1 truncated form), and Apple's year
 * placeholder: `BDAY;X-APPLE-OMIT-YEAR=1604:1604-04-15` means "15 April, year not given".
 */
export function normalizeBirthday(raw: string, omitYear?: string): string | undefined {
  const value = raw.trim();
  const truncated = /^--(\d{2})-?(\d{2})$/.exec(value);
  if (truncated) {
    const month = Number(truncated[1]);
    const day = Number(truncated[2]);
    return validMonthDay(month, day) ? `--${pad2(month)}-${pad2(day)}` : undefined;
  }
  const full = /^(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?$/.exec(value);
  if (!full) return undefined;
  const [, yearText = "", monthText, dayText] = full;
  const month = Number(monthText);
  const day = Number(dayText);
  if (!validMonthDay(month, day)) return undefined;
  const year = Number(yearText);
  // 29 February exists only in leap years, unless the year is a placeholder.
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  if (omitYear !== undefined && omitYear.trim() === yearText) return `--${pad2(month)}-${pad2(day)}`;
  if (month === 2 && day === 29 && !leap) return undefined;
  return `${yearText}-${pad2(month)}-${pad2(day)}`;
}

/**
 * REV to an ISO 8601 UTC instant (`2024-03-01T09:30:00.000Z`); undefined when unreadable.
 * Accepted: extended and basic forms (`2024-03-01T09:30:00Z`, `20240301T093000Z`), fractional
 * seconds, numeric offsets (`+01:00`, `+0100`), a date alone (midnight UTC). A time without a zone
 * is read as UTC: REV is meant to be compared, and no producer we know writes floating REVs.
 */
export function normalizeTimestamp(raw: string): string | undefined {
  const value = raw.trim();
  const m =
    /^(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i.exec(
      value,
    );
  if (!m) return undefined;
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone = "Z"] = m;
  const ms = Number(`0.${frac || "0"}`) * 1000;
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== "Z") {
    const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
    if (!zm) return undefined;
    offsetMinutes = (zm[1] === "-" ? -1 : 1) * (Number(zm[2]) * 60 + Number(zm[3] ?? "0"));
  }
  const utc = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(s),
    Math.round(ms),
  );
  // Date.UTC rolls 2024-02-31 into March and 25:00 into the next day; a value that does not come
  // back as written is not a timestamp.
  const check = new Date(utc);
  if (
    Number.isNaN(utc) ||
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi)
  ) {
    return undefined;
  }
  return new Date(utc - offsetMinutes * 60_000).toISOString();
}
