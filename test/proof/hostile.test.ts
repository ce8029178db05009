/**
 * Hostile and malformed mail through the real stack: the generator's messages (at least 150, the
 * kept fixtures of test/fixtures/hostile/ among them) reach the assistant's INBOX (the MX port where
 * Postfix takes them, APPEND where it would refuse or rewrite them), and the channel runs as a child
 * process with an echo agent. Required: the process never dies, its peak RSS stays bounded, every
 * message ends handled or quarantined/ignored with a reason (none left `received`), no file lands
 * outside the state dir, and no reply carries a header smuggled in through the message.
 *
 * CI: the huge message is 30 MB; PROOF_FULL=1 makes it 100 MB.
 */
import type { ChildProcess } from "node:child_process";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/index.js";
import { stackChannelEnv } from "../support/channel.js";
import { exited, startChannelChild } from "../support/child.js";
import { generateHostile, type HostileMessage } from "../support/hostile-gen.js";
import { openMailbox, purgeMailbox, readMailbox } from "../support/mail.js";
import { deliverRaw, loadStackEnv } from "../support/stack.js";
import { InboxIndex, pick, seededRandom, sleep, waitFor } from "./helpers.js";

const stack = loadStackEnv();
const { assistant, alice, bob, mallory } = stack.users;
/**
 * Growth of the channel process's peak resident memory over its idle size, MB. The largest message it
 * downloads is 22 MB (a 16 MiB attachment) and it holds nothing whole, so 200 MB is generous; a
 * converter that buffered messages and decoded copies of them, or that expanded the 10,000-part bomb,
 * would cross it.
 */
const RSS_GROWTH_LIMIT_MB = 200;

let child: ChildProcess | undefined;
let index: InboxIndex | undefined;
beforeAll(async () => {
  for (const u of [assistant, alice, bob, mallory]) await purgeMailbox(u);
  await purgeMailbox(assistant, "Quarantine");
});
afterAll(async () => {
  child?.kill("SIGKILL");
  await index?.close();
});

const kb = (line: string | undefined) => Number(/(\d+)\s*kB/.exec(line ?? "")?.[1] ?? 0) / 1024;
function memory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8").split("\n");
  return {
    rss: kb(status.find((l) => l.startsWith("VmRSS:"))),
    peak: kb(status.find((l) => l.startsWith("VmHWM:"))),
  };
}

/** Every file and folder below `root` (not following links). */
function walk(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const p = join(root, entry.name);
    out.push(p);
    if (entry.isDirectory() && !entry.isSymbolicLink()) out.push(...walk(p));
  }
  return out;
}

/** Paths below `root` whose name contains `token`, skipping what cannot be read and `skip`. */
function findToken(root: string, token: string, skip: string[], depth = 6): string[] {
  if (depth < 0 || skip.some((s) => root === s)) return [];
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch {
    return [];
  }
  const found: string[] = [];
  for (const e of entries) {
    const p = join(root, e.name);
    if (e.name.includes(token)) found.push(p);
    if (e.isDirectory() && !e.isSymbolicLink() && e.name !== "node_modules" && e.name !== ".git")
      found.push(...findToken(p, token, skip, depth - 1));
  }
  return found;
}

