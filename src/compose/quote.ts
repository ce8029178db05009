/**
 * Quoting the original below the answer, the way mail clients do ("bottom quoting" under a top
 * reply, as Gmail, Outlook and Apple Mail write it): an attribution line, then the original with
 * `> ` in front of each line in text/plain, and inside `<blockquote type="cite">` in text/html
 * (the markup Thunderbird and Apple Mail use, which clients fold away).
 *
 * The original is untrusted text: it is never rendered as Markdown or HTML, only escaped.
 */
import { InputError } from "../errors/index.js";
import { cleanHeaderText } from "./headers.js";
import { escapeHtml } from "./markdown.js";
import type { QuoteSource } from "./types.js";

/** Default longest quoted original in characters. */
export const DEFAULT_MAX_QUOTE_CHARS = 20_000;

/** `Sat, 21 Nov 2026 at 08:25` in the given IANA time zone (24-hour clock, English names). */
export function formatQuoteDate(date: Date, timeZone: string): string {
  let parts: Intl.DateTimeFormatPart[];
  try {
    parts = new Intl.DateTimeFormat("en-GB", {
      timeZone,
      weekday: "short",
      day: "numeric",
      month: "short",
      year: "numeric",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).formatToParts(date);
  } catch (cause) {
    throw new InputError(`unknown time zone ${JSON.stringify(timeZone)}`, {
      code: "TIMEZONE_INVALID",
      stage: "mime",
      cause,
    });
  }
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("weekday")}, ${part("day")} ${part("month")} ${part("year")} at ${part("hour")}:${part("minute")}`;
}

/** `On <date>, <from> wrote:` (`<from> wrote:` when the date is unknown). */
export function attributionLine(source: QuoteSource, timeZone: string): string {
  const from = cleanHeaderText(source.from, 300) || "someone";
  const date = source.date && !Number.isNaN(source.date.getTime()) ? source.date : undefined;
  return date ? `On ${formatQuoteDate(date, timeZone)}, ${from} wrote:` : `${from} wrote:`;
}

/** The original's lines, normalised and cut to `maxChars` (the cut is marked with `[...]`). */
export function quotedLines(text: string, maxChars: number): string[] {
  let body = text
    .replace(/\r\n?/g, "\n")
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "")
    .replace(/[ \t]+$/gm, "");
  let cut = false;
  if (body.length > maxChars) {
    body = body.slice(0, maxChars);
    cut = true;
  }
  const lines = body.split("\n");
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  if (cut) lines.push("[...]");
  return lines;
}

/** The text/plain quote block: attribution, then `> ` lines (`>` alone for an empty line). */
export function quotePlain(source: QuoteSource, timeZone: string, maxChars: number): string {
  const lines = quotedLines(source.text, maxChars).map((line) => (line === "" ? ">" : `> ${line}`));
  return `${attributionLine(source, timeZone)}\n${lines.join("\n")}\n`;
}

/** The text/html quote block: attribution, then the escaped original in a cite blockquote. */
export function quoteHtml(source: QuoteSource, timeZone: string, maxChars: number): string {
  const body = quotedLines(source.text, maxChars).map(escapeHtml).join("<br>\n");
  return (
    `<div class="email-channel-quote"><p>${escapeHtml(attributionLine(source, timeZone))}</p>\n` +
    '<blockquote type="cite" style="margin:0 0 0 0.8ex;border-left:1px solid #ccc;padding-left:1ex">\n' +
    `${body}\n</blockquote></div>`
  );
}
