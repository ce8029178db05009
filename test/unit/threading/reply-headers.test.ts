import { describe, expect, it } from "vitest";
import { buildReplyHeaders, trimReferences } from "../../../src/threading/index.js";

describe("buildReplyHeaders (RFC 5322 §3.6.4)", () => {
  it("References = parent References + parent Message-ID; In-Reply-To = parent id", () => {
    const h = buildReplyHeaders({
      messageId: "<p@x>",
      references: ["<r1@x>", "<r2@x>"],
      inReplyTo: "<r2@x>",
    });
    expect(h.inReplyTo).toBe("p@x");
    expect(h.references).toEqual(["r1@x", "r2@x", "p@x"]);
    expect(h.headers).toEqual({ "In-Reply-To": "<p@x>", References: "<r1@x> <r2@x> <p@x>" });
  });

  it("uses the parent's In-Reply-To when it has no References and names one parent", () => {
    expect(buildReplyHeaders({ messageId: "p@x", inReplyTo: "<q@x>", references: [] }).references).toEqual([
      "q@x",
      "p@x",
    ]);
  });

  it("ignores an In-Reply-To with several ids", () => {
    expect(buildReplyHeaders({ messageId: "p@x", inReplyTo: "<q@x> <r@x>" }).references).toEqual(["p@x"]);
  });

  it("starts a chain for a parent without threading headers", () => {
    expect(buildReplyHeaders({ messageId: "p@x" }).references).toEqual(["p@x"]);
  });

  it("keeps ids exactly as written and does not repeat the parent", () => {
    const h = buildReplyHeaders({ messageId: "<P@Host.COM>", references: ["<R@Host.COM>", "<P@host.com>"] });
    expect(h.references).toEqual(["R@Host.COM", "P@Host.COM"]);
  });

  it("trims long chains to the first id plus the newest 20 by default", () => {
    const refs = Array.from({ length: 40 }, (_, i) => `<m${i}@x>`);
    const h = buildReplyHeaders({ messageId: "p@x", references: refs });
    expect(h.references).toHaveLength(21);
    expect(h.references[0]).toBe("m0@x");
    expect(h.references.slice(1, 3)).toEqual(["m21@x", "m22@x"]);
    expect(h.references.at(-1)).toBe("p@x");
    expect(buildReplyHeaders({ messageId: "p@x", references: refs }, { keepLast: 3 }).references).toEqual([
      "m0@x",
      "m38@x",
      "m39@x",
      "p@x",
    ]);
  });
});

describe("trimReferences", () => {
  it("leaves short lists and reads keepLast below 1 as 1", () => {
    expect(trimReferences(["a", "b"], 20)).toEqual(["a", "b"]);
    expect(trimReferences(["a", "b", "c", "d"], 0)).toEqual(["a", "d"]);
  });
});