describe("hostile and malformed mail", () => {
  it("survives every message, bounded, each handled or quarantined with a reason, nothing outside the state dir", async () => {
    const { random } = seededRandom("hostile");
    const token = `ecproof${Math.floor(random() * 1e9).toString(36)}`;
    const messages = generateHostile({
      to: assistant.address,
      senders: [alice.address, bob.address],
      token,
      hugeBytes: pick(100, 30) * 1024 * 1024,
      random,
    });
    expect(messages.length).toBeGreaterThanOrEqual(150);
    // Mail from MAILER-DAEMON in the ledger is the server's (see OWN_BOUNCE): none is generated.
    expect(messages.filter((m) => /^from:[^\r\n]*mailer-daemon/im.test(m.raw.toString("latin1")))).toEqual(
      [],
    );

    const root = mkdtempSync(join(tmpdir(), "ec-proof-hostile-"));
    const stateDir = join(root, "state");
    const childTmp = join(root, "tmp");
    mkdirSync(childTmp);
    child = await startChannelChild({
      ...stackChannelEnv(stack, {
        stateDir,
        env: {
          EMAIL_ALLOWED_SENDERS: `*@${stack.domain}`,
          EMAIL_RATE_LIMITS_PER_SENDER: "100000/600",
          EMAIL_RATE_LIMITS_PER_CONVERSATION: "100000/600",
        },
      }),
      EC_AGENT_LOG: join(root, "agent.jsonl"),
      TMPDIR: childTmp,
    });
    const pid = child.pid!;
    const idle = memory(pid);
    let maxRss = idle.rss;
    const sampler = setInterval(() => {
      try {
        maxRss = Math.max(maxRss, memory(pid).rss);
      } catch {
        // the process is gone; the crash check below says so
      }
    }, 200);

    // Deliver: the MX port for what Postfix takes, APPEND for the rest (and for anything it refuses).
    const imap = await openMailbox(assistant);
    let refusedBySmtp = 0;
    const deliver = async (m: HostileMessage) => {
      if (m.via === "smtp") {
        try {
          await deliverRaw(m.raw, {
            from: m.raw.includes("bob@") ? bob.address : alice.address,
            to: assistant.address,
          });
          return;
        } catch {
          refusedBySmtp++;
        }
      }
      await imap.append("INBOX", m.raw);
    };
    try {
      for (const m of messages) await deliver(m);
    } finally {
      await imap.logout().catch(() => imap.close());
    }

    // Wait for the ledger to account for every message (read-only handles on the WAL file).
    let counts: Record<string, number> = {};
    try {
      await waitFor(
        () => {
          counts = {};
          for (const r of allRecords(join(stateDir, "state.sqlite")))
            counts[r.status] = (counts[r.status] ?? 0) + 1;
          const total = Object.values(counts).reduce((a, b) => a + b, 0);
          return total === messages.length && !counts.received && child!.exitCode === null;
        },
        () =>
          `ledger ${JSON.stringify(counts)} for ${messages.length} messages; child ${child!.exitCode ?? "alive"}`,
        pick(600_000, 240_000),
        1000,
      );
    } finally {
      clearInterval(sampler);
    }
    await sleep(3000); // replies of the last messages go out
    expect(child.exitCode).toBeNull(); // no crash
    expect(child.signalCode).toBeNull();
    const peak = memory(pid).peak;
    child.kill("SIGTERM");
    await exited(child);
    expect(child.exitCode).toBe(0);
    child = undefined;

    const store = openSqliteStore({ path: join(stateDir, "state.sqlite") });
    const records = allRecords(join(stateDir, "state.sqlite"));
    let outbox: Record<string, number> = {};
    try {
      outbox = store.outbox.countByStatus();
      expect(store.inbound.unfinished()).toEqual([]);
      // Each message where the test knows its id: the status it must have.
      const wrong = messages
        .filter((m) => m.messageId && m.expect !== "final")
        .map((m) => ({
          name: m.name,
          want: m.expect,
          got: store.inbound.getByMessageId(m.messageId!).map((r) => r.status),
        }))
        .filter((x) => x.got.length !== 1 || x.got[0] !== x.want);
      expect(wrong).toEqual([]);
    } finally {
      store.close();
    }
    expect(records).toHaveLength(messages.length);
    // The replies' delivery copies (envelope copies to the assistant) are its own mail: never handed over.
    expect(deliveryCopyStatuses(join(stateDir, "state.sqlite")).filter((s) => s !== "ignored")).toEqual([]);
    const bounces = ownBounces(join(stateDir, "state.sqlite"));
    expect(bounces.filter((b) => b.status !== "ignored")).toEqual([]);
    expect(records.filter((r) => r.status !== "handled" && !r.reason?.trim())).toEqual([]);
    expect(
      records.filter((r) => !["handled", "quarantined", "ignored", "duplicate"].includes(r.status)),
    ).toEqual([]);

    // Nothing outside the state dir: no link, every path inside it, attachments only under attachments/,
    // no file with the token anywhere else on the disk places an escape could reach, the child's TMPDIR empty.
    const realState = realpathSync(stateDir);
    const entries = walk(stateDir);
    expect(entries.filter((p) => lstatSync(p).isSymbolicLink())).toEqual([]);
    expect(entries.filter((p) => !realpathSync(p).startsWith(realState + sep))).toEqual([]);
    const tokenFiles = entries.filter((p) => p.includes(token));
    expect(tokenFiles.filter((p) => !relative(stateDir, p).startsWith(`attachments${sep}`))).toEqual([]);
    expect(tokenFiles.length).toBeGreaterThan(10); // the attachments were stored (inside)
    const escaped = [
      ...findToken(tmpdir(), token, [root]),
      ...findToken(root, token, [stateDir]),
      ...findToken(process.cwd(), token, []),
      ...findToken("/", token, ["/proc", "/sys", "/dev", "/tmp", "/usr", "/work", "/var/lib", "/run"], 1),
    ];
    expect(escaped).toEqual([]);
    // The only thing allowed in the child's TMPDIR is tsx's compile cache (the test runs TypeScript).
    expect(readdirSync(childTmp).filter((f) => !f.startsWith("tsx-"))).toEqual([]);

    // Replies: only to the sender, never a smuggled header, nothing for mallory (the Bcc target).
    index = new InboxIndex([alice, bob]);
    await index.refresh();
    const replies = index.mail;
    const smuggled = replies.filter((r) =>
      r.headers.split(/\r?\n/).some((line) => /^(bcc|x-injected[^:]*|x-nul)\s*:/i.test(line)),
    );
    expect(smuggled.map((r) => r.headers)).toEqual([]);
    expect(replies.every((r) => r.from === assistant.address)).toBe(true);
    expect(await readMailbox(mallory)).toHaveLength(0);
    expect(replies.length).toBe(outbox.sent ?? 0);
    const injected = messages.filter((m) => m.category === "injection");
    for (const m of injected) expect(index.repliesTo(m.messageId!)).toHaveLength(1);

    const by = (s: string) => records.filter((r) => r.status === s).length;
    console.log(
      `[proof] hostile: ${messages.length} messages (${refusedBySmtp} refused by Postfix, appended instead); ` +
        `handled ${by("handled")}, quarantined ${by("quarantined")}, ignored ${by("ignored")}, duplicate ${by("duplicate")}; ` +
        `replies ${replies.length} (bounces of replies ${bounces.length}), smuggled headers ${smuggled.length}, escaped files ${escaped.length}; ` +
        `RSS idle ${idle.rss.toFixed(0)} MB, max sampled ${maxRss.toFixed(0)} MB, peak ${peak.toFixed(0)} MB; crashes 0`,
    );
    expect(peak - idle.rss).toBeLessThan(RSS_GROWTH_LIMIT_MB);
  }, 900_000);
});

