/**
 * Outbound.send into a known conversation (sendMessage, status notes) over the real composer and
 * SQLite outbox in memory; only the SMTP sender is a scripted stand-in. These tests are about who
 * the message goes to.
 */
import { EventEmitter } from "node:events";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Outbound } from "../../../src/channel/outbound.js";
import { InputError } from "../../../src/errors/index.js";
import { openSqliteStore, silentLogger } from "../../../src/index.js";
import type { OutboxDispatcher } from "../../../src/outbox/index.js";
import type { StateStore } from "../../../src/store/index.js";
import { offlineConfig } from "../../support/offline-config.js";
import { ScriptedSender, fastDispatcher } from "../smtp/support/outbox-fixtures.js";

const ALLOWED = new Set(["alice@x.test", "bob@x.test"]);

const stores: StateStore[] = [];
const dispatchers: OutboxDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  for (const s of stores.splice(0)) s.close();
});

/** Alice wrote to the assistant with bob and an outsider on Cc (as recordHandover stores it). */
async function setup(env: Record<string, string> = {}) {
  const config = await offlineConfig("hello@x.test", env);
  const store = openSqliteStore({ path: ":memory:" });
  stores.push(store);
  store.conversations.put({
    conversationId: "c1",
    account: "hello@x.test",
    subject: "the report",
    participants: ["alice@x.test", "bob@x.test", "outsider@corp.test"],
    lastMessageId: "m1@x.test",
    lastReferences: [],
    updatedAt: new Date().toISOString(),
  });
  store.inbound.put({
    account: "hello@x.test",
    mailbox: "INBOX",
    uidValidity: "1",
    uid: 1,
    messageId: "m1@x.test",
    conversationId: "c1",
    fromAddress: "alice@x.test",
    status: "handled",
    attempts: 1,
  });
  const sender = new ScriptedSender();
  const dispatcher = fastDispatcher(store.outbox, sender);
  dispatchers.push(dispatcher);
  const outbound = new Outbound({
    config,
    store,
    dispatcher,
    secret: Buffer.alloc(32, 7),
    logger: silentLogger(),
    events: new EventEmitter(),
    allowed: (a) => ALLOWED.has(a),
  });
  return { store, sender, outbound };
}

describe("Outbound.send into a known conversation", () => {
  it("writes to the latest sender only when reply_all is off, never to the outsider on Cc", async () => {
    const { outbound } = await setup();
    const sent = await outbound.send("c1", "Working on it…");
    expect(sent.recipients).toEqual(["alice@x.test"]);
  });

  it("with reply_all writes to the conversation's people the allowlist admits", async () => {
    const { outbound } = await setup({ EMAIL_REPLY_ALL: "true" });
    const sent = await outbound.send("c1", "Working on it…");
    expect([...sent.recipients].sort()).toEqual(["alice@x.test", "bob@x.test"]);
  });

  it("writes to a conversation the host began (nobody wrote in yet) as the host addressed it", async () => {
    const { store, outbound } = await setup();
    // The host started it with options.to outside the allowlist: its follow-ups go there too.
    store.conversations.put({ ...store.conversations.get("c1")!, conversationId: "c2" });
    const sent = await outbound.send("c2", "A follow-up");
    expect([...sent.recipients].sort()).toEqual(["alice@x.test", "bob@x.test", "outsider@corp.test"]);
  });

  it("applies the allowlist to a conversation whose incoming mail was all quarantined", async () => {
    const { store, outbound } = await setup();
    store.inbound.put({ ...store.inbound.getByUid("hello@x.test", "INBOX", "1", 1)!, status: "quarantined" });
    const sent = await outbound.send("c1", "Sorry, that failed");
    expect([...sent.recipients].sort()).toEqual(["alice@x.test", "bob@x.test"]);
  });

  it("keeps the host's own options.to and options.cc as given", async () => {
    const { outbound } = await setup();
    const sent = await outbound.send("c1", "FYI", { to: "outsider@corp.test", cc: "carol@corp.test" });
    expect([...sent.recipients].sort()).toEqual(["carol@corp.test", "outsider@corp.test"]);
  });

  it("refuses with SEND_NO_ALLOWED_RECIPIENT when the allowlist admits nobody in the conversation", async () => {
    const { store, sender, outbound } = await setup();
    ALLOWED.delete("alice@x.test");
    try {
      const error = await outbound.send("c1", "Working on it…").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).code).toBe("SEND_NO_ALLOWED_RECIPIENT");
      expect(store.outbox.countByStatus()).toEqual({});
      expect(sender.calls).toHaveLength(0);
    } finally {
      ALLOWED.add("alice@x.test");
    }
  });

  it("never attaches the channel's own state (its store holds tokens and secrets) or /proc", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "ec-outbound-state-"));
    writeFileSync(join(stateDir, "state.sqlite"), "tokens");
    mkdirSync(join(stateDir, "attachments"));
    writeFileSync(join(stateDir, "attachments", "report.txt"), "an inbound attachment");
    const { outbound } = await setup({ EMAIL_STATE_DIR: stateDir });
    for (const file of [join(stateDir, "state.sqlite"), "/proc/self/environ"]) {
      const error = await outbound
        .send("c1", "here it is", { attachments: [{ filename: "x", path: file }] })
        .catch((e: unknown) => e);
      expect((error as InputError).code).toBe("ATTACHMENT_PATH");
    }
    // An attachment the channel received may go out again.
    const sent = await outbound.send("c1", "here it is", {
      attachments: [{ filename: "report.txt", path: join(stateDir, "attachments", "report.txt") }],
    });
    expect(sent.recipients).toEqual(["alice@x.test"]);
  });
});

