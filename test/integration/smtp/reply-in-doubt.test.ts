/**
 * RFC 1047's window on the real stack: Postfix has taken a reply and the channel stops before it
 * records the "250". Here the sender freezes right after the real send returns, and stop() gives up
 * on it: the store is left exactly as a SIGKILL at that moment leaves it (the entry pending, its send
 * marked as started). The next channel on the same state finds the reply in doubt.
 * - With the delivery copy (the default) the copy arrives in the assistant's INBOX, the watcher
 *   files it as the channel's own mail, and the reply is marked sent without a second send.
 * - Without it the reply is sent again and the person gets it twice: what the copy is for.
 * The same window without a crash: the connection is lost after the end of DATA (a proxy in front
 * of Postfix swallows its "250" and drops the channel's connection). The sender sees a network error;
 * the reply must wait for its copy rather than go out again.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AbortedError, type EmailChannel } from "../../../src/index.js";
import { type OutboundSender, SmtpSender } from "../../../src/smtp/index.js";
import { openSqliteStore } from "../../../src/store/index.js";
import { stackChannel } from "../../support/channel.js";
import { TcpFaultProxy } from "../../support/fault-proxy.js";
import { smtpCutAfterData } from "../../support/smtp-cut.js";
import { purgeMailbox, readMailbox, sendAs, waitForMail } from "../../support/mail.js";
import { loadStackEnv } from "../../support/stack.js";
import { stackSmtpSender } from "../../support/stack-sender.js";

const stack = loadStackEnv();
const { assistant, alice } = stack.users;
const channels: EmailChannel[] = [];
const senders: SmtpSender[] = [];
const proxies: TcpFaultProxy[] = [];

beforeEach(async () => {
  for (const u of [assistant, alice]) await purgeMailbox(u);
  await purgeMailbox(assistant, "Sent");
});
afterEach(async () => {
  for (const c of channels.splice(0)) await c.stop();
  for (const s of senders.splice(0)) await s.close();
  for (const p of proxies.splice(0)) await p.close();
});

/** The assistant's real SMTP sender; `freeze` makes every send hang (until aborted) after it went out. */
function realSender(o: { freeze?: boolean; sends: { n: number } }): OutboundSender {
  const real = stackSmtpSender(stack, assistant);
  senders.push(real);
  return {
    async send(request, signal) {
      o.sends.n++;
      const result = await real.send(request, signal);
      if (!o.freeze) return result;
      return new Promise((_, reject) => {
        const stop = () => reject(new AbortedError("smtp"));
        if (signal?.aborted) stop();
        signal?.addEventListener("abort", stop, { once: true });
      });
    },
  };
}

async function cutOffThenRestart(env: Record<string, string>) {
  const stateDir = mkdtempSync(join(tmpdir(), "ec-in-doubt-"));
  const first = { n: 0 };
  const { channel: a } = await stackChannel(async () => "Here is your answer.", {
    stateDir,
    env,
    extra: { senderFactory: () => realSender({ freeze: true, sends: first }), stopTimeoutMs: 1_000 },
  });
  channels.push(a);
  await a.start();
  const asked = await sendAs(alice, { to: assistant.address, subject: "In doubt?", text: "Did it go out?" });
  const key = `${asked.replace(/^<|>$/g, "")}#0`;
  // Postfix took the reply and delivered it; the channel never learned.
  await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === asked));
  expect(first.n).toBe(1);
  await a.stop(); // gives up on the frozen send after the outbox's 30 s, as a kill would at once
  channels.splice(channels.indexOf(a), 1);

  const second = { n: 0 };
  let handedAgain = 0;
  const { channel: b } = await stackChannel(
    async () => {
      handedAgain++;
      return "Here is your answer.";
    },
    { stateDir, env, extra: { senderFactory: () => realSender({ sends: second }) } },
  );
  channels.push(b);
  const store = openSqliteStore({ path: join(stateDir, "state.sqlite") });
  const inDoubt = store.outbox.get(key);
  store.close();
  await b.start();
  const end = Date.now() + 90_000;
  while (b.store?.outbox.get(key)?.status !== "sent" && Date.now() < end)
    await new Promise((r) => setTimeout(r, 100));
  return { b, key, asked, inDoubt, secondSends: second.n, handedAgain };
}

