#!/usr/bin/env node
/**
 * `npm run bench`: runs every bench/*.ts (node --import tsx, one after the other, against the stack
 * that test/stack/up.sh runs), collects the table each prints, and prints one combined table: every
 * figure beside the baseline the same script measured in the same run, and their ratio.
 *
 *   node scripts/bench.mjs [--quick] [--only inbound,outbound] [--json out.json]
 *
 * --quick passes smaller sizes to each script (minutes instead of the better part of an hour; the
 * CalDAV fill dominates the full run). Each script's own output goes to stderr as it runs; a script
 * that fails or prints nothing this runner understands is listed with its last lines.
 */
import { spawn } from "node:child_process";
import { readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, only: { type: "string" }, json: { type: "string" } },
});

/** Smaller arguments per script for --quick (each script documents its flags). */
const QUICK = {
  inbound: ["--latency", "10", "--backlog", "200", "--backlog-warmup", "100", "--attachment-mb", "10"],
  "inbound-stages": ["--messages", "300", "--rounds", "3"],
  outbound: ["--count", "40"],
  "caldav-sync": ["--sizes", "200", "--repeat", "3"],
  carddav: ["--size", "300", "--repeat", "3"],
  reminders: ["--runs", "5"],
  roundtrip: ["--count", "10"],
  "idle-footprint": ["--idle-seconds", "20", "--settle-seconds", "10"],
};

const cells = (line) =>
  line
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((c) => c.trim());
const isRule = (line) => /^\|?\s*:?-{3,}/.test(line.trim());
const num = (s) => Number(String(s).replace(/[^\d.]/g, ""));

/** Markdown tables in the output: [{ header, rows }]. */
function tables(out) {
  const found = [];
  const lines = out.split("\n");
  for (let i = 0; i < lines.length - 1; i++) {
    if (!lines[i].trim().startsWith("|") || !isRule(lines[i + 1])) continue;
    const t = { header: cells(lines[i]), rows: [] };
    for (i += 2; i < lines.length && lines[i].trim().startsWith("|"); i++) t.rows.push(cells(lines[i]));
    found.push(t);
  }
  return found;
}

/** Rows of the combined table from one script's output: { measure, value, baseline, ratio }. */
const PARSERS = {
  // | events | mode | requests | time ms | ratio |: incremental beside the full fetch of the same size.
  "caldav-sync": (out) => {
    const rows = [];
    for (const t of tables(out)) {
      const bySize = new Map();
      for (const r of t.rows) bySize.set(r[0], [...(bySize.get(r[0]) ?? []), r]);
      for (const [size, rs] of bySize) {
        const full = rs.find((r) => /full fetch/.test(r[1]));
        for (const r of rs.filter((x) => x !== full))
          rows.push({
            measure: `${size} events: ${r[1]}`,
            value: `${r[3]} ms, ${r[2]} req`,
            baseline: full ? `${full[3]} ms, ${full[2]} req (full fetch)` : "",
            ratio: full ? `${(num(full[3]) / num(r[3])).toFixed(1)}x (full / this)` : "",
          });
      }
    }
    return rows;
  },
  // | mode | requests | sync ms | profile ms | ratio |: the incremental change beside the full fetch.
  carddav: (out) => {
    const t = tables(out)[0];
    if (!t) return [];
    const total = (r) => num(r[2]) + num(r[3]);
    const full = t.rows.find((r) => /full fetch/.test(r[0]));
    return t.rows
      .filter((r) => r !== full)
      .map((r) => ({
        measure: r[0],
        value: `${total(r).toFixed(1)} ms, ${r[1]} req`,
        baseline: full ? `${total(full).toFixed(1)} ms, ${full[1]} req (full fetch)` : "",
        ratio: full ? `${(total(full) / total(r)).toFixed(1)}x (full / this)` : "",
      }));
  },
  // Two aligned rows (per-message connections = baseline, pool = the channel's way) and a ratio line.
  outbound: (out) => {
    const row = (re) => out.split("\n").find((l) => re.test(l));
    const base = row(/^one connection per message/);
    const pool = row(/^pool of/);
    if (!base || !pool) return [];
    const rate = (l) =>
      l
        .trim()
        .split(/\s{2,}/)
        .at(-1);
    return [
      {
        measure: `${pool.trim().split(/\s{2,}/)[1]} replies sent`,
        value: `${rate(pool)} msg/s (pooled)`,
        baseline: `${rate(base)} msg/s (one connection per message)`,
        ratio: `${(num(rate(pool)) / num(rate(base))).toFixed(2)}x (pooled / per message)`,
      },
    ];
  },
  // "baseline (ical.js parse): ... warm median X ms" and "computeReminders: ... warm median Y ms".
  reminders: (out) => {
    const median = (re) => {
      const l = out.split("\n").find((x) => re.test(x));
      return l ? Number(/warm median ([\d.]+) ms/.exec(l)?.[1]) : Number.NaN;
    };
    const base = median(/baseline \(ical\.js parse\)/);
    const compute = median(/computeReminders:/);
    const head = out.split("\n").find((l) => /^reminder computation:/.test(l)) ?? "reminder computation";
    if (Number.isNaN(base) || Number.isNaN(compute)) return [];
    return [
      {
        measure: head.replace(/^reminder computation:\s*/, ""),
        value: `${compute.toFixed(1)} ms (warm median)`,
        baseline: `${base.toFixed(1)} ms (ical.js parse only)`,
        ratio: `${(compute / base).toFixed(2)}x (compute / parse)`,
      },
    ];
  },
};

