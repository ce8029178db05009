import type { ImapFlow } from "imapflow";
import { describe, expect, it } from "vitest";
import { applyDispositions, owedDisposition, REFUSED_KEYWORD } from "../../../src/imap/dispose.js";
import type { Disposition } from "../../../src/imap/types.js";

/** An ImapFlow stand-in that records commands and answers STORE/MOVE as imapflow does (false = not done). */
function stubClient(answers: { store?: (flags: string[]) => boolean; move?: boolean } = {}) {
  const calls: string[] = [];
  const client = {
    async messageFlagsAdd(range: string, flags: string[]) {
      calls.push(`STORE ${range} +${flags.join(" ")}`);
      return answers.store ? answers.store(flags) : true;
    },
    async messageMove(range: string, target: string) {
      calls.push(`MOVE ${range} ${target}`);
      return answers.move === false ? false : { path: "INBOX", destination: target };
    },
    async mailboxCreate(path: string) {
      calls.push(`CREATE ${path}`);
      return { path, created: true };
    },
  };
  return { client: client as unknown as ImapFlow, calls };
}

const items: [number, Disposition][] = [
  [3, { action: "seen" }],
  [4, { action: "seen" }],
  [7, { action: "refused", reason: "stranger" }],
  [9, { action: "quarantine", reason: "unparseable" }],
];

describe("applyDispositions", () => {
  it("sends one command per kind of action over UID sets and reports nothing failed", async () => {
    const { client, calls } = stubClient();
    const failed = await applyDispositions(client, items, { mailbox: "INBOX", processedMailbox: "Done" });
    expect(failed).toEqual([]);
    expect(calls).toEqual([
      "STORE 3:4 +\\Seen",
      "CREATE Done",
      "MOVE 3:4 Done",
      `STORE 7 +\\Flagged ${REFUSED_KEYWORD}`,
      "CREATE Quarantine",
      "MOVE 9 Quarantine",
    ]);
  });

  it("reports the UIDs whose STORE or MOVE the server did not carry out", async () => {
    const seenRefused = stubClient({ store: (flags) => !flags.includes("\\Seen") });
    expect(await applyDispositions(seenRefused.client, items, { mailbox: "INBOX" })).toEqual([3, 4]);
    // \Seen was set but the move to the processed mailbox failed: still owed.
    const moveFails = stubClient({ move: false });
    expect(
      await applyDispositions(moveFails.client, items, { mailbox: "INBOX", processedMailbox: "Done" }),
    ).toEqual([3, 4, 9]);
  });
});

describe("owedDisposition", () => {
  it("turns what the ledger says is owed back into a disposition, with the record's reason", () => {
    expect(owedDisposition({ todo: "seen" })).toEqual({ action: "seen" });
    expect(owedDisposition({ todo: "refused", reason: "ALLOWLIST_DENIED: x" })).toEqual({
      action: "refused",
      reason: "ALLOWLIST_DENIED: x",
    });
    expect(owedDisposition({ todo: "quarantine" })).toEqual({ action: "quarantine", reason: "quarantined" });
  });
});
