/**
 * stripReply beyond the fixtures and the corpus: the option for forwards, the email-reply-parser
 * fallback, sign-offs and lists, broken wraps, and inputs that must not be slow.
 */
import { describe, expect, it } from "vitest";
import { stripReply } from "../../../src/mime/index.js";

describe("stripReply", () => {
  it("returns empty results for empty input", () => {
    expect(stripReply("")).toEqual({ content: "", quoted: "" });
    expect(stripReply("\n\n  \n")).toEqual({ content: "", quoted: "" });
  });

  it("treats a header block as a forward only when told the message is a forward", () => {
    const body =
      "FYI, see below.\n\nFrom: Shop <orders@example.com>\nSent: Monday\nTo: Carol <carol@example.com>\nSubject: Order 42\n\nYour order shipped.";
    expect(stripReply(body)).toMatchObject({ content: "FYI, see below." });
    expect(stripReply(body).forwarded).toBeUndefined();
    const fwd = stripReply(body, { forward: true });
    expect(fwd.content).toBe("FYI, see below.");
    expect(fwd.forwarded).toBe(
      "From: Shop <orders@example.com>\nSent: Monday\nTo: Carol <carol@example.com>\nSubject: Order 42\n\nYour order shipped.",
    );
  });

  it("asks email-reply-parser when our patterns find nothing (single 'From: Name <address>' line)", () => {
    const body = "Sounds good to me.\n\nFrom: Alice <alice@example.org>\n\nAre we still on for Friday?";
    expect(stripReply(body)).toEqual({
      content: "Sounds good to me.",
      quoted: "From: Alice <alice@example.org>\n\nAre we still on for Friday?",
    });
  });

  it("moves a dash sign-off to the signature but keeps list items and regards", () => {
    expect(stripReply("Thanks.\n\n-Abhishek Kona")).toMatchObject({
      content: "Thanks.",
      signature: "-Abhishek Kona",
    });
    expect(stripReply("Shopping list:\n\n- milk\n- bread").content).toBe("Shopping list:\n\n- milk\n- bread");
    expect(stripReply("See you.\n\nBest regards,\n\n//Jef").content).toBe(
      "See you.\n\nBest regards,\n\n//Jef",
    );
  });

  it("does not mistake prose for signatures", () => {
    const prose =
      "Sent from my desk, is much easier then my mobile phone.\n\nThe em dash below is not a signature\n—\nJohn";
    expect(stripReply(`Here it is\n\n${prose}`).content).toBe(`Here it is\n\n${prose}`);
  });

  it("reads a wrapped quote line without '>' as part of the quote", () => {
    const body =
      "Answer first.\n\nOn Mon, 4 Mar 2024 at 10:00, Bob <bob@example.org> wrote:\n> This quoted line is long enough to have been wrapped by the client at sixty\nchars without quoting\n>\n> more quote";
    expect(stripReply(body).content).toBe("Answer first.");
  });

  it("keeps the quotes of an inline reply but drops its attribution line", () => {
    const body =
      "On 4 Mar 2024, at 10:00, Bob <bob@example.org> wrote:\n> Time?\n\n10:00.\n\n> Place?\n\nRoom 4.\n\n> Anything else?";
    expect(stripReply(body).content).toBe("> Time?\n\n10:00.\n\n> Place?\n\nRoom 4.");
  });

  it("handles wrapped attributions without eating the line above", () => {
    const body = "Thanks\nOn Tue, Mar 5, 2024 at 9:00 AM Bob Example <bob@example.org>\nwrote:\n> old";
    expect(stripReply(body).content).toBe("Thanks");
  });

  // No timing assertion (STYLE.md): catastrophic backtracking shows as the suite's test timeout.
  it("finishes on pathological input", () => {
    const longLine = `${"On 1 2 3 wrote <x@y> ".repeat(20_000)}:`;
    const manyHeaders = "On Monday, someone said something:\n".repeat(5_000);
    const deepQuotes = `${">".repeat(50_000)} x\n`.repeat(20);
    for (const text of [longLine, manyHeaders, deepQuotes, "a".repeat(1_000_000)]) {
      const r = stripReply(text);
      expect(r.content.length + r.quoted.length).toBeGreaterThan(0);
    }
  });
});