interface LedgerRow {
  uid: number;
  message_id: string;
  status: string;
  reason: string | null;
  from_address: string | null;
}

/** Every ledger record, read from the store's SQLite file (the ledger interface lists only unfinished ones). */
/**
 * A bounce the mail server sent the assistant about one of its own replies: from MAILER-DAEMON (no
 * generated message comes from there, see the check in the test). A reply whose only recipient
 * Postfix refused still went out to its delivery copy, and a copy Postfix cannot deliver (SMTPUTF8
 * to an LMTP server without it) comes back as such a bounce; the channel records it, never answers.
 */
const OWN_BOUNCE =
  "coalesce(lower(from_address), '') LIKE 'mailer-daemon@%' AND coalesce(reason, '') LIKE 'LOOP_BOUNCE%'";

/** The bounces of the assistant's own replies the ledger recorded (see OWN_BOUNCE). */
function ownBounces(path: string): { status: string }[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT status FROM inbound WHERE ${OWN_BOUNCE}`).all() as { status: string }[];
  } finally {
    db.close();
  }
}

/** The ledger statuses of the replies' delivery copies (records under an outbox entry's Message-ID). */
function deliveryCopyStatuses(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db
      .prepare("SELECT status FROM inbound WHERE message_id IN (SELECT message_id FROM outbox)")
      .all() as { status: string }[];
    return rows.map((r) => r.status);
  } finally {
    db.close();
  }
}

function allRecords(
  path: string,
): { uid: number; messageId: string; status: string; reason?: string; from?: string }[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db
        .prepare(
          // The messages that came in: not the replies' delivery copies (see deliveryCopyStatuses),
          // nor the server's bounces of the assistant's own replies (see ownBounces).
          `SELECT uid, message_id, status, reason, from_address FROM inbound
           WHERE message_id NOT IN (SELECT message_id FROM outbox) AND NOT (${OWN_BOUNCE})`,
        )
        .all() as LedgerRow[]
    ).map((r) => ({
      uid: r.uid,
      messageId: r.message_id,
      status: r.status,
      ...(r.reason ? { reason: r.reason } : {}),
      ...(r.from_address ? { from: r.from_address } : {}),
    }));
  } finally {
    db.close();
  }
}
