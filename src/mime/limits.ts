/**
 * Defaults for ConvertOptions and the InputErrors raised when a structural limit is hit.
 *
 * Policy (documented in ConvertOptions): structural limits (size, parts, depth, header block) reject
 * the whole message with an InputError, because a message that breaks them is a MIME bomb or a
 * broken producer, not a person writing; text that is merely long is truncated with a note.
 */
import { InputError } from "../errors/index.js";
import type { ConvertOptions } from "./types.js";

const MiB = 1024 * 1024;

/** Executables and scripts that an assistant never needs to store. */
export const DEFAULT_DENY_TYPES: readonly string[] = [
  "application/x-msdownload",
  "application/x-dosexec",
  "application/x-msdos-program",
  "application/x-executable",
  "application/x-sharedlib",
  "application/vnd.microsoft.portable-executable",
  "application/x-ms-installer",
  "application/x-msi",
  "application/x-ms-shortcut",
  "application/hta",
  "application/x-bat",
  "application/x-sh",
  "application/x-csh",
  "application/x-vbscript",
  "text/vbscript",
  "application/x-powershell",
  "application/java-archive",
  "application/x-java-archive",
];

export const DEFAULT_DENY_EXTENSIONS: readonly string[] = [
  "exe",
  "com",
  "scr",
  "pif",
  "bat",
  "cmd",
  "msi",
  "msp",
  "dll",
  "cpl",
  "hta",
  "lnk",
  "jar",
  "js",
  "jse",
  "vbs",
  "vbe",
  "wsf",
  "wsh",
  "ps1",
  "psm1",
  "reg",
  "sh",
  "apk",
];

export interface ResolvedConvertOptions {
  attachmentDir?: string;
  maxAttachmentBytes: number;
  maxAttachments: number;
  keepInMemoryBytes: number;
  allowTypes?: string[];
  denyTypes: string[];
  denyExtensions: string[];
  keepHtml: boolean;
  maxMessageBytes: number;
  maxParts: number;
  maxDepth: number;
  maxHeaderBytes: number;
  maxTextBytes: number;
  signal?: AbortSignal;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new InputError(`${name} must be a non-negative number, got ${value}`, {
      code: "MIME_BAD_OPTION",
      stage: "mime",
    });
  }
  return Math.floor(value);
}

const resolved = new WeakMap<ConvertOptions, ResolvedConvertOptions>();

/**
 * Validates and completes the options. A caller that passes the same (unchanged) options object for
 * every message gets the resolved copy from a cache.
 */
export function resolveConvertOptions(options: ConvertOptions = {}): ResolvedConvertOptions {
  let r = resolved.get(options);
  if (!r) {
    r = resolve(options);
    resolved.set(options, r);
  }
  return r;
}

function resolve(options: ConvertOptions): ResolvedConvertOptions {
  return {
    ...(options.attachmentDir !== undefined ? { attachmentDir: options.attachmentDir } : {}),
    maxAttachmentBytes: positive("maxAttachmentBytes", options.maxAttachmentBytes, 25 * MiB),
    maxAttachments: positive("maxAttachments", options.maxAttachments, 50),
    keepInMemoryBytes: positive("keepInMemoryBytes", options.keepInMemoryBytes, 256 * 1024),
    ...(options.allowTypes !== undefined
      ? { allowTypes: options.allowTypes.map((t) => t.toLowerCase()) }
      : {}),
    denyTypes: (options.denyTypes ?? DEFAULT_DENY_TYPES).map((t) => t.toLowerCase()),
    denyExtensions: (options.denyExtensions ?? DEFAULT_DENY_EXTENSIONS).map((e) =>
      e.toLowerCase().replace(/^\./, ""),
    ),
    keepHtml: options.keepHtml ?? false,
    maxMessageBytes: positive("maxMessageBytes", options.maxMessageBytes, 100 * MiB),
    maxParts: Math.max(1, positive("maxParts", options.maxParts, 1000)),
    maxDepth: Math.max(1, positive("maxDepth", options.maxDepth, 24)),
    maxHeaderBytes: Math.max(1024, positive("maxHeaderBytes", options.maxHeaderBytes, MiB)),
    maxTextBytes: positive("maxTextBytes", options.maxTextBytes, 4 * MiB),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
}

export type LimitCode = "MIME_TOO_LARGE" | "MIME_TOO_MANY_PARTS" | "MIME_TOO_DEEP" | "MIME_HEADER_TOO_LARGE";

export function limitError(code: LimitCode, message: string, details?: Record<string, unknown>): InputError {
  return new InputError(message, { code, stage: "mime", ...(details ? { details } : {}) });
}

/** Does a MIME type match a pattern: exact, "type/*", or "*" / "*\/*". */
export function typeMatches(contentType: string, pattern: string): boolean {
  const type = contentType.toLowerCase();
  const p = pattern.trim().toLowerCase();
  if (p === "*" || p === "*/*") return true;
  if (p.endsWith("/*")) return type.startsWith(p.slice(0, -1));
  return type === p;
}
