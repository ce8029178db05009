/**
 * The conversion worker's entry: runs convertMessage on the raw messages the pool posts and posts
 * back the result or the error (see wire.ts). Options arrive once per key (an account's options),
 * not with every message.
 */
import { parentPort } from "node:worker_threads";
import { convertMessage } from "../convert.js";
import type { ConvertOptions } from "../types.js";
import { type FromWorker, type ToWorker, toWireError } from "./wire.js";

const port = parentPort;
if (!port) throw new Error("convert-worker.ts runs as a worker thread (ConvertPool), not on its own");

const options = new Map<number, ConvertOptions>();
const running = new Map<number, AbortController>();
const post = (message: FromWorker) => port.postMessage(message);

async function convert(id: number, key: number, raw: Uint8Array): Promise<void> {
  const abort = new AbortController();
  running.set(id, abort);
  try {
    const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
    const parsed = await convertMessage(bytes, { ...options.get(key), signal: abort.signal });
    post({ type: "done", id, parsed });
  } catch (error) {
    post({ type: "failed", id, error: toWireError(error) });
  } finally {
    running.delete(id);
  }
}

port.on("message", (message: ToWorker) => {
  if (message.type === "options") options.set(message.key, message.options);
  else if (message.type === "convert") void convert(message.id, message.key, message.raw);
  else running.get(message.id)?.abort();
});
post({ type: "ready" });
