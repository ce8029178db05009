import { describe, expect, it } from "vitest";
import {
  attachmentFolderName,
  generatedMessageId,
  parseMessageId,
  parseMessageIds,
} from "../../../src/mime/index.js";

describe("parseMessageIds", () => {
  it("reads bracketed ids in order without duplicates", () => {
    expect(parseMessageIds("<a@x> <b@y>\r\n <c@z> <a@x>")).toEqual(["a@x", "b@y", "c@z"]);
  });
  it("accepts comments, commas, missing brackets and ids folded inside", () => {
    expect(parseMessageIds("<a@x> (Alice's message of Mon, 4 Mar 2024)")).toEqual(["a@x"]);
    expect(parseMessageIds("a@x, b@y")).toEqual(["a@x", "b@y"]);
    expect(parseMessageIds("<long-id-\r\n continued@x>")).toEqual(["long-id-continued@x"]);
    expect(parseMessageIds(undefined)).toEqual([]);
    expect(parseMessageIds("<>")).toEqual([]);
  });
});

describe("parseMessageId", () => {
  it("takes the first id or, without brackets and @, the bare token", () => {
    expect(parseMessageId(" <id@example.org> ")).toBe("id@example.org");
    expect(parseMessageId("12345")).toBe("12345");
    expect(parseMessageId("   ")).toBeUndefined();
  });
});

describe("generatedMessageId", () => {
  it("is deterministic per raw bytes and uses the .invalid pseudo-domain", () => {
    const a = generatedMessageId(Buffer.from("Subject: x\r\n\r\nbody"));
    expect(a).toBe(generatedMessageId(Buffer.from("Subject: x\r\n\r\nbody")));
    expect(a).not.toBe(generatedMessageId(Buffer.from("Subject: y\r\n\r\nbody")));
    expect(a).toMatch(/^generated-[0-9a-f]{64}@email-channel\.invalid$/);
  });
});

describe("attachmentFolderName", () => {
  it("is a hash of the Message-ID: no mail content in paths", () => {
    expect(attachmentFolderName("../../etc@x")).toMatch(/^[0-9a-f]{32}$/);
    expect(attachmentFolderName("a@x")).toBe(attachmentFolderName("a@x"));
  });
});
