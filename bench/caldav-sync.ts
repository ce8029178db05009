/**
 * CalDAV sync cost: one changed event in calendars of 1,000 and 5,000 events, picked up
 *   - incrementally: sync-collection with the stored token, then a multiget of the one change;
 *   - by the fallback for servers without sync-collection: PROPFIND Depth 1 etag listing + multiget;
 *   - by a full fetch: a fresh engine with no state (initial sync-collection + multiget of everything),
 * all in the same run against the same calendar. Prints requests and time per mode (median of
 * --repeat changes) and the ratio full / incremental.
 *
 *   node --import tsx bench/caldav-sync.ts [--server radicale|xandikos] [--sizes 1000,5000]
 *                                         [--concurrency 4] [--repeat 5] [--user mallory] [--keep]
 *
 * Needs the local stack (sudo bash test/stack/up.sh) or STACK=external with the STACK_* variables.
 * Filling is the slow part: both servers' PUT cost grows with the collection (Radicale 3.1 ~20 ms per
 * PUT at 200 events, ~100 ms at 1,000; Xandikos 0.2 commits to git and is several times slower), so
 * 6,000 events take about 20 minutes on Radicale, the default. Radicale also checks a bcrypt password
 * on every request, which is what a request costs there and why request counts dominate its times.
 * The calendars go to a stack user no test syncs (mallory, on Radicale) and are deleted at the end.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { buildEventIcs } from "../src/dav/calendar/event-ics.js";
import { type DavClient, createDavClient } from "../src/dav/client.js";
import { discoverAccount } from "../src/dav/discovery.js";
import { SyncEngine } from "../src/dav/sync-engine.js";
import { putObject, putObjectAt } from "../src/dav/write.js";
import { openSqliteStore } from "../src/store/index.js";
import { loadStackEnv } from "../test/support/stack.js";

const { values } = parseArgs({
  options: {
    server: { type: "string", default: "radicale" },
    sizes: { type: "string", default: "1000,5000" },
    concurrency: { type: "string", default: "4" },
    repeat: { type: "string", default: "5" },
    user: { type: "string", default: "mallory" },
    keep: { type: "boolean", default: false },
  },
});
const sizes = values.sizes.split(",").map(Number);
const concurrency = Number(values.concurrency);
const repeat = Number(values.repeat);
const env = loadStackEnv();
const radicale = values.server === "radicale";
const user = env.users[values.user as keyof typeof env.users];
if (!user) throw new Error(`no stack user ${values.user}`);
const client = createDavClient({
  baseUrl: radicale ? env.radicaleUrl : env.xandikosUrl,
  ...(radicale ? { username: user.address, password: user.password } : {}),
  stage: "caldav",
  timeoutMs: 120_000,
});

const ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC"];

/** The i-th bench event: spread over a year, varied zones, a third all-day, half with an alarm. */
function eventData(i: number, uid: string, title = `Bench event ${i}`): string {
  const day = new Date(Date.UTC(2025, 0, 1 + (i % 365)));
  const date = day.toISOString().slice(0, 10);
  const hour = String(8 + (i % 10)).padStart(2, "0");
  const allDay = i % 3 === 0;
  return buildEventIcs(
    {
      title,
      start: allDay ? date : `${date}T${hour}:00`,
      end: allDay ? date : `${date}T${hour}:45`,
      timeZone: ZONES[i % ZONES.length]!,
      allDay,
      ...(i % 2 === 0 ? { alarmMinutesBefore: 15 } : {}),
      description: `Generated for bench/caldav-sync.ts (#${i}).`,
      location: i % 4 === 0 ? "Room 2.14" : undefined,
    },
    { uid, now: new Date("2025-01-01T00:00:00Z") },
  );
}

async function makeCalendar(c: DavClient, name: string): Promise<string> {
  const { homeUrls } = await discoverAccount(c, "calendar");
  const url = new URL(`${name}/`, homeUrls[0]!).toString();
  const body =
    '<?xml version="1.0" encoding="utf-8"?><c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">' +
    `<d:set><d:prop><d:displayname>${name}</d:displayname></d:prop></d:set></c:mkcalendar>`;
  const res = await c.http.send({ method: "MKCALENDAR", url, body });
  if (res.status !== 201) throw new Error(`MKCALENDAR ${url}: ${res.status}`);
  return url;
}

