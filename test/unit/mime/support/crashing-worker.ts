/**
 * Fault injection for ConvertPool: the real conversion worker, except that a message carrying
 * `X-Crash: throw` ends the worker with an uncaught exception (as a converter bug inside a parser
 * callback would), and `X-Crash: heap` exhausts its heap (as a message that needs too much memory
 * would); and HTML sent to convert to text whose text has a line `X-Crash: throw` ends the worker
 * instead of being answered. Every other message is converted by the real worker code.
 */
import { parentPort } from "node:worker_threads";
import type { FromWorker, ToWorker } from "../../../../src/mime/pool/wire.js";
// The real worker; its listener is registered first, this module's throws while it converts.
import "../../../../src/mime/pool/convert-worker.js";

const faultIn = (text: string) => /^X-Crash: (\w+)/im.exec(text.slice(0, 2048))?.[1];

parentPort?.on("message", (message: ToWorker) => {
  if (message.type !== "convert") return;
  const fault = faultIn(
    Buffer.from(message.raw.buffer, message.raw.byteOffset, message.raw.byteLength).toString(
      "latin1",
      0,
      2048,
    ),
  );
  // The real listener has started converting; the worker ends before it answers.
  if (fault === "throw") throw new TypeError("injected converter fault");
  if (fault === "heap") {
    const hoard: string[][] = [];
    for (;;) hoard.push(Array.from({ length: 1e5 }, (_, i) => `grow ${i}`));
  }
});

// HTML -> text is answered at once (synchronously), before the listener above would see it: the
// fault is injected where the answer leaves.
const port = parentPort;
if (port) {
  const post = port.postMessage.bind(port);
  port.postMessage = (message: FromWorker) => {
    if (message.type === "text" && faultIn(message.text) === "throw") {
      // Uncaught, outside the worker's own try: the worker ends without answering.
      setImmediate(() => {
        throw new TypeError("injected converter fault (HTML)");
      });
      return;
    }
    post(message);
  };
}
