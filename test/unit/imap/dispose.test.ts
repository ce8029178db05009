import type { ImapFlow } from "imapflow";
import { describe, expect, it } from "vitest";
import { applyDispositions, owedDisposition, REFUSED_KEYWORD } from "../../../src/imap/dispose.js";
import type { Disposition } from "../../../src/imap/types.js";
import { silentLogger } from "../../../src/index.js";
import type { Logger } from "../../../src/log/index.js";

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
    const failed = await applyDispositions(client, items, {
      mailbox: "INBOX",
      processedMailbox: "Done",
      logger: silentLogger(),
    });
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
    expect(
      await applyDispositions(seenRefused.client, items, { mailbox: "INBOX", logger: silentLogger() }),
    ).toEqual([3, 4]);
    // \Seen was set but the move to the processed mailbox failed: still owed.
    const moveFails = stubClient({ move: false });
    expect(
      await applyDispositions(moveFails.client, items, {
        mailbox: "INBOX",
        processedMailbox: "Done",
        logger: silentLogger(),
      }),
    ).toEqual([3, 4, 9]);
  });
});

/** A NO to CREATE as imapflow reports it: the tagged response's status, code and text on the error. */
function refusedCreate(code: string, text: string) {
  return Object.assign(new Error("Command failed"), {
    responseStatus: "NO",
    serverResponseCode: code,
    responseText: text,
  });
}

/**
 * A stand-in whose CREATE fails with `error` (`usable`: whether the connection is still there) and
 * whose MOVE to a mailbox it never created is answered NO [TRYCREATE], i.e. `false`.
 */
function refusingCreate(error: Error, usable = true) {
  const calls: string[] = [];
  const warnings: unknown[] = [];
  const client = {
    usable,
    async messageFlagsAdd(range: string, flags: string[]) {
      calls.push(`STORE ${range} +${flags.join(" ")}`);
      return true;
    },
    async messageMove(range: string, target: string) {
      calls.push(`MOVE ${range} ${target}`);
      return false;
    },
    async mailboxCreate(path: string) {
      calls.push(`CREATE ${path}`);
      throw error;
    },
  };
  const logger = { ...silentLogger(), warn: (o: unknown) => warnings.push(o) } as unknown as Logger;
  return { client: client as unknown as ImapFlow, calls, warnings, logger };
}

describe("applyDispositions when the server refuses to create the target mailbox", () => {
  it("counts the messages to move there as not carried out, logs the answer once, and does not ask again on this connection", async () => {
    const c = refusingCreate(refusedCreate("NOPERM", "Permission denied"));
    const options = { mailbox: "INBOX", quarantineMailbox: "Quarantine", logger: c.logger };
    expect(await applyDispositions(c.client, items, options)).toEqual([9]);
    expect(
      await applyDispositions(c.client, [[12, { action: "quarantine", reason: "big" }]], options),
    ).toEqual([12]);
    expect(c.calls.filter((x) => x.startsWith("CREATE"))).toEqual(["CREATE Quarantine"]);
    expect(c.warnings).toHaveLength(1);
    expect(JSON.stringify(c.warnings[0])).toContain("Permission denied");
    // A new connection (the next session) asks again.
    const next = refusingCreate(refusedCreate("OVERQUOTA", "Quota exceeded"));
    await applyDispositions(next.client, items, { ...options, logger: next.logger });
    expect(next.calls.filter((x) => x.startsWith("CREATE"))).toEqual(["CREATE Quarantine"]);
  });

  it("counts the \\Seen messages as not carried out when the processed mailbox cannot be created", async () => {
    const c = refusingCreate(refusedCreate("NOPERM", "Permission denied"));
    const failed = await applyDispositions(c.client, items, {
      mailbox: "INBOX",
      processedMailbox: "Done",
      logger: c.logger,
    });
    expect(failed).toEqual([3, 4, 9]);
  });

  it("still throws when the connection was lost during the CREATE", async () => {
    const lost = Object.assign(new Error("Connection not available"), { code: "NoConnection" });
    const c = refusingCreate(lost, false);
    await expect(applyDispositions(c.client, items, { mailbox: "INBOX", logger: c.logger })).rejects.toThrow(
      /Connection not available/,
    );
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
