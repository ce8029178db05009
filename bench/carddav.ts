/**
 * CardDAV to profiles: one changed contact in an address book of 2,000 cards, picked up
 *   - incrementally: sync-collection with the stored token, a multiget of the one change, then the
 *     profile step (parse, map, diff against the sink, upsert one profile);
 *   - by a full fetch: a fresh engine and a fresh sink (initial sync-collection, multiget of every
 *     card, parse and map all of them, upsert all),
 * in the same run against the same address book. Prints requests, sync time, profile-step time and
 * the ratio full / incremental (median of --repeat changes). The sink is the embedded SQLite one.
 *
 *   node --import tsx bench/carddav.ts [--server xandikos|radicale] [--size 2000] [--concurrency 8]
 *                                      [--repeat 5] [--keep]
 *
 * Needs the local stack (sudo bash test/stack/up.sh) or STACK=external with the STACK_* variables.
 * Xandikos is the default: Radicale checks a bcrypt password on every request, which makes filling
 * 2,000 cards slow without telling us anything about the sync or the profile step.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { createDavClient } from "../src/dav/client.js";
import { type ContactInput, createContact, updateContact } from "../src/dav/contacts/vcard/index.js";
import { discoverAccount } from "../src/dav/discovery.js";
import { SyncEngine } from "../src/dav/sync-engine.js";
import { applyContactChanges } from "../src/profiles/index.js";
import { openSqliteStore } from "../src/store/index.js";
import { loadStackEnv } from "../test/support/stack.js";

const { values } = parseArgs({
  options: {
    server: { type: "string", default: "xandikos" },
    size: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "8" },
    repeat: { type: "string", default: "5" },
    keep: { type: "boolean", default: false },
  },
});
const size = Number(values.size);
const concurrency = Number(values.concurrency);
const repeat = Number(values.repeat);
const env = loadStackEnv();
const radicale = values.server === "radicale";
const client = createDavClient({
  baseUrl: radicale ? env.radicaleUrl : env.xandikosUrl,
  ...(radicale ? { username: env.users.alice.address, password: env.users.alice.password } : {}),
  stage: "carddav",
  timeoutMs: 120_000,
});

const GIVEN = ["Anna", "Jürgen", "Olga", "Taro", "Priya", "Łukasz", "Sophie", "Matti", "Amelia", "Jean-Luc"];
const FAMILY = [
  "Müller",
  "Иванова",
  "山田",
  "Raman",
  "Wiśniewski",
  "Lefèvre",
  "Virtanen",
  "Okafor",
  "Dupont",
  "Doe",
];
const ORGS = ["Beispiel GmbH", "Example Labs", "ООО «Пример»", "株式会社サンプル", undefined];

/** The i-th bench contact: names in several scripts, one to three addresses, phones, some notes. */
function contactData(i: number, title = `Role ${i % 37}`): Omit<ContactInput, "uid"> {
  const given = GIVEN[i % GIVEN.length]!;
  const family = FAMILY[(i * 7) % FAMILY.length]!;
  const emails = Array.from({ length: 1 + (i % 3) }, (_, k) => ({
    address: `contact${i}.${k}@example${k}.test`,
    type: ["work", "home", "Uni"][k]!,
    preferred: k === 0,
  }));
  const org = ORGS[i % ORGS.length];
  return {
    displayName: `${given} ${family}`,
    givenName: given,
    familyName: family,
    emails,
    phones: [
      { number: `+49 30 ${String(1_000_000 + i)}`, type: "work" },
      ...(i % 2 ? [{ number: `+49 171 ${i}`, type: "cell" }] : []),
    ],
    ...(org ? { organization: org } : {}),
    title,
    ...(i % 4 === 0 ? { birthday: `19${60 + (i % 40)}-0${1 + (i % 9)}-1${i % 10}` } : {}),
    ...(i % 5 === 0
      ? { notes: `Generated for bench/carddav.ts (#${i}); met at the ${i % 12}th meetup, prefers email.` }
      : {}),
    categories: i % 3 === 0 ? ["Kunden", "Bench"] : ["Bench"],
  };
}

async function makeAddressBook(name: string): Promise<string> {
  const { homeUrls } = await discoverAccount(client, "addressbook");
  const url = new URL(`${name}/`, homeUrls[0]!).toString();
  const body =
    '<?xml version="1.0" encoding="utf-8"?><d:mkcol xmlns:d="DAV:" xmlns:card="urn:ietf:params:xml:ns:carddav">' +
    "<d:set><d:prop><d:resourcetype><d:collection/><card:addressbook/></d:resourcetype>" +
    `<d:displayname>${name}</d:displayname></d:prop></d:set></d:mkcol>`;
  const res = await client.http.send({ method: "MKCOL", url, body });
  if (res.status !== 201) throw new Error(`MKCOL ${url}: ${res.status}`);
  return url;
}

