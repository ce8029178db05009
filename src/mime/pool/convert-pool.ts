/**
 * ConvertPool: convertMessage on worker threads. The channel lives in the assistant's main process
 * beside its other channels; parsing a large backlog, a heavy message or a hostile one there holds
 * that process's event loop, and a converter bug or a MIME bomb's memory would take the process
 * down. On a worker, conversion runs beside the channel's own work (IMAP, ledger, agent), and a
 * crash or an exhausted heap ends one worker: the message that caused it fails alone
 * (InputError MIME_CONVERTER_CRASHED, so it is quarantined with the reason) and a fresh worker
 * takes the rest.
 *
 * Finding the culprit: when a worker dies with several messages posted to it (converting or queued
 * there), each of them is run again, alone on a worker ("suspect"); only a message that ends a
 * worker while alone is failed.
 * A stream (a message too big to fetch whole) is converted in this thread: the converter reads it
 * as it arrives and keeps memory flat, which copying it to a worker would not. Its HTML, the one
 * step that needs a whole body in memory (a DOM of every element: ~0.5 s and ~100 MB for a 1 MB
 * table), is converted to text on a worker; if that worker dies, the tags are stripped instead.
 */
import { createRequire } from "node:module";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { AbortedError, InputError } from "../../errors/index.js";
import type { Logger } from "../../log/index.js";
import { convertWith } from "../convert.js";
import { htmlToReadableText } from "../html-text.js";
import type { ConvertOptions, ParsedInbound } from "../types.js";
import {
  type FromWorker,
  fromWireError,
  type ToWorker,
  type WorkerSettings,
  wireBytes,
  wireOptions,
} from "./wire.js";

export interface ConvertPoolOptions {
  /** Worker threads. Default 1; at least 1. */
  workers?: number;
  /** Conversions one worker runs at once (they wait on attachment writes). Default 4; more queue. */
  perWorker?: number;
  /**
   * Messages posted to a worker beyond those it is converting, waiting in the worker's own queue:
   * when one conversion ends the worker starts the next at once instead of waiting for this thread
   * (busy with IMAP, the ledger and the agent) to read its answer and post more. Default 28.
   */
  queuedPerWorker?: number;
  /** Raw bytes posted to one worker and not yet answered, at most (one message always goes). Default 8 MiB. */
  queuedBytesPerWorker?: number;
  /**
   * Old-generation heap of each worker, MiB. Default 512. A message whose conversion needs more
   * ends its worker and fails alone with MIME_CONVERTER_CRASHED.
   */
  maxHeapMb?: number;
  /**
   * A worker with nothing to convert for this long ends, giving its memory back (some tens of MB);
   * the next message starts one again (about 0.1 s). Milliseconds, default 60000.
   */
  idleMs?: number;
  logger?: Logger;
  /**
   * The workers' module. Default: convert-worker (the converter). Another module must speak the
   * same messages (wire.ts); fault-injection tests use one that crashes on a marked message.
   */
  workerModule?: URL;
}

/** What a job asks of a worker: a whole conversion, or the HTML -> text of one in this thread. */
type Work =
  | { kind: "convert"; key: number; options: ConvertOptions; raw: Uint8Array }
  | { kind: "html"; html: string };

interface Job {
  id: number;
  work: Work;
  /** What it holds in memory, bytes (counted against queuedBytesPerWorker). */
  bytes: number;
  /** Was in flight on a worker that died: runs again alone on a worker. */
  suspect: boolean;
  settled: boolean;
  slot?: Slot;
  resolve(value: ParsedInbound | string): void;
  reject(error: unknown): void;
}

interface Slot {
  worker: Worker;
  running: Map<number, Job>;
  /** Runs one suspect job and nothing else. */
  alone: boolean;
  /** Loaded its modules (a worker that dies before this is broken, not crashed by a message). */
  ready: boolean;
  optionKeys: Set<number>;
  /** Raw bytes of the jobs posted to it and not yet answered. */
  bytes: number;
  error?: Error;
  /** Ended for being idle: its exit is no failure. */
  retiring: boolean;
  idleTimer?: NodeJS.Timeout;
}

/** Workers that die before they are ready, in a row, before the pool converts in this thread instead. */
const MAX_START_FAILURES = 3;

/** What a worker runs: the compiled module beside this file, or TypeScript source (tests) through tsx. */
function workerScript(module: URL | undefined): { script: URL | string; eval: boolean } {
  const here = import.meta.url;
  const url = module ?? new URL(here.endsWith(".ts") ? "./convert-worker.ts" : "./convert-worker.js", here);
  if (!url.pathname.endsWith(".ts")) return { script: url, eval: false };
  // Node 20 applies no ESM loader hooks in workers (nodejs/node#47747): tsx's require hook, which
  // is per thread, loads the source instead.
  const tsx = createRequire(here).resolve("tsx/cjs/api");
  const source = fileURLToPath(url);
  return {
    script: `require(${JSON.stringify(tsx)}).register();\nrequire(${JSON.stringify(source)});`,
    eval: true,
  };
}

