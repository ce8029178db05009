/**
 * Proves the fault-injection controls work on the real daemons: stopping Dovecot drops live IMAP
 * sessions and closes the ports, mail that arrives meanwhile waits in Postfix's queue, and both come
 * back with their mail intact; UIDVALIDITY can be forced to change. Local stack only, as root.
 */
import net from "node:net";
import MailComposer from "nodemailer/lib/mail-composer";
import { afterAll, describe, expect, it } from "vitest";
import { deliverRaw, flushMailQueue, resetUidValidity, restoreStack, stackCtl } from "../../support/stack.js";
import {
  env,
  imapClient,
  mailboxStatus,
  newMessageId,
  submissionTransport,
  waitForMessage,
  withImap,
} from "./helpers.js";

const canControl = env.controllable && process.getuid?.() === 0;
const { bob, support, alice } = env.users;

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: env.host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

async function rawMessage(to: string, subject: string, messageId: string): Promise<Buffer> {
  return new MailComposer({ from: "Erin <erin@sender.test>", to, subject, text: `${subject}.`, messageId })
    .compile()
    .build();
}

describe.runIf(canControl)("stack control (ctl.sh)", () => {
  afterAll(async () => {
    // Whatever happened above, leave every service running for the next test file.
    await restoreStack();
  });

  it("reports status per service", async () => {
    expect(await stackCtl("status", "dovecot")).toBe("dovecot running");
    expect(await stackCtl("status", "radicale")).toBe("radicale running");
  });

  it("stops Dovecot for real and starts it again with the mail intact", async () => {
    const before = newMessageId();
    await deliverRaw(await rawMessage(bob.address, "Before the outage", before), {
      from: "erin@sender.test",
      to: bob.address,
    });
    await waitForMessage(bob, before);

    const client = imapClient(bob);
    await client.connect();
    await client.mailboxOpen("INBOX");
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));

    await stackCtl("stop", "dovecot");
    await closed; // the live session was cut, not left hanging
    expect(await stackCtl("status", "dovecot")).toBe("dovecot stopped");
    expect(await refused(env.ports.imap)).toBe(true);
    expect(await refused(env.ports.imaps)).toBe(true);

    // Postfix still accepts; delivery to the stopped Dovecot waits in the queue.
    const during = newMessageId();
    await deliverRaw(await rawMessage(bob.address, "During the outage", during), {
      from: "erin@sender.test",
      to: bob.address,
    });

    await stackCtl("start", "dovecot");
    expect(await stackCtl("status", "dovecot")).toBe("dovecot running");
    await flushMailQueue();
    await waitForMessage(bob, during, { timeoutMs: 30_000 });
    await waitForMessage(bob, before, { timeoutMs: 5_000 });
  });

  it("stops Postfix for real and starts it again", async () => {
    await stackCtl("stop", "postfix");
    expect(await refused(env.ports.submission)).toBe(true);
    expect(await refused(env.ports.smtpInbound)).toBe(true);
    await stackCtl("start", "postfix");
    const messageId = newMessageId();
    const transport = submissionTransport(alice);
    try {
      await transport.sendMail({
        from: alice.address,
        to: bob.address,
        subject: "back",
        text: "up",
        messageId,
      });
    } finally {
      transport.close();
    }
    await waitForMessage(bob, messageId);
  });

  it("refuses submission while Dovecot (its SASL backend) is down, and takes it again seconds after", async () => {
    const send = async () => {
      const transport = submissionTransport(alice);
      try {
        return await transport.sendMail({
          from: alice.address,
          to: bob.address,
          subject: "auth probe",
          text: "x",
          messageId: newMessageId(),
        });
      } finally {
        transport.close();
      }
    };
    await stackCtl("stop", "dovecot");
    try {
      // Postfix authenticates through Dovecot: no AUTH, no submission (454 or a dropped session).
      await expect(send()).rejects.toBeInstanceOf(Error);
    } finally {
      await stackCtl("start", "dovecot");
    }
    const deadline = Date.now() + 15_000;
    let info: Awaited<ReturnType<typeof send>> | undefined;
    while (!info) {
      try {
        info = await send();
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    expect(info.accepted).toEqual([bob.address]);
  });

  it("forces a new UIDVALIDITY, keeping the UIDs", async () => {
    const messageId = newMessageId();
    await deliverRaw(await rawMessage(support.address, "UIDVALIDITY probe", messageId), {
      from: "erin@sender.test",
      to: support.address,
    });
    const { uid } = await waitForMessage(support, messageId);
    const old = await withImap(support, async (c) => (await mailboxStatus(c, "INBOX")).uidValidity);
    const fresh = await resetUidValidity(support.address);
    expect(BigInt(fresh)).toBeGreaterThan(BigInt(old));
    await withImap(support, async (c) => {
      const mailbox = await c.mailboxOpen("INBOX");
      expect(mailbox.uidValidity).toBe(BigInt(fresh));
    });
    expect((await waitForMessage(support, messageId)).uid).toBe(uid);
  });

  it("forces a new UIDVALIDITY and renumbers the messages from 1", async () => {
    const first = newMessageId();
    const second = newMessageId();
    for (const [id, subject] of [
      [first, "renumber one"],
      [second, "renumber two"],
    ] as const) {
      await deliverRaw(await rawMessage(support.address, subject, id), {
        from: "erin@sender.test",
        to: support.address,
      });
    }
    const { uid: uidBefore } = await waitForMessage(support, second);
    expect(uidBefore).toBeGreaterThan(1);
    const old = await withImap(support, async (c) => (await mailboxStatus(c, "INBOX")).uidValidity);

    const fresh = await resetUidValidity(support.address, { renumber: true });
    expect(BigInt(fresh)).not.toBe(BigInt(old));
    await withImap(support, async (c) => {
      const mailbox = await c.mailboxOpen("INBOX");
      expect(mailbox.uidValidity).toBe(BigInt(fresh));
      const uids = (await c.search({ all: true }, { uid: true })) || [];
      expect(uids).toEqual(Array.from({ length: mailbox.exists }, (_, i) => i + 1));
    });
    const { uid: uidAfter } = await waitForMessage(support, second);
    expect(uidAfter).toBeLessThanOrEqual(uidBefore);
  });
});
