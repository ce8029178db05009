/**
 * Stores attachments as they stream out of the parser: bytes go straight to a file (never the whole
 * attachment in memory), small ones are also kept in memory, and the policy (type, size, count)
 * decides what is kept at all. Files are written to a private ".incoming-<uuid>" folder and moved to
 * the per-message folder (named after the Message-ID's hash) only once the message parsed, so a
 * failed or aborted conversion leaves nothing behind.
 */
import { createHash, randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { InputError } from "../errors/index.js";
import { sanitiseFilename, uniqueFilename } from "./filename.js";
import { type ResolvedConvertOptions, typeMatches } from "./limits.js";
import { readStream } from "./read-stream.js";
import type { InboundAttachment, SkipCode, SkippedAttachment } from "./types.js";

/** What the parser knows about one attachment part before its bytes arrive. */
export interface AttachmentMeta {
  filename?: string;
  contentType: string;
  contentId?: string;
  inline: boolean;
}

const EXTENSIONS: Record<string, string> = {
  "application/pdf": ".pdf",
  "image/png": ".png",
  "image/jpeg": ".jpg",
  "image/gif": ".gif",
  "image/webp": ".webp",
  "text/plain": ".txt",
  "text/html": ".html",
  "text/calendar": ".ics",
  "application/ics": ".ics",
  "message/rfc822": ".eml",
  "text/csv": ".csv",
  "application/zip": ".zip",
  "text/vcard": ".vcf",
  "text/x-vcard": ".vcf",
  "application/ms-tnef": ".dat",
};

/** Where a write would land, checked against the root: writes can never escape attachmentDir. */
export function resolveInside(root: string, ...segments: string[]): string {
  const base = path.resolve(root);
  const target = path.resolve(base, ...segments);
  if (!target.startsWith(base + path.sep)) {
    throw new InputError(`attachment path escapes attachmentDir: ${segments.join("/")}`, {
      code: "MIME_PATH_ESCAPE",
      stage: "mime",
    });
  }
  return target;
}

export class AttachmentCollector {
  readonly attachments: InboundAttachment[] = [];
  readonly skipped: SkippedAttachment[] = [];
  private readonly taken = new Set<string>();
  private incoming?: string;
  private stored = 0;
  private seen = 0;
  private active?: Readable;

  constructor(private readonly options: ResolvedConvertOptions) {}

  /** Bytes the current attachment stream holds that we have not consumed yet (for input backpressure). */
  backlog(): number {
    return this.active?.readableLength ?? 0;
  }

  /** The reason an attachment of this type and name is not stored, before any byte is read. */
  private policy(meta: AttachmentMeta, filename: string): { code: SkipCode; reason: string } | undefined {
    const o = this.options;
    const ext = path.extname(filename).slice(1).toLowerCase();
    if (
      o.denyTypes.some((p) => typeMatches(meta.contentType, p)) ||
      (ext && o.denyExtensions.includes(ext))
    ) {
      return { code: "type-denied", reason: `${meta.contentType} (.${ext || "?"}) is on the deny list` };
    }
    if (o.allowTypes && !o.allowTypes.some((p) => typeMatches(meta.contentType, p))) {
      return { code: "type-not-allowed", reason: `${meta.contentType} is not in allowTypes` };
    }
    if (this.stored >= o.maxAttachments)
      return { code: "too-many", reason: `more than maxAttachments (${o.maxAttachments})` };
    return undefined;
  }

  /** Records a part that is skipped for a reason decided by the caller (e.g. a signature part). */
  async skip(meta: AttachmentMeta, stream: Readable, code: SkipCode, reason: string): Promise<void> {
    const filename = this.name(meta);
    const size = await drain(stream);
    this.skipped.push({ filename, contentType: meta.contentType, size, code, reason });
  }

  private name(meta: AttachmentMeta): string {
    this.seen++;
    const fallback = `attachment-${this.seen}${EXTENSIONS[meta.contentType] ?? ".bin"}`;
    return sanitiseFilename(meta.filename ?? "", fallback);
  }

  /**
   * Consumes one attachment stream to its end, storing or skipping it. `tap` sees every chunk (the
   * calendar reader uses it). Never throws for policy reasons; throws for file system errors.
   */
  async consume(meta: AttachmentMeta, stream: Readable, tap?: (chunk: Buffer) => void): Promise<void> {
    const o = this.options;
    const filename = this.name(meta);
    const refused = this.policy(meta, filename);
    if (refused) {
      const size = await drain(stream, tap);
      this.skipped.push({ filename, contentType: meta.contentType, size, ...refused });
      return;
    }
    const unique = uniqueFilename(filename, this.taken);
    const hash = createHash("sha256");
    const memory: Buffer[] = [];
    let size = 0;
    let file: WriteStream | undefined;
    let filePath: string | undefined;
    let skip: { code: SkipCode; reason: string } | undefined;
    let fileError: Error | undefined;
    this.active = stream;
    try {
      for await (const raw of stream) {
        const chunk = raw as Buffer;
        tap?.(chunk);
        size += chunk.length;
        if (skip) continue;
        hash.update(chunk);
        if (size > o.maxAttachmentBytes) {
          skip = { code: "too-large", reason: `more than maxAttachmentBytes (${o.maxAttachmentBytes})` };
        } else if (!o.attachmentDir && size > o.keepInMemoryBytes) {
          skip = {
            code: "no-storage",
            reason: `larger than keepInMemoryBytes (${o.keepInMemoryBytes}) and no attachmentDir`,
          };
        }
        if (skip) {
          memory.length = 0;
          if (file) await closeAndRemove(file, filePath as string);
          file = undefined;
          continue;
        }
        if (size <= o.keepInMemoryBytes) memory.push(chunk);
        else memory.length = 0;
        if (o.attachmentDir) {
          if (!file) {
            filePath = resolveInside(await this.folder(), unique);
            file = createWriteStream(filePath, { flags: "wx", mode: 0o600 });
            file.on("error", (e) => {
              fileError = e;
            });
          }
          if (fileError) throw fileError;
          if (!file.write(chunk)) await waitDrain(file);
        }
      }
    } catch (error) {
      if (file) await closeAndRemove(file, filePath as string);
      throw error;
    } finally {
      this.active = undefined;
    }
    if (skip) {
      this.skipped.push({ filename: unique, contentType: meta.contentType, size, ...skip });
      return;
    }
    if (file) await close(file);
    this.stored++;
    this.attachments.push({
      filename: unique,
      contentType: meta.contentType,
      size,
      sha256: hash.digest("hex"),
      ...(filePath ? { path: filePath } : {}),
      ...(size <= o.keepInMemoryBytes ? { content: new Uint8Array(Buffer.concat(memory)) } : {}),
      ...(meta.contentId ? { contentId: meta.contentId } : {}),
      ...(meta.inline ? { inline: true } : {}),
    });
  }

  private async folder(): Promise<string> {
    if (!this.incoming) {
      const dir = resolveInside(this.options.attachmentDir as string, `.incoming-${randomUUID()}`);
      await mkdir(dir, { recursive: true, mode: 0o700 });
      this.incoming = dir;
    }
    return this.incoming;
  }

  /** Something was written to disk (finish() has files to move or clean up). */
  get wroteFiles(): boolean {
    return this.incoming !== undefined;
  }

  /**
   * Moves the files to `<attachmentDir>/<folderName>` (replacing an earlier conversion of the same
   * message) and rewrites the paths. Returns the folder, or undefined when nothing was written.
   */
  async finish(folderName: string): Promise<string | undefined> {
    if (!this.incoming || !this.options.attachmentDir) return undefined;
    const target = resolveInside(this.options.attachmentDir, folderName);
    const empty = this.attachments.every((a) => !a.path);
    if (empty) {
      await rm(this.incoming, { recursive: true, force: true });
      return undefined;
    }
    await rm(target, { recursive: true, force: true });
    await rename(this.incoming, target);
    for (const a of this.attachments) if (a.path) a.path = resolveInside(target, path.basename(a.path));
    this.incoming = undefined;
    return target;
  }

  /** Removes whatever was written (failed or aborted conversion). */
  async discard(): Promise<void> {
    if (this.incoming) await rm(this.incoming, { recursive: true, force: true });
    this.incoming = undefined;
  }
}

/** Reads a stream to its end, counting bytes; used for parts we do not keep. */
export async function drain(stream: Readable, tap?: (chunk: Buffer) => void): Promise<number> {
  let size = 0;
  await readStream(stream, (chunk) => {
    tap?.(chunk);
    size += chunk.length;
  });
  return size;
}

function waitDrain(file: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    file.once("error", onError);
    file.once("drain", () => {
      file.off("error", onError);
      resolve();
    });
  });
}

function close(file: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    file.once("error", reject);
    file.end(() => resolve());
  });
}

async function closeAndRemove(file: WriteStream, filePath: string): Promise<void> {
  await close(file).catch(() => undefined);
  await rm(filePath, { force: true });
}
