import { describe, expect, it } from "vitest";
import {
  attributionLine,
  composeBodies,
  formatQuoteDate,
  normalizeMarkdown,
  quotePlain,
  renderMarkdownHtml,
} from "../../../src/compose/index.js";
import { InputError } from "../../../src/errors/index.js";

describe("normalizeMarkdown (the text/plain part)", () => {
  it("turns CRLF and CR into LF, trims trailing spaces and blank edges, ends with one newline", () => {
    expect(normalizeMarkdown("\r\n\r\nHi  \r\nthere\t\rend\r\n\r\n\r\n")).toBe("Hi\nthere\nend\n");
  });

  it("drops control characters but keeps tabs and Unicode text", () => {
    expect(normalizeMarkdown("a\u0000b\u001bc\td\u0085e ü 🙂")).toBe("abc\tde ü 🙂\n");
  });

  it("is empty for empty input", () => {
    expect(normalizeMarkdown("   \n\n")).toBe("");
  });
});

describe("renderMarkdownHtml", () => {
  it("renders GFM with single newlines as line breaks", () => {
    const html = renderMarkdownHtml("line one\nline two\n\n~~gone~~ **bold**");
    expect(html).toContain("line one<br />");
    expect(html).toContain("<del>gone</del>");
    expect(html).toContain("<strong>bold</strong>");
  });

  it("renders task lists as ballot boxes, not form controls", () => {
    const html = renderMarkdownHtml("- [x] done\n- [ ] open");
    expect(html).not.toContain("<input");
    expect(html).toContain("\u2611");
    expect(html).toContain("\u2610");
  });

  it("keeps code blocks escaped", () => {
    const html = renderMarkdownHtml("```\n<script>x</script>\n```");
    expect(html).toContain("&lt;script&gt;x&lt;/script&gt;");
    expect(html).not.toContain("<script>");
  });
});

describe("quoting the original", () => {
  const source = {
    from: "Alice <alice@example.com>",
    date: new Date("2026-03-29T00:30:00Z"),
    text: "Hi\r\n\r\n> old\nbye\n\n",
  };

  it("formats the attribution date in the configured time zone", () => {
    expect(formatQuoteDate(source.date, "UTC")).toBe("Sun, 29 Mar 2026 at 00:30");
    // The night the clocks go forward in Europe: 00:30 UTC is 01:30 CET.
    expect(formatQuoteDate(source.date, "Europe/Berlin")).toBe("Sun, 29 Mar 2026 at 01:30");
    expect(formatQuoteDate(source.date, "America/New_York")).toBe("Sat, 28 Mar 2026 at 20:30");
  });

  it("rejects an unknown time zone", () => {
    expect(() => formatQuoteDate(source.date, "Mars/Olympus")).toThrow(InputError);
  });

  it("leaves the date out when it is unknown", () => {
    expect(attributionLine({ from: "Alice", text: "" }, "UTC")).toBe("Alice wrote:");
  });

  it("prefixes every line with '> ' and empty lines with '>'", () => {
    expect(quotePlain(source, "UTC", 1000)).toBe(
      "On Sun, 29 Mar 2026 at 00:30, Alice <alice@example.com> wrote:\n> Hi\n>\n> > old\n> bye\n",
    );
  });

  it("cuts a long original and marks the cut", () => {
    const text = quotePlain({ from: "A", text: "x".repeat(50) }, "UTC", 10);
    expect(text).toBe("A wrote:\n> xxxxxxxxxx\n> [...]\n");
  });

  it("is off unless asked for, and goes below the answer when asked", () => {
    expect(composeBodies({ markdown: "Answer" }).text).toBe("Answer\n");
    const both = composeBodies({ markdown: "Answer", quote: source }, { timeZone: "UTC" });
    expect(both.text).toBe(
      "Answer\n\nOn Sun, 29 Mar 2026 at 00:30, Alice <alice@example.com> wrote:\n> Hi\n>\n> > old\n> bye\n",
    );
    expect(both.html.indexOf("<p>Answer</p>")).toBeLessThan(both.html.indexOf("<blockquote"));
  });
});
