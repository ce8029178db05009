/**
 * Crash soak: a stream of inbound mail from several senders in several threads (replies to the
 * assistant's replies among them) while the channel process is killed with SIGKILL at random
 * moments and started again. Afterwards: every message reached the agent at least once, got exactly
 * one reply, in its thread; the ledger of the (stopped) channel accounts for every message.
 *
 * CI: 120 messages, 5 kills. PROOF_FULL=1: 1,000 messages, 20 kills. PROOF_SEED replays a run.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../../src/store/index.js";
import { stackChannelEnv } from "../support/channel.js";
import { exited, readAgentLog, startChannelChild } from "../support/child.js";
import { deliverAs, purgeMailbox, sendAs } from "../support/mail.js";
import { loadStackEnv, type StackUser } from "../support/stack.js";
import { bare, InboxIndex, pick, seededRandom, sleep, waitFor } from "./helpers.js";

const stack = loadStackEnv();
const { assistant, alice, bob } = stack.users;
const N = pick(1000, 120);
const KILLS = pick(20, 5);
const THREADS = pick(80, 16);
/** The stream is paced so that it spans the kills (a restart takes about two seconds). */
const STREAM_MS = pick(150_000, 30_000);

interface Sent {
  index: number;
  thread: number;
  messageId: string;
  sender: StackUser;
  /** Parent: "assistant" when it answers the assistant's reply, "own" when it follows up on itself. */
  parent: "none" | "assistant" | "own";
}

let child: ChildProcess | undefined;
let index: InboxIndex | undefined;

beforeAll(async () => {
  for (const u of [assistant, alice, bob]) await purgeMailbox(u);
  await purgeMailbox(assistant, "Sent");
});
afterAll(async () => {
  child?.kill("SIGKILL");
  await index?.close();
});

