import { describe, expect, it } from "vitest";
import {
  cleanMessageId,
  formatMessageId,
  messageIdDomain,
  messageIdLocalPart,
  normaliseMessageId,
  parseMessageIdList,
} from "../../../src/threading/index.js";

describe("normaliseMessageId", () => {
  it("strips brackets and blanks and lower-cases only the domain", () => {
    expect(normaliseMessageId("  <AbC.123@Mail.Example.COM>  ")).toBe("AbC.123@mail.example.com");
    expect(normaliseMessageId("AbC@EXAMPLE.com")).toBe("AbC@example.com");
  });

  it("takes the first bracketed id out of surrounding text and folding", () => {
    expect(normaliseMessageId('(comment) <a@B.c> "junk"')).toBe("a@b.c");
    expect(normaliseMessageId("<a@\r\n b.c>")).toBe("a@b.c");
  });

  it("uses the last @ for the domain and keeps ids without one", () => {
    expect(normaliseMessageId("<x@y@Host.Example>")).toBe("x@y@host.example");
    expect(normaliseMessageId("<NoDomainHere>")).toBe("NoDomainHere");
  });

  it("returns an empty string for empty input", () => {
    expect(normaliseMessageId("")).toBe("");
    expect(normaliseMessageId("<>")).toBe("");
    expect(normaliseMessageId(undefined)).toBe("");
    expect(normaliseMessageId(null)).toBe("");
  });
});

describe("cleanMessageId and formatMessageId", () => {
  it("keep the case of the whole id", () => {
    expect(cleanMessageId("<A@DB9PR08.Outlook.COM>")).toBe("A@DB9PR08.Outlook.COM");
    expect(formatMessageId("A@DB9PR08.Outlook.COM")).toBe("<A@DB9PR08.Outlook.COM>");
    expect(formatMessageId("<a@b>")).toBe("<a@b>");
  });
});

describe("parseMessageIdList", () => {
  it("reads bracketed ids in header order, dropping duplicates by normalised form", () => {
    expect(parseMessageIdList("<a@X.org> <b@y.org>\r\n <a@x.ORG> <A@x.org> <c@z.org>")).toEqual([
      "a@x.org",
      "b@y.org",
      // The local part is case-sensitive (RFC 5322 ids compare octet by octet): a different id.
      "A@x.org",
      "c@z.org",
    ]);
  });

  it("reads comma-separated and bracketless lists", () => {
    expect(parseMessageIdList("<a@x>,<b@y>")).toEqual(["a@x", "b@y"]);
    expect(parseMessageIdList("a@x b@y, c@z")).toEqual(["a@x", "b@y", "c@z"]);
  });

  it("accepts arrays and keeps case with normalise: false", () => {
    expect(parseMessageIdList(["<A@B.COM>", "<c@d>"], { normalise: false })).toEqual(["A@B.COM", "c@d"]);
  });

  it("ignores text without ids", () => {
    expect(parseMessageIdList("see previous mail")).toEqual([]);
    expect(parseMessageIdList(undefined)).toEqual([]);
  });
});

describe("messageIdDomain / messageIdLocalPart", () => {
  it("split an id", () => {
    expect(messageIdDomain("<Part@Host.Example>")).toBe("host.example");
    expect(messageIdLocalPart("<Part@Host.Example>")).toBe("Part");
    expect(messageIdDomain("nodomain")).toBe("");
  });
});
