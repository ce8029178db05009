import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeMessage, resolveAttachments, safeFilename } from "../../../src/compose/index.js";
import type { OutgoingAttachment } from "../../../src/contract/types.js";
import { InputError } from "../../../src/errors/index.js";

let dir: string;
let outside: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ec-attach-"));
  outside = await mkdtemp(path.join(tmpdir(), "ec-outside-"));
  await writeFile(path.join(dir, "report.pdf"), Buffer.from("%PDF-1.4\n%fake\n"));
  await writeFile(path.join(dir, "big.bin"), Buffer.alloc(2048, 1));
  await writeFile(path.join(outside, "secret.txt"), "secret");
  await symlink(path.join(outside, "secret.txt"), path.join(dir, "link.txt"));
  await mkdir(path.join(dir, "sub"));
  await symlink(outside, path.join(dir, "escape"));
  execFileSync("mkfifo", [path.join(dir, "fifo")]);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

async function codeOf(list: OutgoingAttachment[], limits = {}): Promise<string | undefined> {
  const error = await resolveAttachments(list, limits).catch((e: unknown) => e);
  if (error === undefined || Array.isArray(error)) return undefined;
  expect(error).toBeInstanceOf(InputError);
  return (error as InputError).code;
}

describe("resolveAttachments", () => {
  it("reads bytes, strings and absolute paths; detects missing content types", async () => {
    const nodes = await resolveAttachments([
      { filename: "a.bin", content: new Uint8Array([0, 1, 2, 255]) },
      { filename: "note.txt", content: "hällo" },
      { filename: "report.pdf", path: path.join(dir, "report.pdf") },
    ]);
    expect(nodes.map((n) => n.contentType)).toEqual([
      "application/octet-stream",
      "text/plain",
      "application/pdf",
    ]);
    expect(Buffer.from(nodes[0]!.content as Buffer)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect((nodes[1]!.content as Buffer).toString("utf8")).toBe("hällo");
    expect((nodes[2]!.content as Buffer).toString("latin1")).toBe("%PDF-1.4\n%fake\n");
    expect(nodes.every((n) => n.contentDisposition === "attachment")).toBe(true);
  });

  it("keeps a declared content type when it is well-formed, and ignores a malformed one", async () => {
    const nodes = await resolveAttachments([
      { filename: "x.dat", content: "x", contentType: "Application/JSON" },
      { filename: "y.txt", content: "y", contentType: "text/plain\r\nX-Injected: 1" },
    ]);
    expect(nodes.map((n) => n.contentType)).toEqual(["application/json", "text/plain"]);
  });

  it("refuses URLs and data URIs given as paths", async () => {
    expect(await codeOf([{ filename: "x", path: "https://example.org/x.pdf" }])).toBe("ATTACHMENT_PATH");
    expect(await codeOf([{ filename: "x", path: "data:text/plain,hello" }])).toBe("ATTACHMENT_PATH");
    expect(await codeOf([{ filename: "x", path: "file:///etc/passwd" }])).toBe("ATTACHMENT_PATH");
  });

  it("refuses relative paths without roots, symlinks, directories, FIFOs and missing files", async () => {
    expect(await codeOf([{ filename: "r", path: "report.pdf" }])).toBe("ATTACHMENT_PATH");
    expect(await codeOf([{ filename: "l", path: path.join(dir, "link.txt") }])).toBe("ATTACHMENT_PATH");
    expect(await codeOf([{ filename: "d", path: path.join(dir, "sub") }])).toBe("ATTACHMENT_PATH");
    expect(await codeOf([{ filename: "f", path: path.join(dir, "fifo") }])).toBe("ATTACHMENT_PATH");
    expect(await codeOf([{ filename: "m", path: path.join(dir, "missing.txt") }])).toBe(
      "ATTACHMENT_UNREADABLE",
    );
  });

  it("with roots: resolves relative paths in the first root and refuses anything outside", async () => {
    const nodes = await resolveAttachments([{ filename: "report.pdf", path: "report.pdf" }], {
      roots: [dir],
    });
    expect((nodes[0]!.content as Buffer).subarray(0, 4).toString()).toBe("%PDF");
    expect(await codeOf([{ filename: "s", path: path.join(outside, "secret.txt") }], { roots: [dir] })).toBe(
      "ATTACHMENT_PATH",
    );
    expect(
      await codeOf([{ filename: "s", path: "../" + path.basename(outside) + "/secret.txt" }], {
        roots: [dir],
      }),
    ).toBe("ATTACHMENT_PATH");
    // A symlinked folder inside the root that points outside it.
    expect(await codeOf([{ filename: "s", path: "escape/secret.txt" }], { roots: [dir] })).toBe(
      "ATTACHMENT_PATH",
    );
  });

  it("refuses a denied folder (and a symlinked folder into it) but its exceptions, and /proc", async () => {
    const denied = { folders: [outside, "/proc"], exceptions: [path.join(outside, "attachments")] };
    await mkdir(path.join(outside, "attachments"), { recursive: true });
    await writeFile(path.join(outside, "attachments", "inbound.txt"), "received earlier");
    expect(await codeOf([{ filename: "s", path: path.join(outside, "secret.txt") }], { denied })).toBe(
      "ATTACHMENT_PATH",
    );
    // Through a symlinked folder elsewhere: the real path is what counts.
    expect(await codeOf([{ filename: "s", path: path.join(dir, "escape", "secret.txt") }], { denied })).toBe(
      "ATTACHMENT_PATH",
    );
    // The process's environment (passwords included) reads as a regular file.
    expect(await codeOf([{ filename: "e", path: "/proc/self/environ" }], { denied })).toBe("ATTACHMENT_PATH");
    const nodes = await resolveAttachments(
      [
        { filename: "i.txt", path: path.join(outside, "attachments", "inbound.txt") },
        { filename: "report.pdf", path: path.join(dir, "report.pdf") },
      ],
      { denied },
    );
    expect(nodes.map((n) => (n.content as Buffer).length)).toEqual([16, 15]);
  });

  it("enforces the count, per-file and total limits", async () => {
    const three = [1, 2, 3].map((i) => ({ filename: `${i}.txt`, content: "x" }));
    expect(await codeOf(three, { maxCount: 2 })).toBe("ATTACHMENT_COUNT");
    expect(await codeOf([{ filename: "b", content: new Uint8Array(101) }], { maxBytes: 100 })).toBe(
      "ATTACHMENT_TOO_LARGE",
    );
    expect(await codeOf([{ filename: "big.bin", path: path.join(dir, "big.bin") }], { maxBytes: 2047 })).toBe(
      "ATTACHMENT_TOO_LARGE",
    );
    const two = [
      { filename: "a", content: new Uint8Array(60) },
      { filename: "b", content: new Uint8Array(60) },
    ];
    expect(await codeOf(two, { maxTotalBytes: 100 })).toBe("ATTACHMENTS_TOO_LARGE");
    expect(await codeOf(two, { maxTotalBytes: 120 })).toBeUndefined();
  });

  it("needs exactly one of content and path", async () => {
    expect(await codeOf([{ filename: "x" }])).toBe("ATTACHMENT_INVALID");
    expect(await codeOf([{ filename: "x", content: "a", path: path.join(dir, "report.pdf") }])).toBe(
      "ATTACHMENT_INVALID",
    );
  });

  it("rejects an invalid content id", async () => {
    expect(await codeOf([{ filename: "i.png", content: "x", contentId: "a b\r\nX: y", inline: true }])).toBe(
      "ATTACHMENT_INVALID",
    );
  });

  it("keeps only the base name of a filename, without control characters", () => {
    expect(safeFilename("../../etc/passwd", "f")).toBe("passwd");
    expect(safeFilename("C:\\Users\\x\\evil.exe", "f")).toBe("evil.exe");
    // The "/" makes everything before it a directory; the line break would have been a space.
    expect(safeFilename("a\r\nContent-Type: text/html.txt", "f")).toBe("html.txt");
    expect(safeFilename("a\r\nb\u0000c.txt", "f")).toBe("a b c.txt");
    expect(safeFilename("..", "fallback")).toBe("fallback");
    expect(safeFilename("", "fallback")).toBe("fallback");
  });

  it("puts a path attachment's bytes into the message under a safe name", async () => {
    const message = await composeMessage({
      from: { address: "hello@cassey.ai" },
      to: [{ address: "alice@example.com" }],
      subject: "report",
      messageId: "x.1@cassey.ai",
      markdown: "see attached",
      attachments: [{ filename: "../Quartals\r\nbericht.pdf", path: path.join(dir, "report.pdf") }],
    });
    const parsed = await simpleParser(message.raw);
    expect(parsed.attachments).toHaveLength(1);
    expect(parsed.attachments[0]!.filename).toBe("Quartals bericht.pdf");
    expect(parsed.attachments[0]!.content.toString("latin1")).toBe("%PDF-1.4\n%fake\n");
  });
});
