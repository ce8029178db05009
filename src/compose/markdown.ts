/**
 * The body: the agent writes Markdown; the message carries it twice (multipart/alternative,
 * RFC 2046 §5.1.4, plainest first).
 *
 * text/plain is the Markdown source itself, lightly normalised (line ends, trailing spaces, control
 * characters). Markdown was designed to read well as plain text, and a rendering to plain text would
 * lose link targets and table structure that the source keeps; people whose client shows the plain
 * part, and agents reading the thread back, see exactly what the agent wrote.
 *
 * text/html is rendered with `marked` (GFM, single newlines kept as line breaks, because in mail a
 * newline the writer typed is a line break the reader expects) and sanitised with `sanitize-html`:
 * an allow-list of text tags, no scripts, styles, forms, frames or event handlers, links only to
 * http(s), mailto and tel, and images only from `cid:` (inline attachments of this same message):
 * nothing in the HTML loads anything from the network when it is opened.
 */
import { Marked } from "marked";
import sanitizeHtml from "sanitize-html";

const marked = new Marked({ gfm: true, breaks: true, async: false });

const ALLOWED_TAGS = [
  "p",
  "br",
  "hr",
  "h1",
  "h2",
  "h3",
  "h4",
  "h5",
  "h6",
  "blockquote",
  "pre",
  "code",
  "em",
  "strong",
  "del",
  "s",
  "b",
  "i",
  "u",
  "sub",
  "sup",
  "kbd",
  "mark",
  "small",
  "span",
  "div",
  "ul",
  "ol",
  "li",
  "dl",
  "dt",
  "dd",
  "table",
  "thead",
  "tbody",
  "tfoot",
  "tr",
  "th",
  "td",
  "caption",
  "a",
  "img",
];

const SANITIZE: sanitizeHtml.IOptions = {
  allowedTags: ALLOWED_TAGS,
  allowedAttributes: {
    a: ["href", "title", "rel"],
    img: ["src", "alt", "title", "width", "height"],
    ol: ["start"],
    th: ["align", "colspan", "rowspan"],
    td: ["align", "colspan", "rowspan"],
  },
  allowedSchemes: ["http", "https", "mailto", "tel"],
  // Only inline parts of this message: a remote image is a read receipt (and a tracking pixel).
  allowedSchemesByTag: { img: ["cid"] },
  allowedSchemesAppliedToAttributes: ["href", "src"],
  allowProtocolRelative: false,
  disallowedTagsMode: "discard",
  // An image whose source was refused is an empty box: drop it.
  exclusiveFilter: (frame) => frame.tag === "img" && !frame.attribs.src,
  transformTags: {
    a: (tagName, attribs) => ({ tagName, attribs: { ...attribs, rel: "noopener noreferrer" } }),
    // GFM task lists render as checkboxes; a form control has no place in mail, a ballot box does.
    input: (_tagName, attribs) => ({
      tagName: "span",
      attribs: {},
      text: attribs.checked === undefined ? "\u2610 " : "\u2611 ",
    }),
  },
};

// C0 controls except TAB and LF, DEL, C1 controls: never meaningful in a mail body.
const BODY_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Line ends to LF, control characters out, trailing spaces off, one final newline. */
export function normalizeMarkdown(markdown: string): string {
  const lines = markdown
    .replace(/\r\n?/g, "\n")
    .replace(BODY_CONTROL, "")
    .split("\n")
    .map((line) => line.replace(/[ \t]+$/, ""));
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  while (lines.length > 0 && lines[0] === "") lines.shift();
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** Sanitises an HTML fragment with the composer's allow-list. */
export function sanitizeFragment(html: string): string {
  return sanitizeHtml(html, SANITIZE);
}

/** Markdown -> sanitised HTML fragment (no document wrapper). */
export function renderMarkdownHtml(markdown: string): string {
  const html = marked.parse(normalizeMarkdown(markdown), { async: false });
  return sanitizeFragment(html);
}

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** Wraps a body fragment into the small HTML document mail clients expect. */
export function htmlDocument(fragment: string): string {
  return [
    "<!DOCTYPE html>",
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>',
    `<body>${fragment}</body></html>`,
    "",
  ].join("\n");
}
