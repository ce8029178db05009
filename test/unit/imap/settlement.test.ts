import type { ImapFlow } from "imapflow";
import { describe, expect, it } from "vitest";
import { openSqliteStore, silentLogger } from "../../../src/index.js";
import { Settlement } from "../../../src/imap/settlement.js";

const where = { account: "a@x.test", mailbox: "INBOX", uidValidity: "42" };

/** A store whose records 3, 4 and 5 were handled and owe their \Seen. */
function ledger() {
  const store = openSqliteStore({ path: ":memory:" });
  for (const uid of [3, 4, 5]) {
    store.inbound.put({ ...where, uid, messageId: `m${uid}@x.test`, status: "received", attempts: 1 });
    store.inbound.setStatus({ ...where, uid }, "handled", undefined, "seen");
  }
  return store;
}

/** An ImapFlow stand-in: STORE answers `stored` (imapflow reports a failed command as false). */
function client(o: { stored: boolean; usable: boolean }) {
  const stores: string[] = [];
  const c = {
    usable: o.usable,
    mailbox: { path: "INBOX", uidValidity: 42n },
    async messageFlagsAdd(range: string) {
      stores.push(range);
      return o.stored;
    },
  };
  return { client: c as unknown as ImapFlow, stores };
}

const owed = (store: ReturnType<typeof ledger>) =>
  store.inbound.mailboxTodos(where.account, where.mailbox, where.uidValidity).map((t) => t.uid);

describe("Settlement", () => {
  it("applies what the ledger says is owed and clears it", async () => {
    const store = ledger();
    const s = new Settlement({ account: where.account, mailbox: "INBOX", store, logger: silentLogger() });
    const { client: c, stores } = client({ stored: true, usable: true });
    s.loadOwed(c);
    s.add(5, { action: "seen" }, "42");
    expect(s.size).toBe(3);
    await s.flush(c);
    expect(stores).toEqual(["3:5"]);
    expect(owed(store)).toEqual([]);
    expect(s.size).toBe(0);
  });

  it("keeps what a live server refused owed in the ledger, and goes on", async () => {
    const store = ledger();
    const s = new Settlement({ account: where.account, mailbox: "INBOX", store, logger: silentLogger() });
    const refusing = client({ stored: false, usable: true }).client;
    s.loadOwed(refusing);
    await s.flush(refusing);
    expect(s.size).toBe(0); // not retried by every cycle...
    expect(owed(store)).toEqual([3, 4, 5]); // ...but by the next session
  });

  it("keeps it pending and fails when the connection went away meanwhile", async () => {
    const store = ledger();
    const s = new Settlement({ account: where.account, mailbox: "INBOX", store, logger: silentLogger() });
    const gone = client({ stored: false, usable: false }).client;
    s.loadOwed(gone);
    await expect(s.flush(gone)).rejects.toThrow(/connection was lost/);
    expect(s.size).toBe(3);
    expect(owed(store)).toEqual([3, 4, 5]);
  });

  it("owes a disposition applied at once until the server has carried it out", async () => {
    const store = ledger();
    store.inbound.put({
      ...where,
      uid: 9,
      messageId: "m9@x.test",
      status: "ignored",
      attempts: 0,
      reason: "why",
      mailboxTodo: "refused", // as the handler records a refusal (MailboxHandler.onMessage)
    });
    const s = new Settlement({ account: where.account, mailbox: "INBOX", store, logger: silentLogger() });
    await s.now(client({ stored: false, usable: true }).client, 9, { action: "refused", reason: "why" });
    expect(store.inbound.mailboxTodos(where.account, "INBOX", "42").find((t) => t.uid === 9)).toEqual({
      uid: 9,
      todo: "refused",
      reason: "why",
    });
    await expect(
      s.now(client({ stored: false, usable: false }).client, 9, { action: "refused", reason: "why" }),
    ).rejects.toThrow(/connection was lost/);
    await s.now(client({ stored: true, usable: true }).client, 9, { action: "refused", reason: "why" });
    expect(owed(store)).toEqual([3, 4, 5]);
  });
});

