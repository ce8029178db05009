/**
 * Fault injection for ConvertPool: the real conversion worker, except that a message carrying
 * `X-Crash: throw` ends the worker with an uncaught exception (as a converter bug inside a parser
 * callback would), and `X-Crash: heap` exhausts its heap (as a message that needs too much memory
 * would). Every other message is converted by the real worker code.
 */
import { parentPort } from "node:worker_threads";
import type { ToWorker } from "../../../../src/mime/pool/wire.js";
// The real worker; its listener is registered first, this module's throws while it converts.
import "../../../../src/mime/pool/convert-worker.js";

parentPort?.on("message", (message: ToWorker) => {
  if (message.type !== "convert") return;
  const head = Buffer.from(message.raw.buffer, message.raw.byteOffset, message.raw.byteLength)
    .subarray(0, 2048)
    .toString("latin1");
  const fault = /^X-Crash: (\w+)/im.exec(head)?.[1];
  // The real listener has started converting; the worker ends before it answers.
  if (fault === "throw") throw new TypeError("injected converter fault");
  if (fault === "heap") {
    const hoard: string[][] = [];
    for (;;) hoard.push(Array.from({ length: 1e5 }, (_, i) => `grow ${i}`));
  }
});
