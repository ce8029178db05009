import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EmailChannel, MessageFormat, ProfileSink } from "../../src/index.js";
import { stackChannel } from "../support/channel.js";
import { byMessageId, purgeMailbox, readMailbox, sendAs, waitForMail } from "../support/mail.js";
import { deliverRaw, loadStackEnv } from "../support/stack.js";

const stack = loadStackEnv();
const { assistant, alice, bob } = stack.users;
let channel: EmailChannel | undefined;

beforeEach(async () => {
  for (const u of [assistant, alice, bob]) await purgeMailbox(u);
  await purgeMailbox(assistant, "Sent");
});
afterEach(async () => {
  await channel?.stop();
  channel = undefined;
});

describe("a person writes, the assistant replies (public API, real Dovecot + Postfix)", () => {
  it("lands a well-formed reply in the person's INBOX and a copy in Sent", async () => {
    const seen: MessageFormat[] = [];
    ({ channel } = await stackChannel(async (m) => {
      seen.push(m);
      return `Hello ${m.userId}, you said: ${m.content}`;
    }));
    await channel.start();
    const sent = await sendAs(alice, {
      to: assistant.address,
      subject: "Lunch on Friday?",
      text: "Shall we have lunch on Friday?\n\n-- \nAlice",
    });
    const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === sent));
    const reply = inbox.find((m) => m.inReplyTo === sent)!;
    expect(reply.from?.value[0]?.address).toBe(assistant.address);
    expect(reply.to && !Array.isArray(reply.to) ? reply.to.value.map((a) => a.address) : []).toEqual([
      alice.address,
    ]);
    expect(reply.subject).toBe("Re: Lunch on Friday?");
    expect(reply.references).toEqual(sent);
    expect(reply.headers.get("auto-submitted")).toBe("auto-replied");
    expect(reply.text).toContain("you said: Shall we have lunch on Friday?");
    expect(reply.text).not.toContain("-- \nAlice");

    expect(seen).toHaveLength(1);
    const m = seen[0]!;
    expect(m.userId).toBe(`email:${alice.address}`);
    expect(m.messageId).toBe(sent.replace(/^<|>$/g, ""));
    expect(m.content).toBe("Shall we have lunch on Friday?");
    expect(m.metadata).toMatchObject({
      subject: "Lunch on Friday?",
      account: assistant.address,
      mailbox: "INBOX",
    });
    expect(typeof m.metadata.uid).toBe("number");

    const sentBox = await waitForMail(assistant, (ms) => ms.some(byMessageId(reply.messageId!)), {
      mailbox: "Sent",
    });
    expect(sentBox.filter(byMessageId(reply.messageId!))).toHaveLength(1);
    // The inbound message is marked \Seen once handled.
    const assistantInbox = await waitForMail(assistant, (ms) =>
      ms.some((x) => x.messageId === sent && x.flags.has("\\Seen")),
    );
    expect(assistantInbox.filter((x) => x.messageId === sent)).toHaveLength(1);
  });

  it("keeps a five-message back-and-forth in one conversation and one References thread", async () => {
    const conversations: string[] = [];
    ({ channel } = await stackChannel(async (m) => {
      conversations.push(m.conversationId);
      return `answer ${conversations.length}`;
    }));
    await channel.start();
    let parent: { id: string; refs: string[] } | undefined;
    const root = await sendAs(alice, { to: assistant.address, subject: "Project plan", text: "message 1" });
    let last = root;
    for (let i = 1; i <= 5; i++) {
      const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === last));
      const reply = inbox.find((m) => m.inReplyTo === last)!;
      const refs = Array.isArray(reply.references)
        ? reply.references
        : reply.references
          ? [reply.references]
          : [];
      expect(refs[0]).toBe(root);
      expect(refs[refs.length - 1]).toBe(last);
      parent = { id: reply.messageId!, refs };
      if (i === 5) break;
      last = await sendAs(alice, {
        to: assistant.address,
        subject: reply.subject!,
        text: `message ${i + 1}`,
        inReplyTo: parent.id,
        references: [...parent.refs, parent.id],
      });
    }
    expect(conversations).toHaveLength(5);
    expect(new Set(conversations).size).toBe(1);
  });

  it("threads a reply from a client that dropped References", async () => {
    const conversations: string[] = [];
    ({ channel } = await stackChannel(async (m) => {
      conversations.push(m.conversationId);
      return "noted";
    }));
    await channel.start();
    const first = await sendAs(alice, {
      to: assistant.address,
      subject: "Invoice 42",
      text: "Please check invoice 42.",
    });
    const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === first));
    const reply = inbox.find((m) => m.inReplyTo === first)!;
    // Like some mobile clients: only In-Reply-To, no References.
    const second = await sendAs(alice, {
      to: assistant.address,
      subject: "Re: Invoice 42",
      text: "Any news?",
      inReplyTo: reply.messageId!,
    });
    await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === second));
    expect(conversations).toHaveLength(2);
    expect(conversations[1]).toBe(conversations[0]);
  });

  it("answers an agent error with a short apology", async () => {
    ({ channel } = await stackChannel(async () => {
      throw new Error("the model is on fire");
    }));
    await channel.start();
    const sent = await sendAs(alice, { to: assistant.address, subject: "Break it", text: "Please fail." });
    const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === sent));
    const reply = inbox.find((m) => m.inReplyTo === sent)!;
    expect(reply.text).toMatch(/sorry/i);
    expect(reply.text).not.toContain("on fire");
  });

  it("does not answer a sender outside the allowlist, and flags the message for a human", async () => {
    let calls = 0;
    ({ channel } = await stackChannel(
      async () => {
        calls++;
        return "should not be sent";
      },
      { env: { EMAIL_ALLOWED_SENDERS: alice.address } },
    ));
    const ignored = new Promise((resolve) => channel!.events.once("ignored", resolve));
    await channel.start();
    const sent = await sendAs(bob, { to: assistant.address, subject: "Let me in", text: "hi" });
    await ignored;
    const box = await waitForMail(assistant, (ms) =>
      ms.some((m) => m.messageId === sent && m.flags.has("\\Flagged")),
    );
    expect(box.find((m) => m.messageId === sent)!.flags.has("\\Seen")).toBe(false);
    expect(calls).toBe(0);
    expect((await readMailbox(bob)).length).toBe(0);
  });

  it("answers a message whose ids cannot be written back, leaving those ids out of the reply's headers", async () => {
    const seen: MessageFormat[] = [];
    ({ channel } = await stackChannel(async (m) => {
      seen.push(m);
      return "Yes, I can.";
    }));
    const quarantined: unknown[] = [];
    channel.events.on("quarantined", (q) => quarantined.push(q));
    await channel.start();
    // RFC 5322 sets no length limit, but the composer writes back only ids of at most 250
    // printable ASCII characters; a References id in raw UTF-8 cannot be written either.
    const longId = `${"x".repeat(300)}@long.example.test`;
    const raw = [
      `From: Alice <${alice.address}>`,
      `To: ${assistant.address}`,
      "Subject: An unwieldy id",
      `Message-ID: <${longId}>`,
      "References: <root-1@example.test> <käse@example.test>",
      `Date: ${new Date().toUTCString()}`,
      "MIME-Version: 1.0",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "Can you still answer me?",
      "",
    ].join("\r\n");
    await deliverRaw(raw, { from: alice.address, to: [assistant.address] });
    const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.subject === "Re: An unwieldy id"));
    const reply = inbox.find((m) => m.subject === "Re: An unwieldy id")!;
    expect(reply.text).toContain("Yes, I can.");
    expect(reply.inReplyTo).toBeUndefined();
    expect(reply.references).toBe("<root-1@example.test>");
    expect(seen.map((m) => m.messageId)).toEqual([longId]);
    expect(quarantined).toEqual([]);
  });

  it("keeps answering when the host's profile sink fails to list its contacts", async () => {
    const failing: ProfileSink = {
      upsert: async () => undefined,
      remove: async () => undefined,
      list: async (): Promise<never> => {
        throw new Error("profile database unavailable");
      },
      lookupByEmail: async () => undefined,
    };
    ({ channel } = await stackChannel(async () => "still here", {
      extra: { profileSink: failing },
    }));
    await channel.start();
    const sent = await sendAs(alice, { to: assistant.address, subject: "Anyone?", text: "Hello?" });
    const inbox = await waitForMail(alice, (ms) => ms.some((m) => m.inReplyTo === sent));
    expect(inbox.find((m) => m.inReplyTo === sent)!.text).toContain("still here");
  });
});
