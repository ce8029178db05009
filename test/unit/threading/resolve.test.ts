import { describe, expect, it } from "vitest";
import type { ThreadLink } from "../../../src/store/types.js";
import {
  deriveConversationId,
  encodeOutgoingMessageId,
  encodeReplyToken,
  type ResolveDeps,
  resolveConversation,
  type ThreadInput,
  threadCandidates,
} from "../../../src/threading/index.js";

const SECRET = "resolve-test-secret-abcdef";

function deps(
  links: Record<string, Omit<ThreadLink, "messageId" | "direction" | "at">>,
  people: Record<string, string[]> = {},
): ResolveDeps {
  return {
    lookup: (id) => (links[id] ? { messageId: id, direction: "in", at: "", ...links[id]! } : undefined),
    participants: (c) => people[c],
    ownAddresses: ["hello@cassey.ai"],
    ownDomains: ["cassey.ai"],
    secret: SECRET,
  };
}

function message(over: Partial<ThreadInput>): ThreadInput {
  return {
    messageId: "<new@client.example>",
    references: [],
    from: { address: "Alice@Example.org" },
    to: [{ address: "hello@cassey.ai" }],
    cc: [],
    ...over,
  };
}

describe("threadCandidates", () => {
  it("orders own id, In-Reply-To, then References newest first, without duplicates", () => {
    const c = threadCandidates(
      message({ messageId: "<m@x>", inReplyTo: "<r3@x>", references: ["<r1@x>", "<r2@x>", "<r3@x>"] }),
    );
    expect(c.candidates).toEqual(["m@x", "r3@x", "r2@x", "r1@x"]);
    expect(c.root).toBe("r1@x");
  });

  it("roots at In-Reply-To without References, and at the own id without either", () => {
    expect(threadCandidates(message({ messageId: "m@x", inReplyTo: "<p@x>" })).root).toBe("p@x");
    expect(threadCandidates(message({ messageId: "m@x" })).root).toBe("m@x");
  });
});

