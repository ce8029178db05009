/**
 * The project's own mail fixtures (test/fixtures/mail, written as real clients write them) through the
 * channel's inbound stages as the pipeline chains them: converter -> threading -> guards. expected.json
 * holds, per file, the guard verdict and a conversation label written by hand.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  conversationParticipants,
  toGuardInput,
  toThreadInput,
} from "../../../src/channel/inbound-mapping.js";
import { checkLoop, detectLoopSignals } from "../../../src/guards/index.js";
import { convertMessage } from "../../../src/mime/index.js";
import { openSqliteStore } from "../../../src/store/index.js";
import { normaliseMessageId, resolveConversation } from "../../../src/threading/index.js";

const dir = new URL("../../fixtures/mail/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", dir), "utf8")) as {
  messages: Record<string, { verdict: string; from: string; thread: { conversation: string | null } }>;
};
const files = Object.keys(expected.messages).sort();
const KIND: Record<string, string[]> = {
  "auto-reply": ["auto-reply"],
  bounce: ["bounce", "report"],
  list: ["list"],
  "no-reply-sender": ["no-reply-sender"],
};

describe("mail fixtures through convert -> guards", () => {
  it("has at least 40 fixtures", () => expect(files.length).toBeGreaterThanOrEqual(40));
  for (const file of files) {
    it(`${file}: ${expected.messages[file]!.verdict}`, async () => {
      const parsed = await convertMessage(readFileSync(new URL(file, dir)));
      const input = toGuardInput(parsed);
      const verdict = checkLoop(input, { ownAddresses: ["assistant@example.test"] });
      const want = expected.messages[file]!.verdict;
      if (want === "accept") {
        expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
      } else {
        expect(verdict.ok).toBe(false);
        // The verdict names the most specific kind; the expected one must be among the signals seen.
        const kinds = detectLoopSignals(input, { ownAddresses: ["assistant@example.test"] }).signals.map(
          (s) => s.kind,
        );
        expect(
          kinds.some((k) => KIND[want]!.includes(k)),
          `${want} not in ${kinds.join(",")}`,
        ).toBe(true);
      }
    });
  }
});

/**
 * Where the channel's rule differs from the hand-written label: Carol (thread-3) was never named on
 * the thread (not in From/To/Cc of any earlier message; she was Bcc'd or forwarded it), so by the
 * participant rule her reply opens its own conversation instead of joining Alice's, and Alice's
 * answer to Carol (thread-4) follows Carol's message into it. A stranger who quotes a Message-ID must
 * not join another person's conversation (issue 3); a Bcc'd colleague looks the same from here.
 */
const LABEL_OVERRIDES: Record<string, string> = {
  "thread-3-outlook-desktop-reply.eml": "q1-report/carol",
  "thread-4-apple-mail-reply.eml": "q1-report/carol",
};

describe("mail fixtures through convert -> threading, in file order", () => {
  it("puts messages with the same conversation label into one conversation and the others apart", async () => {
    const store = openSqliteStore({ path: ":memory:" });
    const secret = Buffer.alloc(32, 7);
    const labelOf = new Map<string, string>();
    const idsByLabel = new Map<string, Set<string>>();
    for (const file of files) {
      const label = LABEL_OVERRIDES[file] ?? expected.messages[file]!.thread.conversation;
      const parsed = await convertMessage(readFileSync(new URL(file, dir)));
      const r = resolveConversation(toThreadInput(parsed), {
        lookup: (id) => store.threads.get(id),
        participants: (id) => store.conversations.get(id)?.participants,
        ownAddresses: ["assistant@example.test"],
        secret,
      });
      const participants = conversationParticipants(
        store.conversations.get(r.conversationId)?.participants ?? [],
        parsed,
        ["assistant@example.test"],
      );
      store.threads.put({
        messageId: normaliseMessageId(parsed.messageId),
        conversationId: r.conversationId,
        participants,
        direction: "in",
        at: "t",
      });
      store.conversations.put({
        conversationId: r.conversationId,
        account: "assistant@example.test",
        subject: parsed.subject,
        participants,
        lastMessageId: parsed.messageId,
        lastReferences: parsed.references,
        updatedAt: "t",
      });
      if (!label) continue;
      labelOf.set(r.conversationId, labelOf.get(r.conversationId) ?? label);
      expect(labelOf.get(r.conversationId), `${file} joined another label's conversation`).toBe(label);
      idsByLabel.set(label, (idsByLabel.get(label) ?? new Set()).add(r.conversationId));
    }
    const multi = [...idsByLabel].filter(([, ids]) => ids.size > 1);
    expect(multi, "a label split over several conversations").toEqual([]);
    expect([...idsByLabel.keys()].length).toBeGreaterThan(0);
    store.close();
  });
});