/** Any other script: its markdown tables read as | measure | value | baseline | ratio |. */
function generic(out) {
  return tables(out).flatMap((t) =>
    t.rows
      .filter((r) => r.length >= 4)
      .map((r) => ({ measure: r[0], value: r[1], baseline: r[2], ratio: r[3] })),
  );
}

function run(script, args) {
  return new Promise((resolve) => {
    const started = Date.now();
    const p = spawn(process.execPath, ["--import", "tsx", `bench/${script}.ts`, ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (d) => {
      out += d;
      process.stderr.write(d);
    });
    p.stderr.on("data", (d) => process.stderr.write(d));
    p.on("close", (code) => resolve({ code, out, seconds: (Date.now() - started) / 1000 }));
  });
}

const scripts = readdirSync(new URL("../bench/", import.meta.url))
  .filter((f) => f.endsWith(".ts") && !f.startsWith(".")) // hidden files are someone's experiments
  .map((f) => f.replace(/\.ts$/, ""))
  .filter((s) => !values.only || values.only.split(",").includes(s))
  .sort();
const machine = `${os.cpus()[0]?.model ?? "cpu"} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
const results = [];
const problems = [];
for (const script of scripts) {
  process.stderr.write(`\n== bench/${script}.ts ${values.quick ? "(quick)" : ""}\n`);
  const r = await run(script, values.quick ? (QUICK[script] ?? []) : []);
  const rows = r.code === 0 ? (PARSERS[script] ?? generic)(r.out) : [];
  if (rows.length === 0)
    problems.push({ script, code: r.code, tail: r.out.trim().split("\n").slice(-8).join("\n") });
  for (const row of rows) results.push({ bench: script, seconds: r.seconds, ...row });
}

const header = ["bench", "measure", "email-channel", "baseline (same run)", "ratio"];
console.log(
  `\n## Benchmarks ${values.quick ? "(quick sizes)" : ""}\n\nMachine: ${machine}. ${new Date().toISOString()}\n`,
);
console.log(`| ${header.join(" | ")} |\n|${header.map(() => "---").join("|")}|`);
for (const r of results) console.log(`| ${[r.bench, r.measure, r.value, r.baseline, r.ratio].join(" | ")} |`);
for (const p of problems)
  console.log(
    `\nbench/${p.script}.ts: ${p.code === 0 ? "no table this runner understands" : `failed (exit ${p.code})`}:\n${p.tail}`,
  );
if (values.json)
  writeFileSync(values.json, JSON.stringify({ machine, quick: values.quick, results, problems }, null, 2));
process.exit(problems.some((p) => p.code !== 0) ? 1 : 0);
