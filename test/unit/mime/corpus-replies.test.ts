/**
 * stripReply against the reply bodies of the shared corpus: discourse trimmed/embedded/before,
 * crisp and github EXPECTED.json, talon replies (plain messages and HTML bodies).
 *
 * Where our semantics differ from upstream the test asserts OURS and says why:
 * - Quote attribution lines ("On … wrote:") are dropped even when the quote they introduce is kept
 *   as context of an inline answer (github keeps them in a visible quoted fragment).
 * - Signatures are removed: talon keeps "Sent from my iPhone" and Sparrow's "-- " block in its
 *   reply text; we return them in `signature` (content + signature still equal talon's reply).
 * - Talon's HTML-output cases (htmlWhitespaceless) check stripped HTML, which we do not produce; we
 *   check the text we do produce. reply-separated-by-hr keeps "Bob": the sender's name above the
 *   rule is part of what the person wrote (talon drops it with the quoted div).
 */
import { afterAll, describe, expect, it } from "vitest";
import { convertMessage, htmlToReadableText, stripReply } from "../../../src/mime/index.js";
import {
  corpusBytes,
  corpusPresent,
  corpusText,
  expectedOf,
  manifest,
  noSpace,
  Tally,
} from "./corpus-support.js";

const tally = new Tally();
afterAll(() => tally.print("stripReply on corpus reply bodies (pass/total per source):"));

describe.skipIf(!corpusPresent)("discourse email_reply_trimmer", () => {
  const bodies = manifest().filter((f) => f.source === "discourse-email_reply_trimmer");
  it.each(bodies.map((f) => [f.file, f] as const))("%s", (_, f) => {
    const done = tally.start("discourse");
    const result = stripReply(corpusText(f.file));
    // Upstream compares after .strip() on both sides.
    expect(result.content.trim()).toBe(corpusText(f.expected?.trimmed as string).trim());
    if (f.expected?.embedded) expect(result.forwarded?.trim()).toBe(corpusText(f.expected.embedded).trim());
    const before = f.expected?.before ? corpusText(f.expected.before).trim() : "";
    if (before) expect(result.content.trim()).toBe(before);
    done();
  });
});

interface CrispCase {
  replyTrimmed?: string;
  visibleText?: string;
  firstFragment?: string;
  fragments?: { quoted: boolean[] };
}

describe.skipIf(!corpusPresent)("crisp email-reply-parser", () => {
  const { cases } = expectedOf<CrispCase>("crisp-email-reply-parser");
  it.each(Object.entries(cases))("%s", (file, e) => {
    const done = tally.start("crisp");
    const text = corpusText(`crisp-email-reply-parser/${file}`);
    const { content, quoted } = stripReply(text);
    if (e.replyTrimmed !== undefined) expect(content).toBe(e.replyTrimmed);
    // visibleText/firstFragment are exact upstream; our content is trimmed by definition.
    if (e.visibleText !== undefined) expect(content).toBe(e.visibleText.trim());
    if (e.firstFragment !== undefined) expect(content).toBe(e.firstFragment.trim());
    if (e.fragments?.quoted.every((q) => !q)) {
      // Lines that only look like quote headers: nothing is quoted, nothing removed.
      expect(content).toBe(text.trim());
      expect(quoted).toBe("");
    }
    done();
  });
});

interface GithubCase {
  reply?: string;
  fragments?: {
    hidden: boolean[];
    quoted: boolean[];
    signature?: boolean[];
    match?: [number, string][];
    contains?: [number, string][];
    equals?: [number, string][];
  };
}

const ATTRIBUTION = "^On [^\\:]+\\:";

describe.skipIf(!corpusPresent)("github email_reply_parser", () => {
  const { cases } = expectedOf<GithubCase>("github-email_reply_parser");
  it.each(Object.entries(cases))("%s", (file, e) => {
    const done = tally.start("github");
    const { content } = stripReply(corpusText(`github-email_reply_parser/${file}`));
    if (e.reply !== undefined) expect(content).toBe(e.reply);
    const fr = e.fragments;
    if (fr) {
      for (const [i, pattern] of fr.match ?? []) {
        const re = new RegExp(pattern, "m");
        if (pattern === ATTRIBUTION)
          expect(content).not.toMatch(re); // ours: attribution lines dropped
        else if (!fr.hidden[i]) expect(content).toMatch(re);
        else if (!fr.quoted[i] || !pattern.startsWith("^>")) expect(content).not.toMatch(re);
      }
      for (const [i, s] of fr.contains ?? []) {
        if (fr.hidden[i]) expect(content).not.toContain(s);
        else expect(content).toContain(s);
      }
      for (const [i, s] of fr.equals ?? []) {
        if (!s.trim()) continue;
        if (fr.hidden[i]) expect(content).not.toContain(s.trim());
        else expect(content).toContain(s.trim());
      }
    }
    done();
  });
});

interface TalonCase {
  reply?: string;
  replyText?: string;
  htmlWhitespaceless?: string;
  replyNonEmpty?: boolean;
  replyExcludes?: string[];
}

describe.skipIf(!corpusPresent)("talon", () => {
  const { cases } = expectedOf<TalonCase>("talon");
  it.each(Object.entries(cases))("%s", async (file, e) => {
    const done = tally.start("talon");
    const path = `talon/${file}`;
    if (file.startsWith("standard_replies/")) {
      const parsed = await convertMessage(corpusBytes(path));
      expect(parsed.content).toBe("Hello");
      // talon keeps signatures in the reply; we move them to `signature`, losing nothing.
      expect(noSpace(`${parsed.content}${parsed.signature ?? ""}`)).toBe(noSpace(e.reply as string));
    } else if (e.replyText !== undefined) {
      const { content } = stripReply(htmlToReadableText(corpusText(path)));
      expect(noSpace(content)).toBe(noSpace(e.replyText));
    } else if (file === "OLK_SRC_BODY_SECTION.html") {
      expect(stripReply(htmlToReadableText(corpusText(path))).content).toBe("Reply");
    } else if (file === "reply-separated-by-hr.html") {
      expect(stripReply(htmlToReadableText(corpusText(path))).content).toBe("Hi\nthere\nBob");
    } else if (e.replyNonEmpty) {
      // Upstream feeds the whole raw file to the plain-text extractor; we do that and convert it too.
      for (const content of [
        stripReply(corpusText(path)).content,
        (await convertMessage(corpusBytes(path))).content,
      ]) {
        expect(content.trim()).not.toBe("");
        for (const word of e.replyExcludes ?? []) expect(content).not.toContain(word);
      }
    } else {
      throw new Error(`unhandled talon case ${file}`);
    }
    done();
  });
});
