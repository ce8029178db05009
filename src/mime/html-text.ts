/**
 * HTML mail -> readable plain text for the agent: links kept as "text [url]", images (tracking
 * pixels, logos, spacers) dropped, style/script/head dropped, hidden preheaders dropped, blockquotes
 * quoted with "> " so that reply stripping sees the history the way it sees it in plain text.
 */
import { compile, type HtmlToTextOptions } from "html-to-text";

/** Upper bound of HTML we convert (characters); longer input is cut first. Bounds time and memory. */
export const MAX_HTML_CHARS = 8 * 1024 * 1024;

/**
 * Upper bound of tags we convert (a "<" that opens an element, an end tag, a comment or a
 * declaration); the HTML from the next one on is cut. html-to-text holds a DOM of the whole input,
 * about 250 bytes of heap a tag: MAX_HTML_CHARS alone would let 1 MB of `<tr><td>x</td></tr>` take
 * 50 MB and 8 MB of it 400 MB. 25,000 tags is several times a long newsletter or Outlook thread (and
 * Gmail clips a message's HTML at 102 kB); what is cut is the end, where the quoted history is.
 */
export const MAX_HTML_TAGS = 25_000;

/** HTML within MAX_HTML_CHARS and MAX_HTML_TAGS, and why it was cut (for a note) when it was. */
export function boundHtml(html: string): { html: string; cut?: string } {
  let end = Math.min(html.length, MAX_HTML_CHARS);
  let cut = end < html.length ? `over ${MAX_HTML_CHARS} characters` : undefined;
  const tag = /<[A-Za-z!/?]/g;
  let tags = 0;
  while (tag.exec(html) !== null && tag.lastIndex <= end) {
    if (++tags > MAX_HTML_TAGS) {
      end = tag.lastIndex - 2;
      cut = `over ${MAX_HTML_TAGS} tags`;
      break;
    }
  }
  return cut ? { html: html.slice(0, end), cut } : { html };
}

const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  preserveNewlines: false,
  decodeEntities: true,
  limits: { maxInputLength: MAX_HTML_CHARS, maxDepth: 256, maxChildNodes: undefined, ellipsis: "..." },
  selectors: [
    {
      selector: "a",
      options: {
        hideLinkHrefIfSameAsText: true,
        ignoreHref: false,
        linkBrackets: ["[", "]"],
        noAnchorUrl: true,
      },
    },
    { selector: "img", format: "skip" },
    { selector: "style", format: "skip" },
    { selector: "script", format: "skip" },
    { selector: "head", format: "skip" },
    { selector: "title", format: "skip" },
    { selector: "noscript", format: "skip" },
    { selector: "template", format: "skip" },
    { selector: "svg", format: "skip" },
    { selector: "[hidden]", format: "skip" },
    { selector: '[style*="display:none"]', format: "skip" },
    { selector: '[style*="display: none"]', format: "skip" },
    { selector: '[style*="mso-hide:all"]', format: "skip" },
    { selector: "h1", options: { uppercase: false } },
    { selector: "h2", options: { uppercase: false } },
    { selector: "h3", options: { uppercase: false } },
    { selector: "h4", options: { uppercase: false } },
    { selector: "h5", options: { uppercase: false } },
    { selector: "h6", options: { uppercase: false } },
    { selector: "th", options: { uppercase: false } },
    // Mail uses tables for layout far more than for data: render cells as blocks, not as ASCII art.
    { selector: "table", format: "block" },
    { selector: "tr", format: "block" },
    { selector: "td", format: "block" },
    { selector: "th", format: "block" },
    { selector: "hr", options: { length: 20 } },
  ],
};

const convert = compile(OPTIONS);

/** Tidies converter output: no trailing spaces, no runs of more than one empty line, no NBSP runs. */
function tidy(text: string): string {
  return text
    .replace(/\u00a0/g, " ")
    .replace(/[ \t]+$/gm, "")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}

/**
 * Converts an HTML body to plain text, within boundHtml's limits (what is beyond them is left out).
 * Pure; never throws (malformed HTML is parsed leniently; an input html-to-text cannot handle
 * yields the text with tags stripped).
 */
export function htmlToReadableText(html: string): string {
  const input = boundHtml(html).html;
  try {
    return tidy(convert(input));
  } catch {
    return htmlTagsStripped(input);
  }
}

/** The last resort for HTML that could not be converted: its tags replaced by blanks. Linear; pure. */
export function htmlTagsStripped(html: string): string {
  const input = html.length > MAX_HTML_CHARS ? html.slice(0, MAX_HTML_CHARS) : html;
  return tidy(input.replace(/<[^>]*>/g, " ").replace(/[ \t]{2,}/g, " "));
}