describe("crash soak: SIGKILL at random moments during an inbound stream", () => {
  it(`hands over every message, replies exactly once in its thread (${N} messages, ${KILLS} kills)`, async () => {
    const { random } = seededRandom("crash-soak");
    const stateDir = mkdtempSync(join(tmpdir(), "ec-proof-soak-"));
    const agentLog = join(stateDir, "agent.jsonl");
    const env = {
      ...stackChannelEnv(stack, {
        stateDir,
        env: {
          EMAIL_RATE_LIMITS_PER_SENDER: "100000/600",
          EMAIL_RATE_LIMITS_PER_CONVERSATION: "100000/600",
        },
      }),
      EC_AGENT_LOG: agentLog,
      // A short think time widens the window in which a kill lands inside the agent.
      EC_AGENT_DELAY_MS: "40",
    };
    index = new InboxIndex([alice, bob]);
    const run = Date.now().toString(36);
    const sent: Sent[] = [];
    const threads = Array.from({ length: THREADS }, (_, t) => ({
      sender: t % 2 === 0 ? alice : bob,
      subject: `Soak ${run} thread ${t}`,
      root: "",
      last: { id: "", refs: [] as string[] },
    }));

    child = await startChannelChild(env);
    let kills = 0;
    const killer = (async () => {
      for (let k = 0; k < KILLS; k++) {
        await sleep(1000 + random() * ((STREAM_MS / KILLS) * 1.6 - 1000));
        child!.kill("SIGKILL");
        await exited(child!);
        kills++;
        await sleep(random() * 1000);
        child = await startChannelChild(env);
      }
    })();

    // Threads advance one message at a time; a follow-up answers the assistant's reply when it has
    // arrived (References = its References + its id), else the sender's own previous message.
    const gap = STREAM_MS / N;
    const order = Array.from({ length: N }, (_, i) => (i < THREADS ? i : Math.floor(random() * THREADS)));
    const busy = new Set<number>();
    const inFlight = new Set<Promise<void>>();
    const sendErrors: Error[] = [];
    let lastRefresh = 0;
    for (let i = 0; i < N; i++) {
      const t = order[i]!;
      while (busy.has(t)) await sleep(10);
      if (Date.now() - lastRefresh > 1000) {
        await index.refresh();
        lastRefresh = Date.now();
      }
      const th = threads[t]!;
      busy.add(t);
      let parent: Sent["parent"] = "none";
      let inReplyTo: string | undefined;
      let references: string[] = [];
      if (th.root) {
        const reply = index.repliesTo(th.last.id)[0];
        if (reply) {
          parent = "assistant";
          inReplyTo = reply.messageId;
          references = [...reply.references, reply.messageId];
        } else {
          parent = "own";
          inReplyTo = th.last.id;
          references = [...th.last.refs, th.last.id];
        }
      }
      const mail = {
        to: assistant.address,
        subject: th.root ? `Re: ${th.subject}` : th.subject,
        text: `Message ${i} of thread ${t}.\n\nThanks,\n${th.sender.name}`,
        ...(inReplyTo ? { inReplyTo: `<${inReplyTo}>`, references: references.map((r) => `<${r}>`) } : {}),
      };
      const job = (th.sender === alice ? sendAs(alice, mail) : deliverAs(bob, mail))
        .then((id) => {
          const messageId = bare(id);
          if (!th.root) th.root = messageId;
          th.last = { id: messageId, refs: references };
          sent.push({ index: i, thread: t, messageId, sender: th.sender, parent });
        })
        .catch((error: Error) => void sendErrors.push(error))
        .finally(() => busy.delete(t));
      inFlight.add(job);
      void job.finally(() => inFlight.delete(job));
      await sleep(gap * (0.5 + random()));
    }
    await Promise.all(inFlight);
    expect(sendErrors).toEqual([]);
    await killer;
    expect(kills).toBe(KILLS);

    // Let the last incarnation drain: every message answered (duplicates would show up by now too).
    await waitFor(
      async () => {
        await index!.refresh();
        return sent.every((s) => index!.repliesTo(s.messageId).length > 0);
      },
      () =>
        `${sent.filter((s) => index!.repliesTo(s.messageId).length === 0).length} messages still unanswered`,
      pick(600_000, 180_000),
      1000,
    );
    await sleep(8000); // a late duplicate (an outbox entry sent twice) would arrive in this time
    await index.refresh();
    child!.kill("SIGTERM");
    await exited(child!);
    expect(child!.exitCode).toBe(0);
    child = undefined;

    const log = readAgentLog(agentLog);
    const handed = new Map<string, Set<string>>();
    for (const e of log)
      if (e.event === "start" && e.messageId) {
        const set = handed.get(e.messageId) ?? new Set<string>();
        set.add(e.conversationId ?? "");
        handed.set(e.messageId, set);
      }
    const replies = new Map(sent.map((s) => [s.messageId, index!.repliesTo(s.messageId)]));
    const lost = sent.filter((s) => !handed.has(s.messageId));
    const unanswered = sent.filter((s) => replies.get(s.messageId)!.length === 0);
    const doubled = sent.filter((s) => replies.get(s.messageId)!.length > 1);
    const starts = log.filter((e) => e.event === "start").length;
    console.log(
      `[proof] crash-soak: ${sent.length} sent (${sent.filter((s) => s.parent === "assistant").length} answering the assistant), ` +
        `${kills} kills, ${starts} agent hand-overs (${starts - handed.size} repeated after a kill), ` +
        `lost ${lost.length}, unanswered ${unanswered.length}, duplicate replies ${doubled.length}`,
    );
    expect(sent).toHaveLength(N);
    expect(lost.map((s) => s.messageId)).toEqual([]);
    expect(unanswered.map((s) => s.messageId)).toEqual([]);
    expect(doubled.map((s) => s.messageId)).toEqual([]);

    // Threads: one conversation id per thread for the agent, a different one per thread, and each
    // reply in the person's References thread (root first), sent to that person.
    const perThread = new Map<number, Set<string>>();
    for (const s of sent) {
      const ids = handed.get(s.messageId)!;
      expect(ids.size).toBe(1); // a message re-handed after a kill keeps its conversation
      const set = perThread.get(s.thread) ?? new Set<string>();
      for (const c of ids) set.add(c);
      perThread.set(s.thread, set);
      const reply = replies.get(s.messageId)![0]!;
      expect(reply.owner).toBe(s.sender.address);
      expect(reply.references[0]).toBe(threads[s.thread]!.root);
      expect(reply.references.at(-1)).toBe(s.messageId);
    }
    for (const [, ids] of perThread) expect(ids.size).toBe(1);
    const conversations = [...perThread.values()].map((s) => [...s][0]);
    expect(new Set(conversations).size).toBe(THREADS);

    // The ledger of the stopped channel: every message accounted for, nothing left half-done.
    const store = openSqliteStore({ path: join(stateDir, "state.sqlite") });
    try {
      const statuses = sent.map((s) => store.inbound.getByMessageId(s.messageId).map((r) => r.status));
      expect(statuses.filter((st) => st.length !== 1 || st[0] !== "handled")).toEqual([]);
      // Besides them, the ledger holds each reply's delivery copy (the envelope copy to the assistant
      // that settles a reply left in doubt by a kill), recorded once as the channel's own mail.
      const copies = sent.map((s) => store.inbound.getByMessageId(replies.get(s.messageId)![0]!.messageId));
      expect(copies.filter((c) => c.length !== 1 || c[0]!.status !== "ignored")).toEqual([]);
      expect(store.inbound.countByStatus()).toEqual({ handled: N, ignored: N });
      expect(store.inbound.unfinished()).toEqual([]);
      expect(store.outbox.countByStatus()).toEqual({ sent: N });
      const settledByCopy = sent.filter((s) =>
        /delivery copy arrived/.test(store.outbox.get(`${s.messageId}#0`)?.response ?? ""),
      ).length;
      console.log(
        `[proof] crash-soak: replies left in doubt by a kill and settled by their delivery copy: ${settledByCopy}`,
      );
    } finally {
      store.close();
    }
  }, 1_200_000);
});
