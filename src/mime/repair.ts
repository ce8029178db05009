/**
 * Repairs of the root header block before the splitter sees it. Only what real producers get wrong
 * and what makes the whole structure unreadable otherwise:
 * - `Content-Type: multipart/mixed\r\n\tboundary="x"`: the ";" before a parameter is missing, so the
 *   splitter finds no boundary and the message has no parts (seen from a Dovecot test message).
 */

const HEADER_END = /\r?\n\r?\n/;

/** Adds the missing ";" before parameters of a top-level Content-Type (binary string in, out). */
export function repairContentType(head: string): string {
  return head.replace(
    /^(content-type:[ \t]*[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+)((?:\r?\n)?[ \t]+)(?=[a-z0-9-]+\*?=)/gim,
    "$1;$2",
  );
}

/**
 * Holds back input until the root header block is complete (or `limit` bytes were seen), repairs it,
 * then passes everything through unchanged.
 */
export class RootHeaderRepair {
  private held: Buffer[] = [];
  private heldBytes = 0;
  private done = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): Buffer[] {
    if (this.done) return [chunk];
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    const all = Buffer.concat(this.held);
    const text = all.toString("latin1");
    const end = HEADER_END.exec(text);
    if (!end && this.heldBytes < this.limit) {
      this.held = [all];
      return [];
    }
    return this.release(all, end ? end.index : text.length);
  }

  end(): Buffer[] {
    if (this.done) return [];
    const all = Buffer.concat(this.held);
    return this.release(all, all.length);
  }

  private release(all: Buffer, headEnd: number): Buffer[] {
    this.done = true;
    this.held = [];
    const head = all.subarray(0, headEnd).toString("latin1");
    const repaired = repairContentType(head);
    if (repaired === head) return [all];
    return [Buffer.from(repaired, "latin1"), all.subarray(headEnd)];
  }
}
