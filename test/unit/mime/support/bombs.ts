/**
 * MIME bombs, generated as streams. They are the one kind of test input not written as a fixture
 * file: what matters is their structure and size (10,000 parts, 100 levels, a 2 MiB header line),
 * not a client's style, and as files they would be megabytes of repetition. Each generator counts
 * the bytes it has handed out so a test can show that the converter stopped reading early.
 */
import { Readable } from "node:stream";

export interface CountingStream {
  stream: Readable;
  /** Bytes pulled by the consumer so far. */
  pulled(): number;
  /** Bytes the whole input would have. */
  total: number;
}

function counting(chunks: () => Generator<string>, total: number): CountingStream {
  let pulled = 0;
  const stream = Readable.from(
    (function* () {
      for (const chunk of chunks()) {
        pulled += Buffer.byteLength(chunk);
        yield Buffer.from(chunk);
      }
    })(),
  );
  return { stream, pulled: () => pulled, total };
}

const HEAD =
  "From: bomb@example.net\r\nTo: assistant@example.test\r\nSubject: bomb\r\nMessage-ID: <bomb@example.net>\r\nMIME-Version: 1.0\r\n";

/** multipart/mixed with `parts` tiny text parts. */
export function manyParts(parts: number): CountingStream {
  const part = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n";
  return counting(function* () {
    yield `${HEAD}Content-Type: multipart/mixed; boundary="b"\r\n\r\n`;
    for (let i = 0; i < parts; i++) yield part;
    yield "--b--\r\n";
  }, parts * part.length);
}

/** `depth` nested multipart/mixed levels with one text part at the bottom. */
export function deepNesting(depth: number): CountingStream {
  return counting(function* () {
    yield `${HEAD}Content-Type: multipart/mixed; boundary="b0"\r\n\r\n`;
    for (let i = 1; i <= depth; i++)
      yield `--b${i - 1}\r\nContent-Type: multipart/mixed; boundary="b${i}"\r\n\r\n`;
    yield `--b${depth}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n--b${depth}--\r\n`;
    for (let i = depth - 1; i >= 0; i--) yield `--b${i}--\r\n`;
  }, depth * 60);
}

/** A single header line of `bytes` bytes. */
export function hugeHeader(bytes: number): CountingStream {
  return counting(function* () {
    yield `${HEAD}X-Filler: `;
    for (let sent = 0; sent < bytes; sent += 65536) yield "a".repeat(65536);
    yield "\r\n\r\nbody\r\n";
  }, bytes);
}

/** A plain message whose body is `bytes` of text. */
export function bigBody(bytes: number): CountingStream {
  return counting(function* () {
    yield `${HEAD}Content-Type: text/plain; charset=utf-8\r\n\r\n`;
    for (let sent = 0; sent < bytes; sent += 65536)
      yield `${"lorem ipsum ".repeat(5461)}\r\n`.slice(0, 65536);
  }, bytes);
}