/** PUTs `count` events with `concurrency` in flight; returns name -> etag. */
async function fill(calendarUrl: string, count: number): Promise<Map<string, string>> {
  const etags = new Map<string, string>();
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const uid = randomUUID();
      const r = await putObject(client, calendarUrl, `${uid}.ics`, eventData(i, uid), { ifNoneMatch: true });
      etags.set(`${uid}.ics`, r.etag ?? "");
      if (etags.size % 500 === 0) {
        const s = ((performance.now() - started) / 1000).toFixed(0);
        process.stderr.write(`  filled ${etags.size}/${count} (${s} s)\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  process.stderr.write(`  filled ${count} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return etags;
}

interface Sample {
  ms: number;
  requests: number;
}

function median(samples: Sample[]): Sample {
  const sorted = [...samples].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function timed(fn: () => Promise<{ requests: number }>): Promise<Sample> {
  const t = performance.now();
  const { requests } = await fn();
  return { ms: performance.now() - t, requests };
}

async function measure(size: number): Promise<Record<string, Sample>> {
  const calendarUrl = await makeCalendar(client, `bench-${size}-${randomUUID().slice(0, 6)}`);
  process.stderr.write(`${values.server}: ${size} events into ${calendarUrl}\n`);
  try {
    const etags = await fill(calendarUrl, size);
    const store = openSqliteStore({ path: ":memory:" });
    const tx = <T>(fn: () => T) => store.transaction(fn);
    const engine = new SyncEngine({
      client,
      repo: store.dav,
      account: "bench",
      kind: "calendar",
      transaction: tx,
    });
    const fallbackStore = openSqliteStore({ path: ":memory:" });
    const fallback = new SyncEngine({ client, repo: fallbackStore.dav, account: "bench", kind: "calendar" });
    const noSync = { url: calendarUrl, kind: "calendar" as const, supportsSync: false };
    const first = await timed(() => engine.sync(calendarUrl));
    await fallback.sync(noSync);
    const names = [...etags.keys()];
    const incremental: Sample[] = [];
    const etagListing: Sample[] = [];
    const full: Sample[] = [];
    for (let r = 0; r < repeat; r++) {
      // One change by "another client": a title edit on a random event.
      const name = names[Math.floor(Math.random() * names.length)]!;
      const uid = name.replace(/\.ics$/, "");
      const i = names.indexOf(name);
      const written = await putObjectAt(
        client,
        `${calendarUrl}${name}`,
        eventData(i, uid, `Bench event ${i} (edit ${r})`),
        {
          ifMatch: etags.get(name)!,
        },
      );
      etags.set(name, written.etag ?? "");
      const inc = await timed(() => engine.sync(calendarUrl));
      const incDiff = engine.objects(calendarUrl).length;
      if (incDiff !== size) throw new Error(`incremental sync holds ${incDiff} objects, expected ${size}`);
      incremental.push(inc);
      etagListing.push(await timed(() => fallback.sync(noSync)));
      // A full fetch: what a client without any state pays.
      const freshStore = openSqliteStore({ path: ":memory:" });
      const fresh = new SyncEngine({ client, repo: freshStore.dav, account: "bench", kind: "calendar" });
      full.push(
        await timed(async () => {
          const d = await fresh.sync(calendarUrl);
          if (d.added.length !== size)
            throw new Error(`full fetch got ${d.added.length} objects, expected ${size}`);
          return d;
        }),
      );
      freshStore.close();
    }
    store.close();
    fallbackStore.close();
    return {
      initial: first,
      incremental: median(incremental),
      etagListing: median(etagListing),
      full: median(full),
    };
  } finally {
    if (!values.keep) await client.http.send({ method: "DELETE", url: calendarUrl });
  }
}

const rows: string[] = [];
for (const size of sizes) {
  const m = await measure(size);
  const inc = m.incremental!;
  const row = (label: string, s: Sample) =>
    `| ${String(size).padStart(6)} | ${label.padEnd(36)} | ${String(s.requests).padStart(8)} | ${s.ms.toFixed(1).padStart(9)} | ${(s.ms / inc.ms).toFixed(1).padStart(7)}x |`;
  rows.push(row("one change, sync-collection + token", inc));
  rows.push(row("one change, etag listing (fallback)", m.etagListing!));
  rows.push(row("full fetch (no state)", m.full!));
}
console.log(
  `\nCalDAV sync bench on ${values.server} (median of ${repeat} changes; ratio = time / incremental time)\n`,
);
console.log("| events | mode                                 | requests |   time ms |   ratio |");
console.log("|-------:|:-------------------------------------|---------:|----------:|--------:|");
for (const r of rows) console.log(r);
