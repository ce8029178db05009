/**
 * The conversion worker's entry: runs convertMessage on the raw messages the pool posts (and
 * htmlToReadableText on the HTML of the messages the pool converts in its own thread) and posts
 * back the result or the error (see wire.ts). Options arrive once per key (an account's options),
 * not with every message. At most `concurrency` conversions run at once (workerData); the messages
 * posted beyond them wait here, in the order they came, so the next one starts as soon as one ends.
 */
import { parentPort, workerData } from "node:worker_threads";
import { AbortedError } from "../../errors/index.js";
import { convertMessage } from "../convert.js";
import { htmlToReadableText } from "../html-text.js";
import type { ConvertOptions } from "../types.js";
import { type FromWorker, type ToWorker, toWireError, type WorkerSettings } from "./wire.js";

const port = parentPort;
if (!port) throw new Error("convert-worker.ts runs as a worker thread (ConvertPool), not on its own");

const concurrency = Math.max(1, Math.floor((workerData as WorkerSettings | undefined)?.concurrency ?? 4));
const options = new Map<number, ConvertOptions>();
const running = new Map<number, AbortController>();
type Queued = Extract<ToWorker, { type: "convert" | "html" }>;
const waiting: Queued[] = [];
const post = (message: FromWorker) => port.postMessage(message);

async function run(job: Queued): Promise<void> {
  const { id } = job;
  const abort = new AbortController();
  running.set(id, abort);
  try {
    if (job.type === "html") {
      post({ type: "text", id, text: htmlToReadableText(job.html) });
      return;
    }
    const bytes = Buffer.from(job.raw.buffer, job.raw.byteOffset, job.raw.byteLength);
    const parsed = await convertMessage(bytes, { ...options.get(job.key), signal: abort.signal });
    post({ type: "done", id, parsed });
  } catch (error) {
    post({ type: "failed", id, error: toWireError(error) });
  } finally {
    running.delete(id);
    startWaiting();
  }
}

function startWaiting(): void {
  while (running.size < concurrency && waiting.length > 0) void run(waiting.shift()!);
}

/** Stops a running conversion (it removes its files), or drops a waiting one; either way it is answered. */
function abort(id: number): void {
  const index = waiting.findIndex((job) => job.id === id);
  if (index < 0) {
    running.get(id)?.abort();
    return;
  }
  waiting.splice(index, 1);
  post({ type: "failed", id, error: toWireError(new AbortedError("mime", "aborted while queued")) });
}

port.on("message", (message: ToWorker) => {
  if (message.type === "options") options.set(message.key, message.options);
  else if (message.type === "abort") abort(message.id);
  else {
    waiting.push(message);
    startWaiting();
  }
});
post({ type: "ready" });
