/**
 * Rules ical.js would spin on. The iteration budget counts occurrences, but ical.js' RecurIterator
 * searches for the next match inside one `next()` call without any bound when the rule's filters cannot
 * (or can only very rarely) match; found by probing ical.js 2.2.1:
 *   - FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30 never matches: next() never returns (YEARLY returns March dates);
 *   - an ordinal BYDAY ("2MO") outside MONTHLY/YEARLY, which RFC 5545 §3.3.10 forbids, never matches;
 *   - FREQ=MINUTELY;BYMONTH=2 steps minute by minute to February (about half a second per call), and
 *     SECONDLY is sixty times worse.
 * Such a rule is refused: a problem is recorded and the rule contributes no occurrence (DTSTART itself
 * still counts, RFC 5545 §3.8.5.3).
 */
import type ICAL from "ical.js";

/** Longest month per month number (February with its leap day). */
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const DAY_LEVEL_PARTS = ["BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY"] as const;

/** Why ical.js must not iterate this rule, or undefined when it may. */
export function refuseRule(rule: ICAL.Recur): string | undefined {
  const parts = rule.parts as Record<string, unknown[] | undefined>;
  const months = numbers(parts.BYMONTH);
  const monthDays = numbers(parts.BYMONTHDAY);
  if (monthDays.length > 0) {
    const candidates = months.length > 0 ? months : [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    const possible = candidates.some((m) => {
      const length = MONTH_DAYS[m - 1] ?? 0;
      return monthDays.some((d) => Math.abs(d) <= length && d !== 0);
    });
    if (!possible) return `BYMONTHDAY=${monthDays.join(",")} never falls in BYMONTH=${months.join(",")}`;
  }
  const freq = rule.freq;
  const byDay = (parts.BYDAY ?? []).map(String);
  if (freq !== "MONTHLY" && freq !== "YEARLY" && byDay.some((d) => /^[+-]?\d/.test(d))) {
    return `an ordinal BYDAY (${byDay.join(",")}) is not allowed with FREQ=${freq}`;
  }
  const dayFilters = DAY_LEVEL_PARTS.filter((p) => (parts[p]?.length ?? 0) > 0);
  if ((freq === "SECONDLY" || freq === "MINUTELY") && dayFilters.length > 0) {
    return `FREQ=${freq} with ${dayFilters.join(",")} is not supported (ical.js steps through every ${freq === "SECONDLY" ? "second" : "minute"})`;
  }
  if (
    freq === "HOURLY" &&
    (dayFilters.length > 1 || dayFilters.includes("BYYEARDAY") || dayFilters.includes("BYWEEKNO"))
  ) {
    return `FREQ=HOURLY with ${dayFilters.join(",")} is not supported (ical.js steps through every hour)`;
  }
  return undefined;
}

function numbers(values: unknown[] | undefined): number[] {
  return (values ?? []).map(Number).filter((n) => Number.isFinite(n));
}
