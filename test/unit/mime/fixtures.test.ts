/**
 * The converter against our own fixture corpus (test/fixtures/mail, see its README for the schema of
 * expected.json): content, subject, addresses, attachments, threading headers and the extras each
 * fixture was written for.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { readDeliveryReport } from "../../../src/mime/delivery-status.js";
import { convertMessage, type ParsedInbound } from "../../../src/mime/index.js";

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/mail");

interface Expected {
  client: string;
  subject: string;
  from: string;
  content: string;
  attachments: number;
  verdict: "accept" | "auto-reply" | "bounce" | "list" | "no-reply-sender";
  thread: {
    messageId: string | null;
    inReplyTo: string | null;
    references: string[];
    conversation: string | null;
  };
  fromName?: string;
  to?: { address: string; name?: string }[];
  cc?: { address: string; name?: string }[];
  signature?: string;
  forwarded?: string;
  textSource?: string;
  charset?: string;
  attachmentNames?: string[];
  attachmentSha256?: string[];
  inlineContentIds?: string[];
  skipped?: { filename: string; code: string }[];
  calendar?: { method: string; alsoAttachment: boolean; uid: string }[];
  reportType?: string;
  reports?: string[];
  bounce?: { recipient: string; status: string; originalMessageId: string };
  listId?: string;
  messageIdGenerated?: boolean;
  charsetProblems?: boolean;
}

const expected = JSON.parse(await readFile(path.join(DIR, "expected.json"), "utf8")) as {
  messages: Record<string, Expected>;
};
const cases = Object.entries(expected.messages);
const parsed = new Map<string, ParsedInbound>();
async function convert(file: string): Promise<ParsedInbound> {
  let p = parsed.get(file);
  if (!p) {
    p = await convertMessage(await readFile(path.join(DIR, file)));
    parsed.set(file, p);
  }
  return p;
}

describe("mail fixtures", () => {
  it("has at least 40 fixtures, one entry per .eml", async () => {
    const { readdir } = await import("node:fs/promises");
    const files = (await readdir(DIR)).filter((f) => f.endsWith(".eml")).sort();
    expect(files.length).toBeGreaterThanOrEqual(40);
    expect(Object.keys(expected.messages).sort()).toEqual(files);
  });

  describe.each(cases)("%s", (file, e) => {
    it("content, subject, from", async () => {
      const p = await convert(file);
      expect(p.content.trim()).toBe(e.content.trim());
      expect(p.subject).toBe(e.subject);
      expect(p.from?.address).toBe(e.from);
      if (e.fromName) expect(p.from?.name).toBe(e.fromName);
      if (e.to) expect(p.to).toEqual(e.to);
      if (e.cc) expect(p.cc).toEqual(e.cc);
    });

    it("decodes without replacement characters", async () => {
      const p = await convert(file);
      const all = [p.text, p.subject, p.content, p.from?.name ?? "", ...p.to.map((a) => a.name ?? "")].join(
        "\n",
      );
      expect(all).not.toContain("\uFFFD");
      expect(p.charsetProblems.length > 0).toBe(e.charsetProblems === true);
    });

    it("threading headers", async () => {
      const p = await convert(file);
      if (e.thread.messageId === null) {
        expect(p.messageIdGenerated).toBe(true);
        expect(p.messageId).toMatch(/^generated-[0-9a-f]{64}@email-channel\.invalid$/);
      } else {
        expect(p.messageIdGenerated).toBe(false);
        expect(p.messageId).toBe(e.thread.messageId);
      }
      expect(p.inReplyTo ?? null).toBe(e.thread.inReplyTo);
      expect(p.references).toEqual(e.thread.references);
    });

    it("attachments", async () => {
      const p = await convert(file);
      expect(p.attachments).toHaveLength(e.attachments);
      if (e.attachmentNames) {
        const sorted = [...p.attachments].sort((a, b) => a.filename.localeCompare(b.filename));
        expect(sorted.map((a) => a.filename)).toEqual(e.attachmentNames);
        if (e.attachmentSha256) expect(sorted.map((a) => a.sha256)).toEqual(e.attachmentSha256);
      }
      for (const a of p.attachments) {
        expect(a.content?.length ?? a.size).toBe(a.size);
      }
      if (e.inlineContentIds) {
        expect(p.attachments.filter((a) => a.inline).map((a) => a.contentId)).toEqual(e.inlineContentIds);
      }
      expect(p.skippedAttachments.map((s) => ({ filename: s.filename, code: s.code }))).toEqual(
        e.skipped ?? [],
      );
    });

    it("what the fixture was written for", async () => {
      const p = await convert(file);
      if (e.signature !== undefined) expect(p.signature).toBe(e.signature);
      if (e.forwarded !== undefined) expect(p.forwarded?.trim()).toBe(e.forwarded.trim());
      expect(p.textSource).toBe(e.textSource ?? "plain");
      if (e.calendar) {
        expect(
          p.calendar.map((c) => ({
            method: c.method,
            alsoAttachment: c.alsoAttachment,
            uid: /^UID:(.+)$/m.exec(c.ics)?.[1]?.trim(),
          })),
        ).toEqual(e.calendar);
      } else {
        expect(p.calendar).toEqual([]);
      }
      expect(p.reportType).toBe(e.reportType);
      expect(p.reports.map((r) => r.contentType)).toEqual(e.reports ?? []);
      if (e.bounce) {
        const status = p.reports[0]?.text ?? "";
        expect(status).toMatch(
          new RegExp(`^Final-Recipient:\\s*rfc822;\\s*${e.bounce.recipient.replace(/\./g, "\\.")}$`, "mi"),
        );
        expect(status).toMatch(new RegExp(`^Status:\\s*${e.bounce.status.replace(/\./g, "\\.")}$`, "m"));
        // What the channel reads off it to find the bounced message in its outbox.
        const report = readDeliveryReport(p);
        expect(report?.returnedMessageId).toBe(e.bounce.originalMessageId);
        expect(report?.recipients).toEqual([
          expect.objectContaining({
            recipient: e.bounce.recipient.toLowerCase(),
            action: "failed",
            status: e.bounce.status,
          }),
        ]);
      } else {
        expect(readDeliveryReport(p)).toBeUndefined();
      }
      if (e.listId) expect(p.headers["list-id"]?.[0]).toContain(`<${e.listId}>`);
      if (e.verdict === "auto-reply") {
        expect(p.headers["auto-submitted"]?.[0] ?? p.headers["x-auto-response-suppress"]?.[0]).toBeTruthy();
      }
      if (e.charset) expect(p.contentTypeParams.charset?.toLowerCase()).toBe(e.charset);
    });
  });

  it("the q1-report thread is linked by its headers", async () => {
    const thread = cases.filter(([, e]) => e.thread.conversation === "q1-report");
    expect(thread).toHaveLength(4);
    const ids = new Set<string>();
    for (const [file] of thread) {
      const p = await convert(file);
      if (ids.size > 0) {
        const links = [p.inReplyTo, ...p.references].filter((x): x is string => !!x);
        expect(links.some((id) => ids.has(id))).toBe(true);
      }
      ids.add(p.messageId);
    }
  });
});
