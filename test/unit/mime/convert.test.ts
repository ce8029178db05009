/**
 * convertMessage: limits and MIME bombs, unparseable input, stream input, abort, and attachments on
 * disk (folder naming, containment, policy).
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AbortedError, InputError } from "../../../src/errors/index.js";
import { resolveInside } from "../../../src/mime/attachments.js";
import { MAX_HTML_TAGS } from "../../../src/mime/html-text.js";
import { attachmentFolderName, convertMessage } from "../../../src/mime/index.js";
import { bigBody, deepNesting, hugeHeader, manyParts } from "./support/bombs.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/mail");
const fixture = (name: string) => readFile(path.join(FIXTURES, name));

async function rejection(p: Promise<unknown>): Promise<InputError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe("limits", () => {
  it("rejects 10,000 parts with MIME_TOO_MANY_PARTS", async () => {
    const error = await rejection(convertMessage(manyParts(10_000).stream));
    expect(error).toMatchObject({
      code: "MIME_TOO_MANY_PARTS",
      stage: "mime",
      kind: "input",
      retryable: false,
    });
  });

  it("stops reading a part bomb once the limit is hit (bounded memory)", async () => {
    const bomb = manyParts(200_000);
    expect((await rejection(convertMessage(bomb.stream))).code).toBe("MIME_TOO_MANY_PARTS");
    expect(bomb.pulled()).toBeLessThan(bomb.total / 2);
  });

  it("rejects 100 levels of nesting with MIME_TOO_DEEP, and accepts them when allowed", async () => {
    const error = await rejection(convertMessage(deepNesting(100).stream));
    expect(error.code).toBe("MIME_TOO_DEEP");
    const allowed = await convertMessage(deepNesting(100).stream, { maxDepth: 120 });
    expect(allowed.text).toBe("deep");
  });

  it("rejects a 2 MiB header line with MIME_HEADER_TOO_LARGE", async () => {
    const bomb = hugeHeader(2 * 1024 * 1024);
    expect((await rejection(convertMessage(bomb.stream))).code).toBe("MIME_HEADER_TOO_LARGE");
    expect(bomb.pulled()).toBeLessThan(bomb.total + 1024);
  });

  it("rejects a message over maxMessageBytes with MIME_TOO_LARGE and stops reading", async () => {
    const bomb = bigBody(8 * 1024 * 1024);
    const error = await rejection(convertMessage(bomb.stream, { maxMessageBytes: 1024 * 1024 }));
    expect(error.code).toBe("MIME_TOO_LARGE");
    expect(bomb.pulled()).toBeLessThan(2 * 1024 * 1024);
  });

  it("converts an HTML body up to MAX_HTML_TAGS, with a note saying it was cut", async () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => `<tr><td>row ${i}</td></tr>`).join("");
    const raw = Buffer.from(
      `From: a@example.org\r\nTo: b@example.org\r\nSubject: table\r\nMessage-ID: <t@example.org>\r\nContent-Type: text/html\r\n\r\n<p>Hello</p><table>${rows}</table>`,
    );
    const p = await convertMessage(raw);
    expect(p.content.startsWith("Hello")).toBe(true);
    expect(p.text).toContain("row 6000\n");
    expect(p.text).not.toContain("row 6300");
    expect(p.notes).toEqual([`HTML part cut (over ${MAX_HTML_TAGS} tags): the rest of it was not converted`]);
  });

  it("truncates text beyond maxTextBytes with a note", async () => {
    const p = await convertMessage(bigBody(1024 * 1024).stream, { maxTextBytes: 64 * 1024 });
    expect(p.text.length).toBeLessThanOrEqual(64 * 1024);
    expect(p.notes).toEqual([
      expect.stringMatching(/^text\/plain part truncated at maxTextBytes \(65536 of \d+ bytes\)$/),
    ]);
  });
});

describe("unparseable input", () => {
  it.each([
    ["empty", Buffer.alloc(0), "message is empty"],
    ["a PNG", Buffer.from("89504e470d0a1a0a0000000d49484452", "hex"), "message has no header fields"],
    ["plain words", Buffer.from("hello there, this is not a message\n"), "message has no header fields"],
  ])("%s -> MIME_UNPARSEABLE", async (_, raw, message) => {
    const error = await rejection(convertMessage(raw));
    expect(error).toMatchObject({ code: "MIME_UNPARSEABLE", message });
  });

  it("converts NUL bytes, invalid base64 and broken quoted-printable without crashing", async () => {
    const raw = Buffer.from(
      "From: a@example.org\r\nSubject: nul\u0000s\r\nMessage-ID: <n@example.org>\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n" +
        "--x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nbad =Z1 and =\r\n\u0000ok\r\n" +
        "--x\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!%%%===\r\n--x--\r\n",
    );
    const p = await convertMessage(raw);
    expect(p.subject).toBe("nuls");
    expect(p.text).toBe("bad =Z1 and ok");
    expect(p.attachments).toHaveLength(1);
  });
});

describe("parts without a content type", () => {
  it.each([
    ["empty, the message cut off after it", "Content-Type: "],
    ["empty, with a body", "Content-Type:\r\n\r\nsecond part\r\n--x--\r\n"],
  ])("%s: read as text/plain (was an uncaught TypeError that ended the process)", async (_, tail) => {
    const raw = Buffer.from(
      "From: a@example.org\r\nSubject: no type\r\nMessage-ID: <ct@example.org>\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n" +
        `--x\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n--x\r\n${tail}`,
    );
    const p = await convertMessage(raw);
    expect(p.text).toContain("first part");
  });
});

describe("input forms", () => {
  it("gives the same result for a Buffer and a stream cut into 7-byte chunks", async () => {
    const file = path.join(FIXTURES, "inline-cid-image-outlook.eml");
    const fromBuffer = await convertMessage(await readFile(file));
    const fromStream = await convertMessage(createReadStream(file, { highWaterMark: 7 }));
    expect({ ...fromStream, attachments: fromStream.attachments.map((a) => a.sha256) }).toEqual({
      ...fromBuffer,
      attachments: fromBuffer.attachments.map((a) => a.sha256),
    });
  });
});

describe("headers for the guards", () => {
  it("keeps every instance of a header in order, topmost first, decoded", async () => {
    const p = await convertMessage(await fixture("thread-2-gmail-web-reply.eml"));
    expect(p.headers.received?.map((r) => r.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "from mx.example.test",
      "from mail-lj1-f171.google.com",
      "by mail-lj1-f171.google.com",
    ]);
    expect(p.headers["authentication-results"]).toHaveLength(1);
    expect(p.headers["authentication-results"]?.[0]).toMatch(
      /^mx\.example\.test;\s+dkim=pass header\.d=example\.org/,
    );
    expect(p.deliveredTo).toBe("assistant@example.test");
    expect(p.headers["return-path"]).toEqual(["<bob@example.org>"]);
  });

  it("exposes the root content type and the report type of a DSN", async () => {
    const p = await convertMessage(await fixture("dsn-postfix.eml"));
    expect(p.contentType).toBe("multipart/report");
    expect(p.contentTypeParams["report-type"]).toBe("delivery-status");
    expect(p.reportType).toBe("delivery-status");
    expect(p.headers["auto-submitted"]).toEqual(["auto-replied"]);
  });
});

describe("attachments on disk", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mime-att-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes into a folder named after the Message-ID hash, and replaces it on reconversion", async () => {
    const raw = await fixture("thread-1-thunderbird-original.eml");
    const p = await convertMessage(raw, { attachmentDir: dir });
    const folder = path.join(dir, attachmentFolderName(p.messageId));
    expect(p.attachmentFolder).toBe(folder);
    const [a] = p.attachments;
    expect(a?.path).toBe(path.join(folder, "Q1 report draft.pdf"));
    const bytes = await readFile(a?.path as string);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(a?.sha256);
    expect(Buffer.from(a?.content ?? []).equals(bytes)).toBe(true);
    const again = await convertMessage(raw, { attachmentDir: dir });
    expect(again.attachments[0]?.path).toBe(a?.path);
    expect(await readdir(dir)).toEqual([attachmentFolderName(p.messageId)]);
  });

  it("keeps hostile names inside the folder and never writes executables", async () => {
    const p = await convertMessage(await fixture("attachment-hostile-names.eml"), { attachmentDir: dir });
    const folder = p.attachmentFolder as string;
    for (const a of p.attachments) expect(path.dirname(a.path as string)).toBe(folder);
    expect((await readdir(folder)).sort()).toEqual(["_CON.txt", "htaccess", "passwd"]);
    expect(await readdir(dir)).toEqual([path.basename(folder)]);
    expect(() => resolveInside(dir, "../escape")).toThrow(InputError);
    expect(() => resolveInside(dir, "/etc/passwd")).toThrow(InputError);
  });

  it("applies maxAttachmentBytes, maxAttachments, allowTypes and keepInMemoryBytes", async () => {
    const hostile = await fixture("attachment-hostile-names.eml");
    const small = await convertMessage(await fixture("thread-1-thunderbird-original.eml"), {
      attachmentDir: dir,
      maxAttachmentBytes: 100,
    });
    expect(small.attachments).toEqual([]);
    expect(small.skippedAttachments).toMatchObject([
      { filename: "Q1 report draft.pdf", code: "too-large", contentType: "application/pdf" },
    ]);
    expect(small.skippedAttachments[0]?.size).toBeGreaterThan(100);
    expect(small.attachmentFolder).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);

    const few = await convertMessage(hostile, { maxAttachments: 1 });
    expect(few.attachments.map((a) => a.filename)).toEqual(["passwd"]);
    expect(few.skippedAttachments.map((s) => s.code).sort()).toEqual([
      "too-many",
      "too-many",
      "type-denied",
      "type-denied",
    ]);

    const images = await convertMessage(hostile, { allowTypes: ["image/*"] });
    expect(images.attachments.map((a) => a.filename)).toEqual(["htaccess"]);
    expect(
      images.skippedAttachments.filter((s) => s.code === "type-not-allowed").map((s) => s.filename),
    ).toEqual(["passwd", "_CON.txt"]);

    const memoryOnly = await convertMessage(hostile, { keepInMemoryBytes: 10 });
    expect(memoryOnly.attachments.map((a) => a.filename)).toEqual([]);
    expect(memoryOnly.skippedAttachments.filter((s) => s.code === "no-storage")).toHaveLength(3);

    const diskOnly = await convertMessage(hostile, { attachmentDir: dir, keepInMemoryBytes: 0 });
    for (const a of diskOnly.attachments) {
      expect(a.content).toBeUndefined();
      expect((await stat(a.path as string)).size).toBe(a.size);
    }
  });

  it("removes everything it wrote when aborted", async () => {
    const controller = new AbortController();
    const raw = await fixture("attachment-hostile-names.eml");
    const stream = Readable.from(
      (async function* () {
        yield raw.subarray(0, 1500);
        await new Promise((r) => setTimeout(r, 20));
        controller.abort();
        yield raw.subarray(1500);
      })(),
    );
    await expect(
      convertMessage(stream, { attachmentDir: dir, signal: controller.signal }),
    ).rejects.toBeInstanceOf(AbortedError);
    expect(await readdir(dir)).toEqual([]);
    await expect(convertMessage(raw, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
  });
});
