/**
 * Test-only reader: parses an .eml with mailparser's simpleParser and maps it onto the shapes the
 * guards and threading take, the way the MIME converter's ParsedInbound will: ids without brackets,
 * addresses as { address, name }, headers as lower-cased name -> unfolded raw values, topmost first.
 */
import { readFile } from "node:fs/promises";
import { type AddressObject, simpleParser } from "mailparser";
import type { GuardInput } from "../../../../src/guards/index.js";
import type { AddressLike, ThreadInput } from "../../../../src/threading/index.js";

export interface FixtureMessage {
  messageId: string;
  inReplyTo?: string;
  references: string[];
  from?: AddressLike;
  replyTo: AddressLike[];
  to: AddressLike[];
  cc: AddressLike[];
  headers: Record<string, string[]>;
  contentType: string;
  subject: string;
}

function addresses(field: AddressObject | AddressObject[] | undefined): AddressLike[] {
  const objects = field === undefined ? [] : Array.isArray(field) ? field : [field];
  const out: AddressLike[] = [];
  const walk = (list: AddressObject["value"]): void => {
    for (const a of list) {
      if (a.group) walk(a.group);
      else if (a.address) out.push({ address: a.address, name: a.name || undefined });
    }
  };
  for (const o of objects) walk(o.value);
  return out;
}

function stripBrackets(id: string | undefined): string | undefined {
  return id?.trim().replace(/^<|>$/g, "");
}

export async function readEml(path: string): Promise<FixtureMessage> {
  let raw = await readFile(path);
  // mbox "From " envelope line (five corpus files start with one).
  if (raw.subarray(0, 5).toString("latin1") === "From ") raw = raw.subarray(raw.indexOf(0x0a) + 1);
  const parsed = await simpleParser(raw, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
  });
  const headers: Record<string, string[]> = {};
  for (const { key, line } of parsed.headerLines) {
    const colon = line.indexOf(":");
    const value = (colon < 0 ? "" : line.slice(colon + 1)).replace(/\r?\n(?=[ \t])/g, "").trim();
    const name = key.toLowerCase();
    const list = headers[name] ?? [];
    list.push(value);
    headers[name] = list;
  }
  const refs = parsed.references;
  const references = (refs === undefined ? [] : Array.isArray(refs) ? refs : refs.split(/\s+/))
    .map((r) => stripBrackets(r) ?? "")
    .filter((r) => r !== "");
  const from = addresses(parsed.from)[0];
  return {
    messageId: stripBrackets(parsed.messageId) ?? "",
    inReplyTo: stripBrackets(parsed.inReplyTo),
    references,
    from,
    replyTo: addresses(parsed.replyTo),
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    headers,
    contentType: headers["content-type"]?.[0] ?? "text/plain",
    subject: parsed.subject ?? "",
  };
}

export function toThreadInput(m: FixtureMessage): ThreadInput {
  return {
    messageId: m.messageId,
    inReplyTo: m.inReplyTo,
    references: m.references,
    from: m.from,
    to: m.to,
    cc: m.cc,
    headers: m.headers,
    subject: m.subject,
  };
}

export function toGuardInput(m: FixtureMessage, conversationId?: string): GuardInput {
  return {
    from: m.from,
    replyTo: m.replyTo,
    to: m.to,
    cc: m.cc,
    headers: m.headers,
    contentType: m.contentType,
    messageId: m.messageId,
    subject: m.subject,
    conversationId,
  };
}
