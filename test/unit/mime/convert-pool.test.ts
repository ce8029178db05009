/**
 * ConvertPool: conversion on real worker threads gives what convertMessage gives in this thread
 * (fixtures, attachments, errors with their class and code), aborts cleanly, and contains a message
 * that ends its worker: that message fails alone, the ones in flight beside it convert, the pool
 * goes on. Workers that cannot start at all leave conversion in this thread.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AbortedError, InputError } from "../../../src/errors/index.js";
import { ConvertPool, convertMessage } from "../../../src/mime/index.js";
import { createLogger } from "../../../src/log/index.js";
import { manyParts } from "./support/bombs.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/mail");
const fixture = (name: string) => readFile(path.join(FIXTURES, name));
const CRASHING = new URL("./support/crashing-worker.ts", import.meta.url);

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A pino logger that keeps its records (level, msg) for assertions. */
function recordingLogger() {
  const records: { level: number; msg: string; reason?: string }[] = [];
  const logger = createLogger({
    level: "warn",
    pretty: false,
    destination: { write: (line: string) => records.push(JSON.parse(line)) },
  });
  return { logger, records };
}

let dir: string;
let pool: ConvertPool | undefined;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ec-pool-"));
});
afterEach(async () => {
  await pool?.close();
  pool = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe("ConvertPool", () => {
  it("converts what convertMessage converts, attachments and dates included", async () => {
    pool = new ConvertPool({ workers: 2 });
    const names = [
      "thread-2-gmail-web-reply.eml",
      "attachment-pdf-gmail.eml",
      "inline-cid-image-outlook.eml",
      "charset-iso-2022-jp.eml",
      "calendar-invite-google.eml",
      "dsn-postfix.eml",
      "no-message-id.eml",
    ];
    for (const name of names) {
      const raw = await fixture(name);
      const [inThread, onWorker] = await Promise.all([
        convertMessage(raw, { attachmentDir: path.join(dir, "here") }),
        pool.convert(raw, { attachmentDir: path.join(dir, "there") }),
      ]);
      const folderless = (p: typeof inThread) => ({
        ...p,
        attachmentFolder: p.attachmentFolder && path.basename(p.attachmentFolder),
        attachments: p.attachments.map((a) => ({ ...a, path: a.path && path.basename(a.path) })),
      });
      expect(folderless(onWorker), name).toEqual(folderless(inThread));
      for (const a of onWorker.attachments) {
        if (a.path) expect(a.path.startsWith(path.join(dir, "there"))).toBe(true);
      }
      if (inThread.date) expect(onWorker.date).toBeInstanceOf(Date);
    }
  });

  it("rejects with the converter's own errors: class, code and stage", async () => {
    pool = new ConvertPool();
    const empty = await pool.convert(Buffer.alloc(0)).catch((e: unknown) => e);
    expect(empty).toBeInstanceOf(InputError);
    expect(empty).toMatchObject({ code: "MIME_UNPARSEABLE", stage: "mime", kind: "input" });
    const bomb = await bytesOf(manyParts(50).stream);
    const tooMany = await pool.convert(bomb, { maxParts: 10 }).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(InputError);
    expect(tooMany).toMatchObject({ code: "MIME_TOO_MANY_PARTS" });
  });

  // Queued in the pool (nothing posted ahead) or in the worker's own queue (posted ahead).
  for (const queuedPerWorker of [0, 4]) {
    it(`an abort rejects with AbortedError and leaves no attachment files (${queuedPerWorker} posted ahead)`, async () => {
      pool = new ConvertPool({ perWorker: 1, queuedPerWorker, idleMs: 100 });
      const raw = await fixture("attachment-pdf-gmail.eml");
      const queued = new AbortController();
      const first = pool.convert(raw, { attachmentDir: dir });
      const second = pool.convert(raw, { attachmentDir: path.join(dir, "queued"), signal: queued.signal });
      queued.abort();
      await expect(second).rejects.toBeInstanceOf(AbortedError);
      await first;
      // Dropped before it started: it wrote nothing.
      expect(await readdir(path.join(dir, "queued")).catch(() => [])).toEqual([]);
      const running = new AbortController();
      const third = pool.convert(raw, { attachmentDir: path.join(dir, "aborted"), signal: running.signal });
      running.abort();
      await expect(third).rejects.toBeInstanceOf(AbortedError);
      // The worker's own abort removes what it wrote; give it the time to answer.
      await pool.convert(Buffer.from("From: a@example.net\r\nSubject: x\r\n\r\nx\r\n"));
      const left = await readdir(path.join(dir, "aborted")).catch(() => []);
      expect(left).toEqual([]);
      // Every message posted was answered (the dropped one too): the worker goes idle and ends.
      const end = Date.now() + 10_000;
      while (pool.workers > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(pool.workers).toBe(0);
    });
  }

  // perWorker 1: three of the four wait in the dying worker's own queue.
  for (const [fault, perWorker] of [
    ["throw", 4],
    ["heap", 4],
    ["throw", 1],
  ] as const) {
    it(`a message that ends its worker (${fault}, ${perWorker} at once) fails alone; the others posted convert`, async () => {
      const { logger, records } = recordingLogger();
      pool = new ConvertPool({ workers: 1, perWorker, maxHeapMb: 64, logger, workerModule: CRASHING });
      const innocent = await Promise.all(
        ["thread-2-gmail-web-reply.eml", "apple-ios-reply.eml", "html-only.eml"].map(fixture),
      );
      const culprit = Buffer.concat([Buffer.from(`X-Crash: ${fault}\r\n`), innocent[0]!]);
      const results = await Promise.allSettled([
        pool.convert(innocent[0]!),
        pool.convert(culprit),
        pool.convert(innocent[1]!),
        pool.convert(innocent[2]!),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled", "fulfilled"]);
      const error = (results[1] as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({ code: "MIME_CONVERTER_CRASHED", stage: "mime" });
      expect(error.message).toMatch(fault === "throw" ? /injected converter fault/ : /memory/i);
      expect(records.filter((r) => r.msg.includes("a conversion worker died"))).toHaveLength(1);
      expect(records.filter((r) => r.msg.includes("ended its conversion worker"))).toHaveLength(1);
      // The pool goes on with a fresh worker.
      const after = await pool.convert(innocent[1]!);
      expect(after.messageId).toBe((await convertMessage(innocent[1]!)).messageId);
    }, 60_000);
  }

  it("workers start with the first message and end when idle", async () => {
    pool = new ConvertPool({ workers: 2, idleMs: 100 });
    expect(pool.workers).toBe(0);
    const raw = await fixture("apple-ios-reply.eml");
    await Promise.all([1, 2, 3, 4, 5, 6].map(() => pool!.convert(raw)));
    expect(pool.workers).toBeGreaterThanOrEqual(1);
    expect(pool.workers).toBeLessThanOrEqual(2);
    const end = Date.now() + 10_000;
    while (pool.workers > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(pool.workers).toBe(0);
    expect((await pool.convert(raw)).messageId).toBe((await convertMessage(raw)).messageId);
    expect(pool.workers).toBe(1);
  });

  it("workers that cannot start leave conversion in this thread, with an error logged", async () => {
    const { logger, records } = recordingLogger();
    // A heap far too small to load the converter: every worker dies before it is ready.
    pool = new ConvertPool({ workers: 1, maxHeapMb: 1, logger });
    const raw = await fixture("thread-2-gmail-web-reply.eml");
    const parsed = await pool.convert(raw);
    expect(parsed.messageId).toBe((await convertMessage(raw)).messageId);
    expect(records.some((r) => r.level === 50 && r.msg.includes("cannot start"))).toBe(true);
  }, 60_000);

  it("a stream is converted in this thread with its HTML converted on a worker", async () => {
    pool = new ConvertPool();
    for (const name of ["html-only.eml", "forward-gmail-with-note.eml", "forward-outlook-fw.eml"]) {
      const raw = await fixture(name);
      const [inThread, pooled] = await Promise.all([
        convertMessage(Readable.from([raw])),
        pool.convert(Readable.from([raw])),
      ]);
      expect(pooled, name).toEqual(inThread);
    }
    expect(pool.workers).toBe(1);
  });

  it("a stream whose HTML ends its worker keeps the text with the tags stripped, and a note", async () => {
    const { logger, records } = recordingLogger();
    pool = new ConvertPool({ workers: 1, logger, workerModule: CRASHING });
    // The fault injector ends the worker when the text it made has this line.
    const html = "<p>X-Crash: throw</p><p>Hello <b>there</b></p>";
    const raw = Buffer.from(
      `From: a@example.net\r\nTo: b@example.net\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n${html}\r\n`,
    );
    const parsed = await pool.convert(Readable.from([raw]));
    expect(parsed.textSource).toBe("html");
    expect(parsed.text).toBe("X-Crash: throw Hello there");
    expect(parsed.notes).toEqual([
      expect.stringMatching(
        /^HTML part not converted \(the message ended its conversion worker .*injected converter fault \(HTML\).*\): its tags were stripped instead$/,
      ),
    ]);
    // The same HTML in this thread is converted as usual (the fault is the worker's alone).
    const inThread = await convertMessage(Readable.from([raw]));
    expect(inThread.text).toBe("X-Crash: throw\n\nHello there");
    expect(inThread.notes).toEqual([]);
    expect(records.filter((r) => r.msg.includes("ended its conversion worker"))).toHaveLength(1);
    // The pool goes on.
    const after = await pool.convert(await fixture("apple-ios-reply.eml"));
    expect(after.textSource).toBe("plain");
  }, 60_000);

  it("a stream is converted in this thread, a closed pool refuses", async () => {
    pool = new ConvertPool();
    const raw = await fixture("html-only.eml");
    const parsed = await pool.convert(Readable.from([raw]));
    expect(parsed.textSource).toBe("html");
    await pool.close();
    await expect(pool.convert(raw)).rejects.toBeInstanceOf(AbortedError);
  });
});