describe("resolveConversation", () => {
  it("prefers the newest known id", () => {
    const d = deps({
      "r1@x": { conversationId: "old", participants: ["alice@example.org"] },
      "r2@x": { conversationId: "newer", participants: ["alice@example.org"] },
    });
    const r = resolveConversation(message({ references: ["<r1@x>", "<r2@x>"] }), d);
    expect(r).toMatchObject({ conversationId: "newer", via: "store", matchedId: "r2@x" });
  });

  it("finds a redelivered message by its own id", () => {
    const d = deps({ "new@client.example": { conversationId: "c1", participants: ["alice@example.org"] } });
    expect(resolveConversation(message({}), d)).toMatchObject({ conversationId: "c1", via: "store" });
  });

  it("admits a sender who joined later through the conversation's current participants", () => {
    const d = deps(
      { "p@x": { conversationId: "c1", participants: ["alice@example.org"] } },
      { c1: ["dan@icloud.com"] },
    );
    const r = resolveConversation(message({ from: { address: "dan@icloud.com" }, inReplyTo: "p@x" }), d);
    expect(r).toMatchObject({ conversationId: "c1", via: "store" });
  });

  it("keeps a stranger who quotes a known id out of the conversation", () => {
    const d = deps({ "p@x": { conversationId: "c1", participants: ["alice@example.org"] } });
    const r = resolveConversation(
      message({ from: { address: "eve@evil.example" }, references: ["<p@x>"] }),
      d,
    );
    expect(r.via).toBe("new");
    expect(r.conversationId).toBe(deriveConversationId("p@x", "eve@evil.example"));
    expect(r.conversationId).not.toBe(deriveConversationId("p@x"));
    expect(r.rejected).toEqual([{ matchedId: "p@x", conversationId: "c1", via: "store" }]);
  });

  it("keeps a stranger who reuses someone's Message-ID as their own out of it", () => {
    const d = deps({ "first@example.org": { conversationId: "c1", participants: ["alice@example.org"] } });
    const r = resolveConversation(
      message({ messageId: "<first@example.org>", from: { address: "eve@evil.example" } }),
      d,
    );
    expect(r.via).toBe("new");
    expect(r.conversationId).not.toBe("c1");
    expect(r.conversationId).not.toBe(deriveConversationId("first@example.org"));
  });

  it("scopes a derived root conversation that is known and excludes the sender", () => {
    const root = deriveConversationId("root@x");
    const d = deps({}, { [root]: ["alice@example.org"] });
    const eve = resolveConversation(
      message({ from: { address: "eve@evil.example" }, references: ["root@x"] }),
      d,
    );
    expect(eve).toMatchObject({
      via: "new",
      conversationId: deriveConversationId("root@x", "eve@evil.example"),
    });
    const alice = resolveConversation(message({ references: ["root@x"] }), d);
    expect(alice).toMatchObject({ via: "root", conversationId: root });
  });

  it("finds the thread through our Message-ID token when the store lost the id", () => {
    const ours = encodeOutgoingMessageId("c7", "u1", "cassey.ai", SECRET);
    const d = deps({}, { c7: ["alice@example.org"] });
    const r = resolveConversation(message({ inReplyTo: `<${ours}>` }), d);
    expect(r).toMatchObject({ conversationId: "c7", via: "message-id-token", matchedId: ours });
  });

  it("does not count a token for an unknown conversation or without a participants source", () => {
    const ours = encodeOutgoingMessageId("c7", "u1", "cassey.ai", SECRET);
    expect(resolveConversation(message({ inReplyTo: ours }), deps({})).via).toBe("new");
    const noSource = { ...deps({}), participants: undefined };
    expect(resolveConversation(message({ inReplyTo: ours }), noSource).rejected[0]?.via).toBe(
      "message-id-token",
    );
  });

  it("ignores a token made with another secret", () => {
    const forged = encodeOutgoingMessageId("c7", "u1", "cassey.ai", "some-other-secret-123456");
    const r = resolveConversation(message({ inReplyTo: forged }), deps({}, { c7: ["alice@example.org"] }));
    expect(r.via).toBe("root");
    expect(r.rejected).toEqual([]);
  });

  it("reads a plus token on our address in To, Cc or Delivered-To, case-insensitively", () => {
    const token = encodeReplyToken("c9", SECRET);
    const d = deps({}, { c9: ["alice@example.org"] });
    const viaTo = resolveConversation(
      message({ to: [{ address: `Hello+${token.toUpperCase()}@Cassey.AI` }] }),
      d,
    );
    expect(viaTo).toMatchObject({ conversationId: "c9", via: "plus-token" });
    const viaCc = resolveConversation(message({ to: [], cc: [{ address: `hello+${token}@cassey.ai` }] }), d);
    expect(viaCc.via).toBe("plus-token");
    const viaHeader = resolveConversation(
      message({
        to: [{ address: "team@example.org" }],
        headers: { "delivered-to": [`hello+${token}@cassey.ai`] },
      }),
      d,
    );
    expect(viaHeader.via).toBe("plus-token");
  });

  it("ignores plus tokens on other people's domains and plain tags", () => {
    const token = encodeReplyToken("c9", SECRET);
    const d = deps({}, { c9: ["alice@example.org"] });
    expect(resolveConversation(message({ to: [{ address: `bob+${token}@example.org` }] }), d).via).toBe(
      "new",
    );
    expect(resolveConversation(message({ to: [{ address: "hello+newsletter@cassey.ai" }] }), d).via).toBe(
      "new",
    );
  });

  it("checks tokens against the sender like store matches", () => {
    const token = encodeReplyToken("c9", SECRET);
    const d = deps({}, { c9: ["alice@example.org"] });
    const r = resolveConversation(
      message({ from: { address: "eve@evil.example" }, to: [{ address: `hello+${token}@cassey.ai` }] }),
      d,
    );
    expect(r.via).toBe("new");
    expect(r.rejected).toEqual([
      { matchedId: `hello+${token}@cassey.ai`, conversationId: "c9", via: "plus-token" },
    ]);
  });

  it("splits off a person who was Bcc'd into the thread, unless scope is none", () => {
    const d = deps({
      "p@x": { conversationId: "c1", participants: ["alice@example.org", "bob@example.org"] },
    });
    const carol = message({ from: { address: "carol@example.com" }, inReplyTo: "p@x", references: ["p@x"] });
    expect(resolveConversation(carol, d).via).toBe("new");
    expect(resolveConversation(carol, { ...d, scope: "none" })).toMatchObject({
      conversationId: "c1",
      via: "store",
    });
    const token = encodeReplyToken("c9", SECRET);
    const viaToken = message({ from: undefined, to: [{ address: `hello+${token}@cassey.ai` }] });
    expect(resolveConversation(viaToken, { ...deps({}), scope: "none" })).toMatchObject({
      via: "plus-token",
    });
  });

  it("puts a message without From into its own conversation", () => {
    const d = deps({ "p@x": { conversationId: "c1", participants: ["alice@example.org"] } });
    const r = resolveConversation(message({ from: undefined, inReplyTo: "p@x" }), d);
    expect(r.via).toBe("new");
    expect(r.conversationId).toBe(deriveConversationId("p@x", ""));
  });

  it("is deterministic: the same message resolves to the same id", () => {
    const a = resolveConversation(message({ references: ["<r@x>"] }), deps({}));
    const b = resolveConversation(message({ references: ["<r@X>"] }), deps({}));
    expect(a).toEqual(b);
    expect(a.conversationId).toMatch(/^[a-z2-7]{16}$/);
  });
});