interface Written {
  i: number;
  uid: string;
  href: string;
  etag: string;
}

/** Creates `count` contacts with `concurrency` requests in flight. */
async function fill(bookUrl: string, count: number): Promise<Written[]> {
  const written: Written[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const uid = `urn:uuid:${randomUUID()}`;
      const r = await createContact(
        client,
        bookUrl,
        { ...contactData(i), uid },
        { now: new Date("2025-01-01T00:00:00Z") },
      );
      written.push({ i, uid, href: r.href, etag: r.etag ?? "" });
      if (written.length % 500 === 0) process.stderr.write(`  filled ${written.length}/${count}\n`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  process.stderr.write(`  filled ${count} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return written;
}

interface Sample {
  requests: number;
  syncMs: number;
  profileMs: number;
}

const total = (s: Sample): number => s.syncMs + s.profileMs;

function median(samples: Sample[]): Sample {
  const sorted = [...samples].sort((a, b) => total(a) - total(b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** One sync of `bookUrl` into a profile sink, timed in two parts. */
async function syncIntoProfiles(
  engine: SyncEngine,
  store: ReturnType<typeof openSqliteStore>,
  bookUrl: string,
) {
  let t = performance.now();
  const diff = await engine.sync(bookUrl);
  const syncMs = performance.now() - t;
  t = performance.now();
  const result = await applyContactChanges(store.profiles, diff);
  const profileMs = performance.now() - t;
  return { diff, result, sample: { requests: diff.requests, syncMs, profileMs } };
}

const bookUrl = await makeAddressBook(`bench-cards-${randomUUID().slice(0, 6)}`);
process.stderr.write(`${values.server}: ${size} cards into ${bookUrl}\n`);
try {
  const cards = await fill(bookUrl, size);
  const store = openSqliteStore({ path: ":memory:" });
  const tx = <T>(fn: () => T) => store.transaction(fn);
  const engine = new SyncEngine({
    client,
    repo: store.dav,
    account: "bench",
    kind: "addressbook",
    transaction: tx,
  });
  const initial = await syncIntoProfiles(engine, store, bookUrl);
  if (initial.result.diff.added.length !== size)
    throw new Error(`initial sync made ${initial.result.diff.added.length} profiles`);

  const incremental: Sample[] = [];
  const full: Sample[] = [];
  for (let r = 0; r < repeat; r++) {
    // One change by "another client": a new title on a random contact, written with If-Match.
    const card = cards[Math.floor(Math.random() * cards.length)]!;
    const existing = store.dav.getObject(bookUrl, card.href)?.data;
    const updated = await updateContact(
      client,
      { addressBookUrl: bookUrl, href: card.href, etag: card.etag, ...(existing ? { existing } : {}) },
      { ...contactData(card.i, `Promoted ${r}`), uid: card.uid },
    );
    card.etag = updated.etag ?? "";
    const inc = await syncIntoProfiles(engine, store, bookUrl);
    if (inc.result.diff.changed.length !== 1 || inc.result.diff.changed[0]?.title !== `Promoted ${r}`) {
      throw new Error(
        `incremental sync did not bring exactly the one change: ${JSON.stringify(inc.result.diff.changed.map((p) => p.title))}`,
      );
    }
    incremental.push(inc.sample);
    // A full fetch: what a client without any state pays, profile step included.
    const fresh = openSqliteStore({ path: ":memory:" });
    const freshEngine = new SyncEngine({
      client,
      repo: fresh.dav,
      account: "bench",
      kind: "addressbook",
      transaction: <T>(fn: () => T) => fresh.transaction(fn),
    });
    const all = await syncIntoProfiles(freshEngine, fresh, bookUrl);
    if (all.result.diff.added.length !== size)
      throw new Error(`full fetch made ${all.result.diff.added.length} profiles`);
    full.push(all.sample);
    fresh.close();
  }
  store.close();

  const inc = median(incremental);
  const row = (label: string, s: Sample) =>
    `| ${label.padEnd(40)} | ${String(s.requests).padStart(8)} | ${s.syncMs.toFixed(1).padStart(8)} | ${s.profileMs.toFixed(1).padStart(10)} | ${(total(s) / total(inc)).toFixed(1).padStart(6)}x |`;
  console.log(
    `\nCardDAV -> profiles on ${values.server}, ${size} cards (median of ${repeat} changes; ratio = total / incremental total)\n`,
  );
  console.log("| mode                                     | requests |  sync ms | profile ms |  ratio |");
  console.log("|:-----------------------------------------|---------:|---------:|-----------:|-------:|");
  console.log(row("initial sync (first start)", initial.sample));
  console.log(row("one change, sync-collection + token", inc));
  console.log(row("full fetch (no state)", median(full)));
} finally {
  if (!values.keep) await client.http.send({ method: "DELETE", url: bookUrl });
}
