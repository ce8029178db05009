/**
 * The streaming MIME walk, on top of mailparser's MailParser (and its splitter, @zone-eu/mailsplit).
 *
 * We use MailParser for what it is good at (splitting, transfer decoding, header unfolding, parameter
 * and filename decoding, attachment streams with flow control) and take every leaf part as a stream:
 * `textTypes` is emptied so that mailparser buffers no body text itself, and we decide per part
 * (body, calendar, report, attachment) in convert.ts with our own charset handling and limits.
 * createNode is wrapped to build the MIME tree (mailparser does not expose one) and to enforce the
 * depth limit. Both touch mailparser internals; they are pinned to mailparser 3.9.20 and covered by
 * test/unit/mime, which fails loudly if an upgrade changes them.
 */
import { once } from "node:events";
import type { Readable } from "node:stream";
import { MailParser, type MailParserOptions } from "mailparser";
import { rawPathTail } from "./filename.js";
import type { RawHeaderLine } from "./headers.js";
import { type LimitCode, limitError } from "./limits.js";
import { readStream } from "./read-stream.js";
import { RootHeaderRepair } from "./repair.js";

/** mailsplit's MimeNode, as far as we read it. */
interface SplitNode {
  root: boolean;
  parentNode: SplitNode | false;
  contentType: string | false;
  charset: string | false;
  disposition: string | false;
  filename: string | false;
  messageNode?: boolean;
  flowed: boolean;
  delSp: boolean;
  headers: { getList(): RawHeaderLine[] };
}

/** MailParser's own node wrapper (what createNode returns). */
interface ParserNode {
  headers: Map<string, unknown>;
}

/** The attachment objects MailParser pushes (for us: every leaf part). */
interface ParserLeaf {
  type: "attachment";
  content: Readable;
  /** false when the part's Content-Type header is empty or missing (below the root). */
  contentType: string | false;
  filename?: string;
  cid?: string;
  checksum?: string;
  headers: Map<string, unknown>;
  release: (() => void) | null;
}

interface MailParserInternals {
  createNode(this: MailParser, node: SplitNode): ParserNode;
}

/** One node of the MIME tree as we keep it. */
export interface MimeNode {
  contentType: string;
  charset?: string;
  disposition?: string;
  filename?: string;
  contentId?: string;
  flowed: boolean;
  delSp: boolean;
  depth: number;
  /** Raw header lines of this part (binary strings). */
  headerLines: RawHeaderLine[];
  children: MimeNode[];
  parent?: MimeNode;
  /** Filled by the leaf handler: decoded text of a body part. */
  text?: string;
}

export interface LeafPart {
  node: MimeNode;
  /** MailParser's type (application/octet-stream refined from the file name). */
  contentType: string;
  stream: Readable;
}

export interface WalkOptions {
  maxParts: number;
  maxDepth: number;
  maxHeaderBytes: number;
  maxMessageBytes: number;
  /** Called for every leaf, in order; must consume `stream` to its end. */
  onLeaf(leaf: LeafPart): Promise<void>;
  /** Every raw input chunk, in order (hashing). */
  onChunk(chunk: Buffer): void;
  /** Bytes waiting in the current leaf stream; input is paused while it exceeds 1 MiB. */
  backlog(): number;
  signal?: AbortSignal;
}

const BACKLOG_LIMIT = 1024 * 1024;
const LIMIT_MESSAGES: [RegExp, LimitCode][] = [
  [/child nodes/i, "MIME_TOO_MANY_PARTS"],
  [/header size/i, "MIME_HEADER_TOO_LARGE"],
];

class TreeParser extends MailParser {
  root?: MimeNode;
  private readonly nodes = new WeakMap<SplitNode, MimeNode>();
  readonly byHeaders = new WeakMap<Map<string, unknown>, MimeNode>();

  constructor(
    options: MailParserOptions,
    private readonly maxDepth: number,
    private readonly onDepth: (depth: number) => void,
  ) {
    super(options);
    // Every leaf becomes an "attachment" stream: mailparser then buffers no body text of its own.
    (this as unknown as { textTypes: string[] }).textTypes = [];
  }

  /**
   * MailParser decodes every header of every part into a Map (addresses, dates, encoded words) that
   * we never read: we decode the raw lines ourselves (headers.ts). An empty Map per node keeps its
   * identity (byHeaders) and saves about a seventh of the conversion of a small message.
   */
  processHeaders(): Map<string, unknown> {
    return new Map();
  }

  createNode(split: SplitNode): ParserNode {
    const created = (MailParser.prototype as unknown as MailParserInternals).createNode.call(this, split);
    try {
      this.track(split, created);
    } catch (error) {
      // This runs inside mailparser's own callbacks, where a throw would end the process: the
      // conversion fails instead (walkMime listens for "error").
      this.emit("error", error);
    }
    return created;
  }

  /** Records the node in our tree (see MimeNode). */
  private track(split: SplitNode, created: ParserNode): void {
    const parent = split.parentNode ? this.nodes.get(split.parentNode) : undefined;
    const depth = parent ? parent.depth + 1 : 0;
    const lines = split.headers.getList();
    const cid = lines
      .find((l) => l.key === "content-id")
      ?.line.replace(/^[^:]*:\s*/, "")
      .trim()
      .replace(/^<|>$/g, "");
    const node: MimeNode = {
      contentType: (split.contentType || "text/plain").toLowerCase(),
      ...(split.charset ? { charset: split.charset } : {}),
      ...(split.disposition ? { disposition: split.disposition } : {}),
      ...(split.filename ? { filename: rawPathTail(lines) ?? split.filename } : {}),
      ...(cid ? { contentId: cid } : {}),
      flowed: split.flowed,
      delSp: split.delSp,
      depth,
      headerLines: lines,
      children: [],
      ...(parent ? { parent } : {}),
    };
    if (parent) parent.children.push(node);
    else this.root ??= node;
    this.nodes.set(split, node);
    this.byHeaders.set(created.headers, node);
    if (depth > this.maxDepth) this.onDepth(depth);
  }
}

