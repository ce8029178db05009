import { describe, expect, it } from "vitest";
import { boundHtml, MAX_HTML_CHARS, MAX_HTML_TAGS } from "../../../src/mime/html-text.js";
import { htmlToReadableText } from "../../../src/mime/index.js";

describe("htmlToReadableText", () => {
  it("keeps links as 'text [url]' and plain urls once", () => {
    const html =
      '<p>See <a href="https://example.org/doc">the doc</a> or https://example.org/x and <a href="https://example.org/y">https://example.org/y</a></p>';
    expect(htmlToReadableText(html)).toBe(
      "See the doc [https://example.org/doc] or https://example.org/x and https://example.org/y",
    );
  });

  it("drops images, tracking pixels, styles, scripts, head and hidden preheaders", () => {
    const html =
      '<html><head><title>T</title><style>p{color:red}</style></head><body><div style="display:none">preheader</div>' +
      '<span style="display: none">also hidden</span><script>alert(1)</script><p>Visible <img src="cid:x" alt="logo">text</p>' +
      '<img src="https://t.example.org/p.gif" width="1" height="1"></body></html>';
    expect(htmlToReadableText(html)).toBe("Visible text");
  });

  it("quotes blockquotes with '> ' so reply stripping sees them", () => {
    expect(htmlToReadableText("<div>Yes.</div><blockquote>Can you?<br>Please.</blockquote>")).toBe(
      "Yes.\n\n> Can you?\n> Please.",
    );
  });

  it("decodes entities and non-breaking spaces, keeps headings in their case", () => {
    expect(htmlToReadableText("<h1>Caf&eacute; &amp; Bar</h1><p>a&nbsp;b &lt;c&gt;</p>")).toBe(
      "Café & Bar\n\na b <c>",
    );
  });

  it("renders layout tables as blocks and lists with bullets", () => {
    expect(
      htmlToReadableText(
        "<table><tr><td>Left</td><td>Right</td></tr></table><ul><li>one</li><li>two</li></ul>",
      ),
    ).toBe("Left\n\nRight\n\n * one\n * two");
  });

  it("copes with broken HTML", () => {
    expect(htmlToReadableText("<div><p>unclosed <b>bold <i>text</div></span>")).toBe("unclosed bold text");
    expect(htmlToReadableText("")).toBe("");
  });
});

describe("boundHtml", () => {
  const rows = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => `<tr><td>r${from + i}</td></tr>`).join("");

  it("leaves HTML within the limits whole; a '<' that opens no tag is text, not a tag", () => {
    const html = `<table>${rows(100)}</table>`;
    expect(boundHtml(html)).toEqual({ html });
    const text = `<p>${"a < b, 3 <= 4, <3 ".repeat(MAX_HTML_TAGS)}</p>`;
    expect(boundHtml(text)).toEqual({ html: text });
  });

  it("cuts just before the tag after MAX_HTML_TAGS and says why", () => {
    // 4 tags a row: the cut falls right before row MAX_HTML_TAGS / 4.
    const html = rows(MAX_HTML_TAGS / 4) + rows(10, MAX_HTML_TAGS / 4);
    const bounded = boundHtml(html);
    expect(bounded.cut).toBe(`over ${MAX_HTML_TAGS} tags`);
    expect(bounded.html).toBe(rows(MAX_HTML_TAGS / 4));
  });

  it("cuts at MAX_HTML_CHARS when that comes first", () => {
    const html = `<p>${"x".repeat(MAX_HTML_CHARS)}</p>`;
    expect(boundHtml(html)).toEqual({
      html: html.slice(0, MAX_HTML_CHARS),
      cut: `over ${MAX_HTML_CHARS} characters`,
    });
  });

  it("bounds what html-to-text is given: 200,000 tags convert as their first 25,000", () => {
    const html = `<table>${rows(50_000)}</table>`;
    const lines = htmlToReadableText(html).split(/\n+/);
    expect(lines[0]).toBe("r0");
    expect(lines.length).toBeLessThanOrEqual(MAX_HTML_TAGS / 4);
    expect(lines.at(-1)).toBe(`r${lines.length - 1}`);
  });
});