describe("a reply cut off between the server's acceptance and its record (real Postfix + Dovecot)", () => {
  it("is not sent again when its delivery copy arrives", async () => {
    const { b, key, asked, inDoubt, secondSends, handedAgain } = await cutOffThenRestart({});
    expect(inDoubt).toMatchObject({ status: "pending" });
    expect(inDoubt?.sendingSince).toEqual(expect.any(String));
    const entry = b.store!.outbox.get(key)!;
    expect(entry.status).toBe("sent");
    expect(entry.response).toMatch(/delivery copy arrived/);
    expect(secondSends).toBe(0);
    // The first channel's stop recorded the message handled (the reply was in the outbox when the
    // send was given up): the restarted channel does not ask the agent again.
    const inbound = () => b.store!.inbound.getByMessageId(asked.replace(/^<|>$/g, ""));
    const until = Date.now() + 30_000;
    while (inbound()[0]?.status !== "handled" && Date.now() < until)
      await new Promise((r) => setTimeout(r, 100));
    expect(inbound().map((r) => r.status)).toEqual(["handled"]);
    expect(handedAgain).toBe(0);
    // The person has the reply once; the copy sits in the assistant's INBOX, read, never handed over.
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await readMailbox(alice)).filter((m) => m.inReplyTo === asked)).toHaveLength(1);
    const copies = (await readMailbox(assistant)).filter((m) => m.messageId === `<${entry.messageId}>`);
    expect(copies).toHaveLength(1);
    expect(copies[0]!.flags.has("\\Seen")).toBe(true);
    expect(b.store!.inbound.getByMessageId(entry.messageId).map((r) => r.status)).toEqual(["ignored"]);
    // And Sent gets its copy from the second channel.
    const sent = await waitForMail(
      assistant,
      (ms) => ms.some((m) => m.messageId === `<${entry.messageId}>`),
      {
        mailbox: "Sent",
      },
    );
    expect(sent.filter((m) => m.messageId === `<${entry.messageId}>`)).toHaveLength(1);
  }, 150_000);

  it("is sent again, and arrives twice, without the delivery copy", async () => {
    const { b, key, asked, secondSends, handedAgain } = await cutOffThenRestart({
      EMAIL_REPLY_DELIVERY_COPY: "false",
    });
    expect(b.store!.outbox.get(key)?.status).toBe("sent");
    expect(secondSends).toBe(1);
    expect(handedAgain).toBe(0); // the outbox sends it again; the agent is not run again
    const twice = await waitForMail(alice, (ms) => ms.filter((m) => m.inReplyTo === asked).length === 2);
    const replies = twice.filter((m) => m.inReplyTo === asked);
    expect(new Set(replies.map((m) => m.messageId)).size).toBe(1); // the same Message-ID both times
  }, 150_000);
});

describe("a reply whose connection is lost after the end of DATA (real Postfix + Dovecot)", () => {
  /** The assistant's sender through a proxy that swallows the first "250" after a message (MX port, no login). */
  async function cutOnce(env: Record<string, string>) {
    const cutter = smtpCutAfterData();
    const proxy = await TcpFaultProxy.start({
      target: { host: stack.host, port: stack.ports.smtpInbound },
      filter: cutter.filter,
    });
    proxies.push(proxy);
    const sends = { n: 0 };
    const { channel } = await stackChannel(async () => "Here is your answer.", {
      stateDir: mkdtempSync(join(tmpdir(), "ec-cut-")),
      env,
      extra: {
        senderFactory: () => {
          const real = new SmtpSender({ host: stack.host, port: proxy.port, secure: "opportunistic" });
          senders.push(real);
          return {
            send(request, signal) {
              sends.n++;
              return real.send(request, signal);
            },
          };
        },
      },
    });
    channels.push(channel);
    await channel.start();
    const asked = await sendAs(alice, { to: assistant.address, subject: "Cut off?", text: "Did it go out?" });
    const key = `${asked.replace(/^<|>$/g, "")}#0`;
    const end = Date.now() + 90_000;
    while (channel.store?.outbox.get(key)?.status !== "sent" && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    // Whatever was still to come (a second copy of the reply) has had time to arrive.
    await new Promise((r) => setTimeout(r, 2_000));
    const replies = (await readMailbox(alice)).filter((m) => m.inReplyTo === asked);
    return { entry: channel.store!.outbox.get(key), cutter, sends: sends.n, replies };
  }

  it("is not sent again: it waits for its delivery copy, which says the server took it", async () => {
    const { entry, cutter, sends, replies } = await cutOnce({});
    expect(cutter.cut).toBe(1);
    expect(entry).toMatchObject({ status: "sent", attempts: 1 });
    expect(entry?.response).toMatch(/delivery copy arrived/);
    expect(sends).toBe(1);
    expect(replies).toHaveLength(1);
  }, 150_000);

  it("is sent again, and arrives twice, without the delivery copy", async () => {
    const { entry, cutter, sends, replies } = await cutOnce({ EMAIL_REPLY_DELIVERY_COPY: "false" });
    expect(cutter.cut).toBe(1);
    expect(entry?.status).toBe("sent");
    expect(sends).toBe(2);
    expect(replies).toHaveLength(2);
    expect(new Set(replies.map((m) => m.messageId)).size).toBe(1);
  }, 150_000);
});