const rawOf = (store: StateStore, key: string) => Buffer.from(store.outbox.get(key)!.raw).toString();
const header = (raw: string, name: string) =>
  new RegExp(`^${name}: (.*(?:\r\n[ \t].*)*)`, "mi").exec(raw)?.[1]?.replace(/\r\n[ \t]+/g, " ");

describe("Outbound.send threading", () => {
  it("gives a message to other recipients in a known conversation its subject, not a generic one", async () => {
    const { store, outbound } = await setup();
    await outbound.send("c1", "FYI", { to: "bob@x.test", idempotencyKey: "k1" });
    const raw = rawOf(store, "k1");
    expect(header(raw, "Subject")).toBe("Re: the report");
    expect(header(raw, "In-Reply-To")).toBe("<m1@x.test>");
    // The conversation keeps its subject: the next message says "Re: the report" too.
    expect(store.conversations.get("c1")!.subject).toBe("Re: the report");
    await outbound.send("c1", "and more", { idempotencyKey: "k2" });
    expect(header(rawOf(store, "k2"), "Subject")).toBe("Re: the report");
  });

  it("answers the message options.inReplyTo names, not the conversation's last one", async () => {
    const { store, outbound } = await setup();
    store.conversations.put({
      ...store.conversations.get("c1")!,
      lastMessageId: "ours-2@x.test",
      lastReferences: ["m0@x.test", "m1@x.test"],
    });
    await outbound.send("c1", "about your first mail", { inReplyTo: "<m1@x.test>", idempotencyKey: "k1" });
    const raw = rawOf(store, "k1");
    expect(header(raw, "In-Reply-To")).toBe("<m1@x.test>");
    expect(header(raw, "References")).toBe("<m0@x.test> <ours-2@x.test> <m1@x.test>");
  });

  it("refuses an options.inReplyTo that is not a Message-ID with SEND_IN_REPLY_TO_INVALID", async () => {
    const { store, sender, outbound } = await setup();
    const error = await outbound.send("c1", "x", { inReplyTo: "not an id" }).catch((e: unknown) => e);
    expect((error as InputError).code).toBe("SEND_IN_REPLY_TO_INVALID");
    expect(store.outbox.countByStatus()).toEqual({});
    expect(sender.calls).toHaveLength(0);
  });
});
