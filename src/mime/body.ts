/**
 * Which parts are the message's body, and the body's text: plain preferred inside
 * multipart/alternative, HTML converted only where no plain version exists, parts of
 * multipart/mixed joined in order (Apple Mail splits a body around inline images), and an inline
 * message/rfc822 rendered as a forwarded message with its header lines.
 */
import { decodeHeaderLines } from "./headers.js";
import type { MimeNode } from "./parser.js";

/** HTML -> readable text (html-text.ts), in this thread or elsewhere (see ConvertPool). */
export type HtmlToText = (html: string) => Promise<string>;

/** Report parts (RFC 3464, RFC 6533, RFC 3798, RFC 5965): surfaced as `reports`, not attachments. */
export const REPORT_TYPES = new Set([
  "message/delivery-status",
  "message/global-delivery-status",
  "message/disposition-notification",
  "message/global-disposition-notification",
  "message/feedback-report",
]);

export const CALENDAR_TYPES = new Set(["text/calendar", "application/ics"]);

/** Signature parts of multipart/signed (RFC 1847): not attachments anyone needs. */
const SIGNATURE_TYPES = new Set([
  "application/pgp-signature",
  "application/pkcs7-signature",
  "application/x-pkcs7-signature",
]);

/** RFC 2046 §5.1.5: in multipart/digest a part without Content-Type is a message/rfc822. */
export function isDigestMessage(node: MimeNode): boolean {
  return (
    node.parent?.contentType === "multipart/digest" && !node.headerLines.some((l) => l.key === "content-type")
  );
}

export type LeafRole = "body" | "calendar" | "report" | "signature" | "attachment";

/** Decides what a leaf part is, from its own headers and its place in the tree. */
export function leafRole(node: MimeNode): LeafRole {
  if (isDigestMessage(node)) return "attachment";
  const type = node.contentType;
  if ((type === "text/plain" || type === "text/html") && node.disposition !== "attachment" && !node.filename)
    return "body";
  if (CALENDAR_TYPES.has(type)) return "calendar";
  if (REPORT_TYPES.has(type)) return "report";
  if (SIGNATURE_TYPES.has(type) && node.parent?.contentType === "multipart/signed") return "signature";
  return "attachment";
}

interface Rendered {
  plain?: string;
  html?: string;
}

const FORWARD_FIELDS: [string, string][] = [
  ["from", "From"],
  ["date", "Date"],
  ["subject", "Subject"],
  ["to", "To"],
  ["cc", "Cc"],
];

/** The header block Gmail puts above a forwarded message, built from the embedded message's headers. */
function forwardHeader(node: MimeNode, onProblem: (p: string) => void): string {
  const { decoded } = decodeHeaderLines(node.headerLines, node.charset, onProblem);
  const lines = FORWARD_FIELDS.filter(([key]) => decoded[key]?.[0]).map(
    ([key, label]) => `${label}: ${decoded[key]?.[0]}`,
  );
  return ["---------- Forwarded message ---------", ...lines, ""].join("\n");
}

function joinParts(parts: (string | undefined)[]): string | undefined {
  const present = parts.filter((p): p is string => p !== undefined && p.trim() !== "");
  return present.length ? present.join("\n\n") : undefined;
}

async function render(node: MimeNode, onProblem: (p: string) => void, toText: HtmlToText): Promise<Rendered> {
  if (node.children.length === 0) {
    if (node.text === undefined) return {};
    return node.contentType === "text/html" ? { html: node.text } : { plain: node.text };
  }
  if (node.contentType === "message/rfc822") {
    const inner = await render(node.children[0] as MimeNode, onProblem, toText);
    const head = forwardHeader(node.children[0] as MimeNode, onProblem);
    const plain = inner.plain ?? (inner.html !== undefined ? await toText(inner.html) : "");
    return { plain: `${head}\n${plain}`, ...(inner.html !== undefined ? { html: inner.html } : {}) };
  }
  const children: Rendered[] = [];
  for (const c of node.children) children.push(await render(c, onProblem, toText));
  if (node.contentType === "multipart/alternative") {
    // RFC 2046 §5.1.4: alternatives in increasing faithfulness; the last HTML is the richest.
    const plain = children.find((c) => c.plain !== undefined)?.plain;
    const html = [...children].reverse().find((c) => c.html !== undefined)?.html;
    return { ...(plain !== undefined ? { plain } : {}), ...(html !== undefined ? { html } : {}) };
  }
  const anyPlain = children.some((c) => c.plain !== undefined);
  let plain: string | undefined;
  if (anyPlain) {
    const texts: (string | undefined)[] = [];
    for (const c of children)
      texts.push(c.plain ?? (c.html !== undefined ? await toText(c.html) : undefined));
    plain = joinParts(texts);
  }
  const html = joinParts(children.map((c) => c.html));
  return { ...(plain !== undefined ? { plain } : {}), ...(html !== undefined ? { html } : {}) };
}

export interface BodyText {
  text: string;
  textSource: "plain" | "html" | "none";
  html?: string;
}

/** The readable text of a parsed tree whose body leaves carry `text`; `toText` converts its HTML. */
export async function bodyText(
  root: MimeNode,
  onProblem: (p: string) => void,
  toText: HtmlToText,
): Promise<BodyText> {
  const r = await render(root, onProblem, toText);
  const html = r.html;
  if (r.plain !== undefined)
    return { text: r.plain, textSource: "plain", ...(html !== undefined ? { html } : {}) };
  if (html !== undefined) return { text: await toText(html), textSource: "html", html };
  return { text: "", textSource: "none" };
}