/** Splits a whole message into the pieces the parser is fed (no stream in between). */
function* pieces(raw: Uint8Array, size: number): Generator<Buffer> {
  for (let i = 0; i < raw.length; i += size)
    yield Buffer.from(raw.buffer, raw.byteOffset + i, Math.min(size, raw.length - i));
}

/**
 * Parses `source` (a stream, or a whole message already in memory), calling onLeaf for each leaf
 * part; resolves with the tree once everything is consumed.
 */
export async function walkMime(source: Readable | Uint8Array, options: WalkOptions): Promise<MimeNode> {
  const stream = source instanceof Uint8Array ? undefined : source;
  let failure: Error | undefined;
  let rejectRun: (e: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    rejectRun = reject;
  });
  failed.catch(() => undefined);
  const parserOptions = {
    maxHeadSize: options.maxHeaderBytes,
    maxChildNodes: options.maxParts,
    checksumAlgo: "sha256",
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    keepDeliveryStatus: true,
  } as MailParserOptions;
  const parser = new TreeParser(parserOptions, options.maxDepth, (depth) =>
    fail(limitError("MIME_TOO_DEEP", `MIME nesting deeper than maxDepth (${options.maxDepth})`, { depth })),
  );

  let currentLeaf: { stream: Readable; done: Promise<void> } | undefined;
  // mailparser ends without waiting for the last leaf's release(); we wait for every handler.
  const pending: Promise<void>[] = [];

  function fail(error: Error): void {
    if (failure) return;
    failure = error;
    currentLeaf?.stream.destroy();
    // Stop mailparser from reading further and release the input.
    (parser as unknown as { hasFailed: boolean }).hasFailed = true;
    stream?.destroy();
    parser.destroy();
    rejectRun(error);
  }

  const onError = (err: Error & { code?: string }) => {
    const limit = err.code === "EMAXLEN" ? LIMIT_MESSAGES.find(([re]) => re.test(err.message)) : undefined;
    fail(
      limit
        ? limitError(
            limit[1],
            `${err.message} (limit ${limit[1] === "MIME_TOO_MANY_PARTS" ? options.maxParts : options.maxHeaderBytes})`,
          )
        : err,
    );
  };
  parser.on("error", onError);
  // mailparser drops splitter errors that arrive after the input ended (its waitingEnd ignores
  // them), which lets a part-count bomb "succeed" half-parsed: we listen to the splitter directly.
  (parser as unknown as { splitter: NodeJS.EventEmitter }).splitter.on("error", onError);
  stream?.on("error", (err) => fail(err));
  const onAbort = () =>
    fail(options.signal?.reason instanceof Error ? options.signal.reason : new Error("aborted"));
  options.signal?.addEventListener("abort", onAbort, { once: true });

  parser.on("data", (chunk: ParserLeaf | { type: string }) => {
    if (chunk.type !== "attachment") return;
    const leaf = chunk as ParserLeaf;
    let handled: Promise<void>;
    try {
      const node = parser.byHeaders.get(leaf.headers);
      // An empty or missing Content-Type comes as false: the node's own default (text/plain) stands.
      const contentType = leaf.contentType ? leaf.contentType.toLowerCase() : node?.contentType;
      handled = node
        ? options.onLeaf({ node, contentType: contentType ?? "text/plain", stream: leaf.content })
        : drainQuietly(leaf.content);
    } catch (error) {
      // Nothing may throw into mailparser's own callbacks: it would end the host process.
      handled = Promise.reject(error);
    }
    const done = handled.then(
      () => leaf.release?.(),
      (err: Error) => fail(err),
    );
    currentLeaf = { stream: leaf.content, done };
    pending.push(done);
  });
  // events.once rejects on "error"; failures are reported through `failed`, so mark it handled.
  const ended = once(parser, "end");
  ended.catch(() => undefined);

  const repair = new RootHeaderRepair(options.maxHeaderBytes);
  const write = async (piece: Buffer) => {
    if (!failure && !parser.write(piece)) await Promise.race([once(parser, "drain"), failed]);
  };
  const pump = async () => {
    let total = 0;
    for await (const raw of stream ?? pieces(source as Uint8Array, 64 * 1024)) {
      if (failure) return;
      const chunk = raw as Buffer;
      total += chunk.length;
      if (total > options.maxMessageBytes) {
        fail(
          limitError("MIME_TOO_LARGE", `message larger than maxMessageBytes (${options.maxMessageBytes})`),
        );
        return;
      }
      options.onChunk(chunk);
      for (const piece of repair.push(chunk)) await write(piece);
      while (!failure && options.backlog() > BACKLOG_LIMIT) await new Promise((r) => setTimeout(r, 2));
    }
    for (const piece of repair.end()) await write(piece);
    if (!failure) parser.end();
  };

  try {
    await Promise.race([pump().then(() => Promise.race([ended, failed])), failed]);
    await Promise.race([Promise.all(pending), failed]);
  } catch (err) {
    if (!failure) fail(err as Error);
    // Let the leaf handler that was running see its stream end and clean up its file first.
    await currentLeaf?.done;
    throw failure;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  if (failure) throw failure;
  if (!parser.root) throw new Error("no MIME node was produced");
  return parser.root;
}

function drainQuietly(stream: Readable): Promise<void> {
  return readStream(stream, () => undefined); // not ours to keep
}