export class ConvertPool {
  readonly #size: number;
  readonly #perWorker: number;
  /** Jobs posted to one worker at most: those it converts and those queued on it. */
  readonly #depth: number;
  readonly #depthBytes: number;
  readonly #maxHeapMb: number;
  readonly #idleMs: number;
  readonly #log: Logger | undefined;
  readonly #module: URL | undefined;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  readonly #keys = new WeakMap<ConvertOptions, number>();
  #nextKey = 0;
  #nextId = 0;
  #startFailures = 0;
  /** The workers could not start: conversions run in this thread. */
  #inThread = false;
  #closed = false;

  constructor(options: ConvertPoolOptions = {}) {
    this.#size = Math.max(1, Math.floor(options.workers ?? 1));
    this.#perWorker = Math.max(1, Math.floor(options.perWorker ?? 4));
    this.#depth = this.#perWorker + Math.max(0, Math.floor(options.queuedPerWorker ?? 28));
    this.#depthBytes = options.queuedBytesPerWorker ?? 8 * 1024 * 1024;
    this.#maxHeapMb = options.maxHeapMb ?? 512;
    this.#idleMs = options.idleMs ?? 60_000;
    this.#log = options.logger;
    this.#module = options.workerModule;
  }

  /** Workers alive now (they start with the first message and end when idle). */
  get workers(): number {
    return this.#slots.length;
  }

