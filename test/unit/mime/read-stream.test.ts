import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readStream } from "../../../src/mime/read-stream.js";

describe("readStream", () => {
  it("hands over every chunk in order and resolves at the end", async () => {
    const seen: string[] = [];
    await readStream(Readable.from([Buffer.from("a"), Buffer.from("b"), Buffer.from("c")]), (c) =>
      seen.push(c.toString()),
    );
    expect(seen).toEqual(["a", "b", "c"]);
  });

  it("rejects on a stream error", async () => {
    const s = new PassThrough();
    const done = readStream(s, () => undefined);
    s.write("x");
    s.destroy(new Error("boom"));
    await expect(done).rejects.toThrow("boom");
  });

  it("rejects when the stream closes before its end", async () => {
    const s = new PassThrough();
    const done = readStream(s, () => undefined);
    s.write("x");
    s.destroy();
    await expect(done).rejects.toMatchObject({ code: "ERR_STREAM_PREMATURE_CLOSE" });
  });

  it("rejects and destroys the stream when the handler throws", async () => {
    const s = new PassThrough();
    const done = readStream(s, () => {
      throw new Error("handler failed");
    });
    s.write("x");
    await expect(done).rejects.toThrow("handler failed");
    expect(s.destroyed).toBe(true);
  });

  it("resolves at once for a stream that already ended, rejects for one already destroyed", async () => {
    const ended = Readable.from([]);
    await readStream(ended, () => undefined);
    await expect(readStream(ended, () => undefined)).resolves.toBeUndefined();
    const gone = new PassThrough();
    gone.destroy();
    await expect(readStream(gone, () => undefined)).rejects.toMatchObject({
      code: "ERR_STREAM_PREMATURE_CLOSE",
    });
  });
});
