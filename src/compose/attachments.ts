/**
 * Outgoing attachments: bytes from memory or from a file, read here, once, so that nodemailer never
 * touches the file system or the network (the composer runs it with disableFileAccess and
 * disableUrlAccess) and the stored message holds the bytes that were sent.
 *
 * A path must be a readable regular file: not a URL or data: URI, not a symlink (opened with
 * O_NOFOLLOW), not a FIFO or device (O_NONBLOCK keeps a FIFO from blocking the open; fstat refuses
 * it), and, when roots are configured, inside one of them after symlinks are resolved, and never in
 * a denied folder (checked on the opened file's device and inode, so a path swapped between the
 * check and the open fails).
 */
import { constants, type Stats } from "node:fs";
import { type FileHandle, open, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type { MailComposerAttachment } from "nodemailer/lib/mail-composer";
import { detectMimeType } from "nodemailer/lib/mime-funcs";
import type { OutgoingAttachment } from "../contract/types.js";
import { InputError } from "../errors/index.js";
import { cleanHeaderText, parseMessageId } from "./headers.js";
import type { AttachmentLimits } from "./types.js";

export const DEFAULT_ATTACHMENT_LIMITS = {
  maxCount: 20,
  maxBytes: 10 * 1024 * 1024,
  maxTotalBytes: 15 * 1024 * 1024,
} as const;

const CONTENT_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i;
const URL_LIKE = /^[a-z][a-z0-9+.-]*:/i;

function fail(code: string, message: string, details?: Record<string, unknown>, cause?: unknown): never {
  throw new InputError(message, {
    code,
    stage: "mime",
    ...(details ? { details } : {}),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** A filename that is only a name: no directories, no control characters. */
export function safeFilename(name: string | undefined, fallback: string): string {
  const base = (name ?? "").split(/[\\/]/).pop() ?? "";
  const cleaned = cleanHeaderText(base, 200).replace(/^\.+$/, "");
  return cleaned || fallback;
}

/** Folders as real paths (symlinks resolved; one that does not exist as given). */
function realFolders(folders: readonly string[]): Promise<string[]> {
  return Promise.all(folders.map((folder) => realpath(folder).catch(() => path.resolve(folder))));
}

function isInside(root: string, file: string): boolean {
  const rel = path.relative(root, file);
  return rel === "" ? false : !rel.startsWith("..") && !path.isAbsolute(rel);
}

async function readRegularFile(
  file: string,
  index: number,
  limits: Required<Omit<AttachmentLimits, "roots" | "denied">> & Pick<AttachmentLimits, "roots" | "denied">,
): Promise<Buffer> {
  const field = `attachments[${index}].path`;
  if (URL_LIKE.test(file))
    fail("ATTACHMENT_PATH", `${field}: URLs are not accepted, only local files`, { index });
  const roots = limits.roots;
  let resolved: string;
  if (roots && roots.length > 0) {
    resolved = path.resolve(roots[0]!, file);
  } else {
    if (!path.isAbsolute(file)) fail("ATTACHMENT_PATH", `${field}: must be an absolute path`, { index });
    resolved = path.resolve(file);
  }
  let handle: FileHandle | undefined;
  try {
    try {
      handle = await open(resolved, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === "ELOOP") fail("ATTACHMENT_PATH", `${field}: is a symbolic link`, { index }, cause);
      fail("ATTACHMENT_UNREADABLE", `${field}: cannot be read (${code ?? "error"})`, { index, code }, cause);
    }
    const info: Stats = await handle.stat();
    if (!info.isFile()) fail("ATTACHMENT_PATH", `${field}: not a regular file`, { index });
    if (info.size > limits.maxBytes) {
      fail("ATTACHMENT_TOO_LARGE", `${field}: ${info.size} bytes, limit ${limits.maxBytes}`, {
        index,
        size: info.size,
      });
    }
    const denied = limits.denied;
    if ((roots && roots.length > 0) || (denied && denied.folders.length > 0)) {
      const real = await realpath(resolved);
      const same = await stat(real);
      // The file opened is the one checked: a path swapped between the open and the check fails.
      if (same.dev !== info.dev || same.ino !== info.ino)
        fail("ATTACHMENT_PATH", `${field}: changed while it was read`, { index });
      if (roots && roots.length > 0 && !(await realFolders(roots)).some((root) => isInside(root, real)))
        fail("ATTACHMENT_PATH", `${field}: outside the allowed attachment folders`, { index });
      if (denied && (await realFolders(denied.folders)).some((folder) => isInside(folder, real))) {
        const exceptions = await realFolders(denied.exceptions ?? []);
        if (!exceptions.some((folder) => isInside(folder, real)))
          fail("ATTACHMENT_PATH", `${field}: in a folder attachments may not come from`, { index });
      }
    }
    const bytes = await handle.readFile();
    // The file may have grown since fstat.
    if (bytes.length > limits.maxBytes) {
      fail("ATTACHMENT_TOO_LARGE", `${field}: ${bytes.length} bytes, limit ${limits.maxBytes}`, { index });
    }
    return bytes;
  } finally {
    await handle?.close();
  }
}

function toBuffer(content: Uint8Array | string): Buffer {
  return typeof content === "string" ? Buffer.from(content, "utf8") : Buffer.from(content);
}

/**
 * Reads and checks the attachments; returns MailComposer attachment nodes holding the bytes.
 * Throws InputError (`ATTACHMENT_*`) on anything not allowed.
 */
export async function resolveAttachments(
  attachments: OutgoingAttachment[] | undefined,
  options: AttachmentLimits = {},
): Promise<MailComposerAttachment[]> {
  const list = attachments ?? [];
  const limits = {
    maxCount: options.maxCount ?? DEFAULT_ATTACHMENT_LIMITS.maxCount,
    maxBytes: options.maxBytes ?? DEFAULT_ATTACHMENT_LIMITS.maxBytes,
    maxTotalBytes: options.maxTotalBytes ?? DEFAULT_ATTACHMENT_LIMITS.maxTotalBytes,
    ...(options.roots ? { roots: options.roots } : {}),
    ...(options.denied ? { denied: options.denied } : {}),
  };
  if (list.length > limits.maxCount) {
    fail("ATTACHMENT_COUNT", `${list.length} attachments, limit ${limits.maxCount}`, { count: list.length });
  }
  const out: MailComposerAttachment[] = [];
  let total = 0;
  for (const [index, attachment] of list.entries()) {
    const hasContent = attachment.content !== undefined && attachment.content !== null;
    const hasPath = typeof attachment.path === "string" && attachment.path !== "";
    if (hasContent === hasPath) {
      fail("ATTACHMENT_INVALID", `attachments[${index}]: give exactly one of content or path`, { index });
    }
    let bytes: Buffer;
    if (hasContent) {
      bytes = toBuffer(attachment.content!);
      if (bytes.length > limits.maxBytes) {
        fail(
          "ATTACHMENT_TOO_LARGE",
          `attachments[${index}]: ${bytes.length} bytes, limit ${limits.maxBytes}`,
          {
            index,
            size: bytes.length,
          },
        );
      }
    } else {
      bytes = await readRegularFile(attachment.path!, index, limits);
    }
    total += bytes.length;
    if (total > limits.maxTotalBytes) {
      fail("ATTACHMENTS_TOO_LARGE", `attachments: ${total}+ bytes in all, limit ${limits.maxTotalBytes}`, {
        total,
      });
    }
    const filename = safeFilename(
      attachment.filename ?? (hasPath ? attachment.path : undefined),
      `attachment-${index + 1}`,
    );
    const declared = attachment.contentType?.trim();
    const contentType =
      declared && CONTENT_TYPE.test(declared)
        ? declared.toLowerCase()
        : detectMimeType(path.extname(filename).slice(1) || false);
    const node: MailComposerAttachment = { filename, content: bytes, contentType };
    if (attachment.contentId !== undefined) {
      const cid = parseMessageId(attachment.contentId);
      if (cid === undefined)
        fail("ATTACHMENT_INVALID", `attachments[${index}].contentId: invalid`, { index });
      node.cid = cid;
    }
    node.contentDisposition = attachment.inline ? "inline" : "attachment";
    out.push(node);
  }
  return out;
}
