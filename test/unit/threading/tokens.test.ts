import { describe, expect, it } from "vitest";
import { ConfigError, InputError } from "../../../src/errors/index.js";
import {
  base32Decode,
  base32Encode,
  decodeOutgoingMessageId,
  decodeReplyToken,
  encodeOutgoingMessageId,
  encodeReplyToken,
  looksLikeOutgoingMessageId,
  randomUnique,
  replyAddress,
} from "../../../src/threading/index.js";

const SECRET = "unit-test-secret-0123456789";
const OTHER = "another-secret-9876543210";

describe("base32 (RFC 4648 §10 vectors, lower case, no padding)", () => {
  it.each([
    ["", ""],
    ["f", "my"],
    ["fo", "mzxq"],
    ["foo", "mzxw6"],
    ["foob", "mzxw6yq"],
    ["fooba", "mzxw6ytb"],
    ["foobar", "mzxw6ytboi"],
  ])("%j <-> %j", (text, encoded) => {
    expect(base32Encode(Buffer.from(text))).toBe(encoded);
    expect(Buffer.from(base32Decode(encoded)!).toString()).toBe(text);
    expect(Buffer.from(base32Decode(encoded.toUpperCase())!).toString()).toBe(text);
  });

  it("rejects characters outside the alphabet and non-canonical tails", () => {
    expect(base32Decode("mzxw0")).toBeUndefined();
    expect(base32Decode("mzxw6z")).toBeUndefined();
  });
});

describe("outgoing Message-IDs", () => {
  it("round-trip the conversation id and verify", () => {
    const id = encodeOutgoingMessageId("vevpp4rqj6bbnsjn", "q4xk2m7vtn3hb6ra", "Cassey.AI", SECRET);
    expect(id).toMatch(/^ec\.[a-z2-7]+\.q4xk2m7vtn3hb6ra\.[a-z2-7]{16}@cassey\.ai$/);
    expect(decodeOutgoingMessageId(`<${id}>`, SECRET)).toEqual({
      conversationId: "vevpp4rqj6bbnsjn",
      unique: "q4xk2m7vtn3hb6ra",
      domain: "cassey.ai",
    });
    expect(looksLikeOutgoingMessageId(id)).toBe(true);
  });

  it("carries any conversation id a host may use (UTF-8, punctuation)", () => {
    const id = encodeOutgoingMessageId("conv:42/Ünïcode", randomUnique(), "cassey.ai", SECRET);
    expect(decodeOutgoingMessageId(id, SECRET)?.conversationId).toBe("conv:42/Ünïcode");
  });

  it("survives a relay that upper- or lower-cases the whole id", () => {
    const id = encodeOutgoingMessageId("abc", "Mixed-Case_1", "cassey.ai", SECRET);
    expect(decodeOutgoingMessageId(id.toUpperCase(), SECRET)?.conversationId).toBe("abc");
    expect(decodeOutgoingMessageId(id.toLowerCase(), SECRET)?.conversationId).toBe("abc");
  });

  it("rejects forged, altered and foreign ids", () => {
    const id = encodeOutgoingMessageId("victim-conversation", "u1", "cassey.ai", SECRET);
    expect(decodeOutgoingMessageId(id, OTHER)).toBeUndefined();
    // Swap in another conversation but keep the MAC.
    const [, , unique, mac] = id.split("@")[0]!.split(".");
    const forged = `ec.${base32Encode(Buffer.from("attacker-choice"))}.${unique}.${mac}@cassey.ai`;
    expect(looksLikeOutgoingMessageId(forged)).toBe(true);
    expect(decodeOutgoingMessageId(forged, SECRET)).toBeUndefined();
    const flipped = id.replace(
      /\.([a-z2-7])([a-z2-7]{15})@/,
      (_m, c: string, rest: string) => `.${c === "a" ? "b" : "a"}${rest}@`,
    );
    expect(decodeOutgoingMessageId(flipped, SECRET)).toBeUndefined();
    expect(decodeOutgoingMessageId("CAK7Ld2yUq0h@mail.gmail.com", SECRET)).toBeUndefined();
    expect(decodeOutgoingMessageId("", SECRET)).toBeUndefined();
    expect(looksLikeOutgoingMessageId("CAK7Ld2yUq0h@mail.gmail.com")).toBe(false);
  });

  it("refuses bad input with typed errors", () => {
    expect(() => encodeOutgoingMessageId("c", "has.dot", "cassey.ai", SECRET)).toThrow(InputError);
    expect(() => encodeOutgoingMessageId("c", "u", "bad domain", SECRET)).toThrow(InputError);
    expect(() => encodeOutgoingMessageId("", "u", "cassey.ai", SECRET)).toThrow(InputError);
    expect(() => encodeOutgoingMessageId("x".repeat(65), "u", "cassey.ai", SECRET)).toThrow(InputError);
    expect(() => encodeOutgoingMessageId("c", "u", "cassey.ai", "short")).toThrow(ConfigError);
    expect(() => decodeOutgoingMessageId("ec.a.b.c@d", "short")).toThrow(ConfigError);
  });

  it("makes distinct unique parts", () => {
    const a = randomUnique();
    expect(a).toMatch(/^[a-z2-7]{16}$/);
    expect(randomUnique()).not.toBe(a);
  });
});

describe("reply tokens", () => {
  it("round-trip and verify", () => {
    const token = encodeReplyToken("vevpp4rqj6bbnsjn", SECRET);
    expect(token).toMatch(/^[a-z2-7]+$/);
    expect(decodeReplyToken(token, SECRET)).toBe("vevpp4rqj6bbnsjn");
    expect(decodeReplyToken(token.toUpperCase(), SECRET)).toBe("vevpp4rqj6bbnsjn");
  });

  it("reject other secrets, edits and plain tags", () => {
    const token = encodeReplyToken("vevpp4rqj6bbnsjn", SECRET);
    expect(decodeReplyToken(token, OTHER)).toBeUndefined();
    expect(
      decodeReplyToken(`${token.slice(0, -1)}${token.endsWith("a") ? "b" : "a"}`, SECRET),
    ).toBeUndefined();
    expect(decodeReplyToken("newsletter", SECRET)).toBeUndefined();
    expect(decodeReplyToken("", SECRET)).toBeUndefined();
  });

  it("builds a plus address within the 64-octet local-part limit", () => {
    const address = replyAddress("hello@cassey.ai", "vevpp4rqj6bbnsjn", SECRET);
    expect(address).toMatch(/^hello\+[a-z2-7]+@cassey\.ai$/);
    expect(address!.split("@")[0]!.length).toBeLessThanOrEqual(64);
    expect(replyAddress("hello@cassey.ai", "x".repeat(40), SECRET)).toBeUndefined();
    expect(replyAddress("not-an-address", "c", SECRET)).toBeUndefined();
    expect(replyAddress("hello@cassey.ai", "c", SECRET, "-")).toMatch(/^hello-[a-z2-7]+@cassey\.ai$/);
  });
});