describe("Settlement across a UIDVALIDITY change", () => {
  it("drops a disposition decided under another UIDVALIDITY instead of applying it to a new UID", async () => {
    const store = ledger();
    const s = new Settlement({ account: where.account, mailbox: "INBOX", store, logger: silentLogger() });
    // UID 42 was with the agent under UIDVALIDITY 41 when the connection dropped; the mailbox came
    // back with UIDVALIDITY 42, where UID 42 is another message.
    s.add(42, { action: "seen" }, "41");
    const { client: c, stores } = client({ stored: true, usable: true });
    s.loadOwed(c);
    await s.flush(c);
    expect(stores).toEqual(["3:5"]); // the ledger's own, not the old 42
    expect(s.size).toBe(0);
  });

  it("loads what the new UIDVALIDITY owes for a UID a stale disposition still holds", async () => {
    const store = ledger();
    store.inbound.put({ ...where, uid: 42, messageId: "m42@x.test", status: "received", attempts: 1 });
    store.inbound.setStatus({ ...where, uid: 42 }, "handled", undefined, "seen");
    const s = new Settlement({ account: where.account, mailbox: "INBOX", store, logger: silentLogger() });
    s.add(42, { action: "quarantine", reason: "old" }, "41");
    const { client: c, stores } = client({ stored: true, usable: true });
    s.loadOwed(c);
    await s.flush(c);
    expect(stores).toEqual(["3:5,42"]);
    expect(owed(store)).toEqual([]);
  });

  it("lets a late settle of the old UIDVALIDITY not replace what the new one owes for the same UID", async () => {
    const store = ledger();
    store.inbound.put({ ...where, uid: 42, messageId: "m42@x.test", status: "received", attempts: 1 });
    store.inbound.setStatus({ ...where, uid: 42 }, "handled", undefined, "seen");
    const s = new Settlement({ account: where.account, mailbox: "INBOX", store, logger: silentLogger() });
    const { client: c, stores } = client({ stored: true, usable: true });
    s.loadOwed(c);
    s.add(42, { action: "quarantine", reason: "old" }, "41"); // the agent finished the old 42 just now
    await s.flush(c);
    expect(stores).toEqual(["3:5,42"]);
    expect(owed(store)).toEqual([]);
  });
});

describe("Settlement when the server refuses to create the quarantine mailbox", () => {
  it("keeps the messages owed for the next session and lets the cycle go on", async () => {
    const store = ledger();
    store.inbound.put({
      ...where,
      uid: 9,
      messageId: "m9@x.test",
      status: "quarantined",
      attempts: 0,
      reason: "too big",
      mailboxTodo: "quarantine",
    });
    const commands: string[] = [];
    const c = {
      usable: true,
      mailbox: { path: "INBOX", uidValidity: 42n },
      async messageFlagsAdd(range: string) {
        commands.push(`STORE ${range}`);
        return true;
      },
      async mailboxCreate(path: string) {
        commands.push(`CREATE ${path}`);
        throw Object.assign(new Error("Command failed"), {
          responseStatus: "NO",
          serverResponseCode: "NOPERM",
          responseText: "Permission denied",
        });
      },
      async messageMove(range: string) {
        commands.push(`MOVE ${range}`);
        return false; // NO [TRYCREATE]
      },
    } as unknown as ImapFlow;
    const s = new Settlement({ account: where.account, mailbox: "INBOX", store, logger: silentLogger() });
    s.loadOwed(c);
    await s.flush(c); // does not throw: the sync cycle after it runs
    expect(s.size).toBe(0);
    expect(owed(store)).toEqual([9]); // the \Seen of 3-5 was carried out; the move waits for the next session
    // Another quarantine in the same session does not send the refused CREATE again.
    s.add(10, { action: "quarantine", reason: "unparseable" }, "42");
    await s.flush(c);
    expect(commands.filter((x) => x.startsWith("CREATE"))).toHaveLength(1);
  });
});
