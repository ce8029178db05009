/**
 * Proves the IMAP server of the stack is real and configured the way the library's tests assume:
 * TLS both ways and verified against the stack CA, SPECIAL-USE folders, IDLE that actually notifies,
 * refused bad logins, and the master-user login.
 */
import MailComposer from "nodemailer/lib/mail-composer";
import { describe, expect, it } from "vitest";
import { deliverRaw, masterLogin } from "../../support/stack.js";
import { env, imapClient, mailboxStatus, newMessageId, waitForMessage, withImap } from "./helpers.js";

const { alice, bob, assistant } = env.users;

describe("stack IMAP", () => {
  it("logs in over STARTTLS on the plain port, with the certificate verified", async () => {
    await withImap(alice, async (client) => {
      expect(client.secureConnection).toBe(true);
      expect(client.port).toBe(env.ports.imap);
      expect(client.state).toBe(client.states.AUTHENTICATED);
      expect(client.capabilities.has("IDLE")).toBe(true);
    });
  });

  it("logs in over implicit TLS", async () => {
    await withImap(
      alice,
      async (client) => {
        expect(client.secureConnection).toBe(true);
        expect(client.port).toBe(env.ports.imaps);
        expect(client.capabilities.has("IDLE")).toBe(true);
      },
      { implicitTls: true },
    );
  });

  it.runIf(env.caFile !== undefined)("fails the TLS handshake when the stack CA is not trusted", async () => {
    const client = imapClient(alice, { implicitTls: true, tls: { rejectUnauthorized: true } });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    client.close();
    expect(error).toBeInstanceOf(Error);
    expect(String((error as NodeJS.ErrnoException).code)).toMatch(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/);
  });

  it("lists the RFC 6154 special-use mailboxes, subscribed", async () => {
    await withImap(bob, async (client) => {
      const list = await client.list();
      const byUse = new Map(list.filter((m) => m.specialUse).map((m) => [m.specialUse, m]));
      for (const use of ["\\Sent", "\\Drafts", "\\Trash", "\\Junk"]) {
        expect(byUse.get(use), use).toBeDefined();
        expect(byUse.get(use)!.subscribed, `${use} subscribed`).toBe(true);
      }
      const sent = byUse.get("\\Sent")!;
      const status = await mailboxStatus(client, sent.path);
      expect(status.messages).toBeGreaterThanOrEqual(0);
    });
  });

  it("refuses a wrong password", async () => {
    const client = imapClient(alice, { password: `${alice.password}-wrong` });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    client.close();
    expect(error).toMatchObject({ authenticationFailed: true });
  });

  it("refuses an unknown user", async () => {
    const client = imapClient({ ...alice, address: `nobody@${env.domain}` });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    client.close();
    expect(error).toMatchObject({ authenticationFailed: true });
  });

  it("notifies an IDLE-ing client of a new message", async () => {
    const client = imapClient(assistant);
    await client.connect();
    try {
      const mailbox = await client.mailboxOpen("INBOX");
      const before = mailbox.exists;
      const grown = new Promise<number>((resolve) => {
        client.on("exists", (data: { count: number }) => resolve(data.count));
      });
      const idling = client.idle();
      const raw = await new MailComposer({
        from: "Carol <carol@sender.test>",
        to: assistant.address,
        subject: "IDLE probe",
        text: "Wake up.",
        messageId: newMessageId(),
      })
        .compile()
        .build();
      await deliverRaw(raw, { from: "carol@sender.test", to: assistant.address });
      const count = await Promise.race([
        grown,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error("no EXISTS during IDLE")), 20_000),
        ),
      ]);
      expect(count).toBeGreaterThan(before);
      expect(client.idling).toBe(true);
      await client.noop(); // ends IDLE
      await idling;
    } finally {
      await client.logout().catch(() => client.close());
    }
  });

  it("opens another user's mailbox with the master user's password", async () => {
    const messageId = newMessageId();
    const raw = await new MailComposer({
      from: alice.address,
      to: alice.address,
      subject: "appended by the master user",
      text: "Filed by an administrator.",
      messageId,
    })
      .compile()
      .build();
    await withImap(
      alice,
      async (client) => {
        expect(client.authenticated).toBeTruthy();
        await client.append("INBOX", raw, ["\\Seen"]);
      },
      { login: masterLogin(alice, env), password: env.master.password },
    );
    // The message is in alice's own INBOX, seen through her own login.
    const found = await waitForMessage(alice, messageId, { timeoutMs: 5_000 });
    expect(found.source.toString("utf8")).toContain("Filed by an administrator.");
  });

  it("refuses the master login with a wrong master password", async () => {
    const client = imapClient(alice, { login: masterLogin(alice, env), password: `${env.master.password}x` });
    const error = await client.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    client.close();
    expect(error).toMatchObject({ authenticationFailed: true });
  });
});
