import { describe, expect, it } from "vitest";
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
