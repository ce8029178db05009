/**
 * Reminder computation cost: 1,000 generated calendar objects (200 recurring with RRULE and EXDATE, the
 * rest one-off), in mixed zones (embedded VTIMEZONE, bare IANA TZID, Outlook's Windows name, UTC,
 * floating, all-day) with mixed alarms (before start, RELATED=END, REPEAT/DURATION, none), computed over
 * a 90-day horizon. Beside it, in the same run, the baseline: the same objects only parsed by ical.js
 * (ICAL.parse + Component), no expansion. Target: <= 200 ms for the computation.
 *
 *   npx tsx bench/reminders.ts [--events 1000] [--recurring 200] [--horizon 90] [--runs 7]
 *
 * Prints the first (cold: zone caches empty) run and the median and best of the warm runs.
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import ICAL from "ical.js";
import { computeReminders } from "../src/dav/calendar/reminders/index.js";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000" },
    recurring: { type: "string", default: "200" },
    horizon: { type: "string", default: "90" },
    runs: { type: "string", default: "7" },
  },
});
const total = Number(values.events);
const recurringCount = Number(values.recurring);
const horizonDays = Number(values.horizon);
const runs = Math.max(2, Number(values.runs));

const NOW = new Date("2025-03-01T06:00:00Z");
const CALENDAR = "https://dav.example.com/dav/cal/alice@example.com/personal/";

const BERLIN_VTIMEZONE = [
  "BEGIN:VTIMEZONE",
  "TZID:Europe/Berlin",
  "BEGIN:DAYLIGHT",
  "TZOFFSETFROM:+0100",
  "TZOFFSETTO:+0200",
  "TZNAME:CEST",
  "DTSTART:19700329T020000",
  "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
  "END:DAYLIGHT",
  "BEGIN:STANDARD",
  "TZOFFSETFROM:+0200",
  "TZOFFSETTO:+0100",
  "TZNAME:CET",
  "DTSTART:19701025T030000",
  "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU",
  "END:STANDARD",
  "END:VTIMEZONE",
];

/** Deterministic pseudo-random numbers (mulberry32), so every run measures the same calendar. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number) => String(n).padStart(2, "0");
function stamp(d: Date, utc: boolean): string {
  const s = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00`;
  return utc ? `${s}Z` : s;
}
const dateOnly = (d: Date) => stamp(d, false).slice(0, 8);

function generate(index: number, random: () => number): string {
  const recurring = index < recurringCount;
  const kind = index % 6; // 0 embedded VTIMEZONE, 1 bare IANA, 2 Windows name, 3 UTC, 4 floating, 5 all-day
  // Recurring series began up to a year ago; one-offs fall within the next 120 days.
  const offsetDays = recurring ? -Math.floor(random() * 365) : Math.floor(random() * 120) - 10;
  const start = new Date(NOW.getTime() + offsetDays * 86_400_000);
  start.setUTCHours(7 + Math.floor(random() * 11), [0, 15, 30, 45][Math.floor(random() * 4)]!, 0, 0);
  const end = new Date(start.getTime() + (30 + 30 * Math.floor(random() * 3)) * 60_000);
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//email-channel//bench//EN"];
  if (kind === 0) lines.push(...BERLIN_VTIMEZONE);
  lines.push(
    "BEGIN:VEVENT",
    `UID:bench-${index}@example.com`,
    "DTSTAMP:20250201T000000Z",
    `SUMMARY:Event ${index}`,
  );
  const tzid = kind === 0 ? "Europe/Berlin" : kind === 1 ? "America/New_York" : "W. Europe Standard Time";
  const at = (d: Date, name: string) => {
    if (kind === 5) return `${name};VALUE=DATE:${dateOnly(d)}`;
    if (kind === 3) return `${name}:${stamp(d, true)}`;
    if (kind === 4) return `${name}:${stamp(d, false)}`;
    return `${name};TZID=${tzid}:${stamp(d, false)}`;
  };
  lines.push(at(start, "DTSTART"));
  lines.push(
    kind === 5 ? `DTEND;VALUE=DATE:${dateOnly(new Date(start.getTime() + 86_400_000))}` : at(end, "DTEND"),
  );
  if (recurring) {
    const rule = [
      "FREQ=DAILY",
      "FREQ=WEEKLY",
      "FREQ=WEEKLY;BYDAY=MO,WE,FR",
      "FREQ=MONTHLY",
      "FREQ=WEEKLY;INTERVAL=2",
    ][index % 5]!;
    lines.push(`RRULE:${rule}`);
    // Two EXDATEs on occurrences inside the window (for daily rules; harmless misses for the others).
    for (const k of [3, 10]) {
      const ex = new Date(start.getTime() + (Math.ceil(-offsetDays) + k) * 86_400_000);
      lines.push(at(ex, "EXDATE"));
    }
  }
  const alarm = index % 4;
  if (alarm === 0) lines.push("BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM");
  if (alarm === 1) lines.push("BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;RELATED=END:-PT5M", "END:VALARM");
  if (alarm === 2) {
    lines.push("BEGIN:VALARM", "ACTION:AUDIO", "TRIGGER:-PT10M", "REPEAT:2", "DURATION:PT5M", "END:VALARM");
    lines.push("BEGIN:VALARM", "ACTION:EMAIL", "TRIGGER:-P1D", "END:VALARM");
  }
  lines.push("END:VEVENT", "END:VCALENDAR", "");
  return lines.join("\r\n");
}

const random = rng(20250301);
const objects = Array.from({ length: total }, (_, i) => ({
  calendarUrl: CALENDAR,
  href: `bench-${i}.ics`,
  data: generate(i, random),
}));

function baseline(): number {
  let components = 0;
  for (const o of objects) components += new ICAL.Component(ICAL.parse(o.data)).getAllSubcomponents().length;
  return components;
}

function compute(): { reminders: number; problems: number } {
  let reminders = 0;
  let problems = 0;
  for (const o of objects) {
    const result = computeReminders(o, {
      userId: "email:alice@example.com",
      now: NOW,
      horizonDays,
      userTimeZone: "Europe/Berlin",
    });
    reminders += result.reminders.length;
    problems += result.problems.length;
  }
  return { reminders, problems };
}

/** Wall time, and CPU time of this process (less sensitive to other load on a shared machine). */
function time<T>(fn: () => T): { ms: number; cpuMs: number; value: T } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, value };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(1)} ms`;

const coldCompute = time(compute);
const coldBaseline = time(baseline);
const warmCompute: { ms: number; cpuMs: number }[] = [];
const warmBaseline: { ms: number; cpuMs: number }[] = [];
for (let i = 1; i < runs; i++) {
  warmBaseline.push(time(baseline));
  warmCompute.push(time(compute));
}

const line = (cold: { ms: number; cpuMs: number }, warm: { ms: number; cpuMs: number }[]) =>
  `cold ${fmt(cold.ms)}, warm median ${fmt(median(warm.map((w) => w.ms)))} (cpu ${fmt(median(warm.map((w) => w.cpuMs)))}), best ${fmt(Math.min(...warm.map((w) => w.ms)))}`;
const computeMedian = median(warmCompute.map((w) => w.ms));

console.log(
  `reminder computation: ${total} objects (${recurringCount} recurring), ${horizonDays}-day horizon, ${runs} runs`,
);
console.log(
  `  reminders produced:         ${coldCompute.value.reminders} (problems: ${coldCompute.value.problems})`,
);
console.log(
  `  baseline (ical.js parse):   ${line(coldBaseline, warmBaseline)} (${coldBaseline.value} components)`,
);
console.log(`  computeReminders:           ${line(coldCompute, warmCompute)}`);
console.log(
  `  computation beyond parsing: ${fmt(computeMedian - median(warmBaseline.map((w) => w.ms)))} (warm medians)`,
);
console.log(
  `  target <= 200 ms:           ${computeMedian <= 200 ? "met" : "MISSED"} (warm median), ${coldCompute.ms <= 200 ? "met" : "missed"} cold`,
);
