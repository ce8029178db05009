import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ThreadLink } from "../../../src/store/types.js";
import {
  buildReplyHeaders,
  type ConversationResolution,
  decodeOutgoingMessageId,
  decodeReplyToken,
  normaliseMessageId,
  normaliseSubject,
  replySubject,
  resolveConversation,
} from "../../../src/threading/index.js";
import { type FixtureMessage, readEml, toThreadInput } from "../guards/support/read-eml.js";

const DIR = join(import.meta.dirname, "../../fixtures/threading");

interface ExpectedMessage {
  file: string;
  via?: ConversationResolution["via"];
  matchedId?: string;
  conversation: string;
  root?: string;
  rejected?: string[];
  outgoing?: boolean;
  record?: boolean;
  replyTo?: string;
}
interface Expected {
  secret: string;
  ownAddresses: string[];
  ownDomains: string[];
  conversations: Record<string, string>;
  messages: ExpectedMessage[];
}

const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as Expected;

/** In-memory ThreadRepo + ConversationRepo participants, as the SQLite store will keep them. */
class MemoryThreads {
  readonly links = new Map<string, ThreadLink>();
  readonly people = new Map<string, Set<string>>();
  lookup = (id: string): ThreadLink | undefined => this.links.get(id);
  participants = (conversationId: string): string[] | undefined => {
    const p = this.people.get(conversationId);
    return p ? [...p] : undefined;
  };
  record(m: FixtureMessage, conversationId: string): void {
    const people = [m.from, ...m.to, ...m.cc]
      .filter((a) => a !== undefined)
      .map((a) => a.address.toLowerCase().replace(/\+[^@]*@/, "@"));
    const set = this.people.get(conversationId) ?? new Set<string>();
    for (const p of people) set.add(p);
    this.people.set(conversationId, set);
    const id = normaliseMessageId(m.messageId);
    this.links.set(id, { messageId: id, conversationId, participants: [...set], direction: "in", at: "" });
  }
}

describe("thread fixtures replayed in order", () => {
  const messages = new Map<string, FixtureMessage>();
  const results = new Map<string, ConversationResolution>();

  beforeAll(async () => {
    const store = new MemoryThreads();
    for (const e of expected.messages) {
      const m = await readEml(join(DIR, e.file));
      messages.set(e.file, m);
      if (e.outgoing) continue;
      const r = resolveConversation(toThreadInput(m), {
        lookup: store.lookup,
        participants: store.participants,
        ownAddresses: expected.ownAddresses,
        ownDomains: expected.ownDomains,
        secret: expected.secret,
      });
      results.set(e.file, r);
      if (e.record !== false) store.record(m, r.conversationId);
    }
  });

  for (const e of expected.messages.filter((m) => !m.outgoing)) {
    it(`${e.file}: ${e.via} -> ${e.conversation}`, () => {
      const r = results.get(e.file)!;
      expect(r.conversationId).toBe(expected.conversations[e.conversation]);
      expect(r.via).toBe(e.via);
      if (e.matchedId !== undefined) expect(r.matchedId).toBe(e.matchedId);
      if (e.root !== undefined) expect(r.root).toBe(e.root);
      expect(r.rejected.map((x) => x.via)).toEqual(e.rejected ?? []);
    });
  }

  it("keeps one conversation id for every message of the offsite thread", () => {
    const ids = expected.messages
      .filter((e) => e.conversation === "offsite" && !e.outgoing)
      .map((e) => results.get(e.file)!.conversationId);
    expect(new Set(ids).size).toBe(1);
    expect(ids.length).toBeGreaterThanOrEqual(6);
  });

  it("the stranger's conversation is neither the thread's nor derived from the root alone", () => {
    const mallory = results.get("07-stranger-quotes-message-id.eml")!;
    expect(mallory.conversationId).not.toBe(expected.conversations.offsite);
    expect(mallory.rejected.every((x) => x.conversationId === expected.conversations.offsite)).toBe(true);
  });

  it("the assistant's reply carries the conversation in its Message-ID and Reply-To", () => {
    const reply = messages.get("02-assistant-reply.eml")!;
    const decoded = decodeOutgoingMessageId(reply.messageId, expected.secret);
    expect(decoded?.conversationId).toBe(expected.conversations.offsite);
    expect(decoded?.domain).toBe("cassey.ai");
    const tagged = reply.replyTo[0]!.address;
    const token = tagged.slice(tagged.indexOf("+") + 1, tagged.indexOf("@"));
    expect(decodeReplyToken(token, expected.secret)).toBe(expected.conversations.offsite);
    expect(decodeOutgoingMessageId(reply.messageId, "another-secret-of-16-bytes")).toBeUndefined();
  });

  it("the assistant's reply has the threading headers buildReplyHeaders computes", () => {
    const parent = messages.get("01-original-thunderbird.eml")!;
    const reply = messages.get("02-assistant-reply.eml")!;
    const h = buildReplyHeaders(parent);
    expect(h.inReplyTo).toBe(reply.inReplyTo);
    expect(h.references).toEqual(reply.references);
    expect(replySubject(parent.subject)).toBe(reply.subject);
  });

  it("every client's reply subject normalises to the original's", () => {
    const key = normaliseSubject(messages.get("01-original-thunderbird.eml")!.subject);
    for (const f of ["03-gmail-reply.eml", "04-outlook-reply-no-references.eml", "05-apple-mail-reply.eml"]) {
      expect(normaliseSubject(messages.get(f)!.subject)).toBe(key);
    }
  });

  it("a reply to the Apple Mail message builds References from the parent's chain", () => {
    const parent = messages.get("05-apple-mail-reply.eml")!;
    const h = buildReplyHeaders(parent);
    expect(h.references).toEqual([...parent.references, parent.messageId]);
    expect(h.headers["In-Reply-To"]).toBe(`<${parent.messageId}>`);
  });

  it("a reply to the Outlook message (no References) chains through its In-Reply-To", () => {
    const parent = messages.get("04-outlook-reply-no-references.eml")!;
    expect(parent.references).toEqual([]);
    const h = buildReplyHeaders(parent);
    expect(h.references).toEqual([parent.inReplyTo, parent.messageId]);
  });
});