  /** Converts one message; the same contract as convertMessage (errors, abort, attachment files). */
  convert(raw: Buffer | Uint8Array | Readable, options: ConvertOptions = {}): Promise<ParsedInbound> {
    if (this.#inThread) return convertWith(raw, options, {});
    if (raw instanceof Readable)
      return convertWith(raw, options, { htmlToText: (html) => this.#htmlToText(html, options.signal) });
    const work: Work = { kind: "convert", key: this.#keyOf(options), options, raw: wireBytes(raw) };
    return this.#submit(work, work.raw.byteLength, options.signal) as Promise<ParsedInbound>;
  }

  /** HTML -> readable text on a worker (for the messages converted in this thread). */
  #htmlToText(html: string, signal: AbortSignal | undefined): Promise<string> {
    if (this.#inThread) return Promise.resolve(htmlToReadableText(html));
    return this.#submit({ kind: "html", html }, html.length * 2, signal) as Promise<string>;
  }

  #submit(work: Work, bytes: number, signal: AbortSignal | undefined): Promise<ParsedInbound | string> {
    if (this.#closed) return Promise.reject(new AbortedError("mime", "the conversion pool is closed"));
    if (signal?.aborted) return Promise.reject(new AbortedError("mime", signal.reason));
    return new Promise<ParsedInbound | string>((resolve, reject) => {
      const job: Job = { id: this.#nextId++, work, bytes, suspect: false, settled: false, resolve, reject };
      if (signal) {
        const onAbort = () => this.#abort(job, signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        const done = () => signal.removeEventListener("abort", onAbort);
        job.resolve = (value) => {
          done();
          resolve(value);
        };
        job.reject = (error) => {
          done();
          reject(error);
        };
      }
      this.#queue.push(job);
      this.#schedule();
    });
  }

  /** Ends every worker; conversions not finished reject with AbortedError. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) this.#settle(job, new AbortedError("mime", "pool closed"));
    await Promise.all(
      this.#slots.map((s) => {
        clearTimeout(s.idleTimer);
        return s.worker.terminate();
      }),
    );
  }

  #keyOf(options: ConvertOptions): number {
    let key = this.#keys.get(options);
    if (key === undefined) {
      key = this.#nextKey++;
      this.#keys.set(options, key);
    }
    return key;
  }

  #spawn(): Slot {
    const { script, eval: isEval } = workerScript(this.#module);
    const worker = new Worker(script, {
      eval: isEval,
      workerData: { concurrency: this.#perWorker } satisfies WorkerSettings,
      resourceLimits: { maxOldGenerationSizeMb: this.#maxHeapMb },
    });
    const slot: Slot = {
      worker,
      running: new Map(),
      alone: false,
      ready: false,
      optionKeys: new Set(),
      bytes: 0,
      retiring: false,
    };
    worker.unref();
    worker.on("message", (message: FromWorker) => this.#onMessage(slot, message));
    worker.on("error", (error) => {
      slot.error = error;
    });
    worker.on("exit", (code) => this.#onExit(slot, code));
    this.#slots.push(slot);
    return slot;
  }

  /** Hands queued jobs to workers: a suspect waits for an idle worker and runs alone on it. */
  #schedule(): void {
    while (this.#queue.length > 0) {
      const job = this.#queue[0]!;
      const slot =
        (job.suspect ? this.#slots.find((s) => s.running.size === 0) : this.#leastBusy(job)) ??
        (this.#slots.length < this.#size ? this.#spawn() : undefined);
      if (!slot) return;
      this.#queue.shift();
      this.#dispatch(slot, job);
    }
  }

  /** The worker with the fewest jobs that can take `job` (count and bytes posted, see #depth). */
  #leastBusy(job: Job): Slot | undefined {
    let best: Slot | undefined;
    for (const s of this.#slots) {
      if (s.alone || s.running.size >= this.#depth) continue;
      if (s.running.size > 0 && s.bytes + job.bytes > this.#depthBytes) continue;
      if (!best || s.running.size < best.running.size) best = s;
    }
    return best;
  }

  #dispatch(slot: Slot, job: Job): void {
    const post = (message: ToWorker) => slot.worker.postMessage(message);
    const work = job.work;
    if (work.kind === "convert" && !slot.optionKeys.has(work.key)) {
      post({ type: "options", key: work.key, options: wireOptions(work.options) });
      slot.optionKeys.add(work.key);
    }
    if (slot.running.size === 0) {
      clearTimeout(slot.idleTimer);
      slot.worker.ref();
    }
    slot.running.set(job.id, job);
    slot.bytes += job.bytes;
    slot.alone = job.suspect;
    job.slot = slot;
    // Not transferred: a suspect is posted again from the same bytes.
    if (work.kind === "convert") post({ type: "convert", id: job.id, key: work.key, raw: work.raw });
    else post({ type: "html", id: job.id, html: work.html });
  }

  #onMessage(slot: Slot, message: FromWorker): void {
    if (message.type === "ready") {
      slot.ready = true;
      this.#startFailures = 0;
      return;
    }
    const job = slot.running.get(message.id);
    if (!job) return;
    this.#release(slot, job);
    if (message.type === "done") this.#settle(job, undefined, message.parsed);
    else if (message.type === "text") this.#settle(job, undefined, message.text);
    else this.#settle(job, fromWireError(message.error));
    this.#schedule();
  }

  #release(slot: Slot, job: Job): void {
    if (slot.running.delete(job.id)) slot.bytes -= job.bytes;
    job.slot = undefined;
    if (slot.running.size === 0) {
      slot.alone = false;
      slot.worker.unref();
      slot.idleTimer = setTimeout(() => this.#retire(slot), this.#idleMs);
      slot.idleTimer.unref();
    }
  }

  #settle(job: Job, error: unknown, value?: ParsedInbound | string): void {
    if (job.settled) return;
    job.settled = true;
    if (value !== undefined) job.resolve(value);
    else job.reject(error);
  }

  #abort(job: Job, reason: unknown): void {
    if (job.settled) return;
    const queued = this.#queue.indexOf(job);
    if (queued >= 0) this.#queue.splice(queued, 1);
    // The worker stops the conversion and removes its files; its answer is then ignored.
    else job.slot?.worker.postMessage({ type: "abort", id: job.id } satisfies ToWorker);
    this.#settle(job, new AbortedError("mime", reason));
  }

  #retire(slot: Slot): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0 || slot.running.size > 0 || this.#closed) return;
    slot.retiring = true;
    this.#slots.splice(index, 1);
    void slot.worker.terminate();
  }

  #onExit(slot: Slot, code: number): void {
    if (slot.retiring) return;
    this.#slots.splice(this.#slots.indexOf(slot), 1);
    const jobs = [...slot.running.values()];
    const alone = slot.alone;
    for (const job of jobs) this.#release(slot, job);
    clearTimeout(slot.idleTimer);
    if (this.#closed) {
      for (const job of jobs) this.#settle(job, new AbortedError("mime", "pool closed"));
      return;
    }
    if (this.#inThread) {
      this.#runInThread(jobs);
      return;
    }
    const reason = slot.error?.message ?? `exit code ${code}`;
    if (!slot.ready) {
      this.#startFailures++;
      this.#queue.unshift(...jobs);
      if (this.#startFailures >= MAX_START_FAILURES) {
        this.#convertInThread(reason);
        return;
      }
    } else if (alone) {
      const job = jobs[0]!;
      this.#log?.warn({ reason }, "a message ended its conversion worker; it fails alone");
      this.#settle(
        job,
        new InputError(`the message ended its conversion worker (${reason})`, {
          code: "MIME_CONVERTER_CRASHED",
          stage: "mime",
        }),
      );
    } else {
      if (jobs.length > 0) this.#log?.warn({ reason, inFlight: jobs.length }, "a conversion worker died");
      for (const job of jobs) job.suspect = true;
      this.#queue.unshift(...jobs);
    }
    // A fresh worker starts for what is queued (#schedule spawns on demand).
    this.#schedule();
  }

  /** The workers cannot start (broken install, no threads): convert in this thread from now on. */
  #convertInThread(reason: string): void {
    this.#inThread = true;
    this.#log?.error({ reason }, "conversion workers cannot start; converting in the main thread");
    for (const s of this.#slots) void s.worker.terminate();
    this.#runInThread(this.#queue.splice(0));
  }

  #runInThread(jobs: Job[]): void {
    for (const job of jobs) {
      const work = job.work;
      if (work.kind === "html") {
        this.#settle(job, undefined, htmlToReadableText(work.html));
        continue;
      }
      const raw = Buffer.from(work.raw.buffer, work.raw.byteOffset, work.raw.byteLength);
      convertWith(raw, work.options, {}).then(
        (parsed) => this.#settle(job, undefined, parsed),
        (error) => this.#settle(job, error),
      );
    }
  }
}
