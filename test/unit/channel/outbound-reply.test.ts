/**
 * Outbound.reply over the real composer and SQLite outbox in memory; only the SMTP sender is a
 * scripted stand-in. These tests are about the recipients and threading headers a reply gets from
 * awkward inbound mail.
 */
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { Outbound, replyKey } from "../../../src/channel/outbound.js";
import type { MessageFormat } from "../../../src/contract/index.js";
import { openSqliteStore, silentLogger } from "../../../src/index.js";
import type { OutboxDispatcher } from "../../../src/outbox/index.js";
import type { StateStore } from "../../../src/store/index.js";
import { offlineConfig } from "../../support/offline-config.js";
import { ScriptedSender, fastDispatcher } from "../smtp/support/outbox-fixtures.js";

const stores: StateStore[] = [];
const dispatchers: OutboxDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  for (const s of stores.splice(0)) s.close();
});

async function setup(account = "hello@x.test", env: Record<string, string> = {}) {
  const config = await offlineConfig(account, env);
  const store = openSqliteStore({ path: ":memory:" });
  stores.push(store);
  const dispatcher = fastDispatcher(store.outbox, new ScriptedSender());
  dispatchers.push(dispatcher);
  const outbound = new Outbound({
    config,
    store,
    dispatcher,
    secret: Buffer.alloc(32, 7),
    logger: silentLogger(),
    events: new EventEmitter(),
    // The allowlist admits x.test and the account's own domain (so only the own-address rule keeps
    // the assistant's addresses out).
    allowed: (a) =>
      a.endsWith("@x.test") || a.endsWith("@xn--bcher-kva.example") || a.endsWith("@bücher.example"),
  });
  const reply = async (message: MessageFormat) => {
    const sent = await outbound.reply(
      message,
      { content: "Thanks!", attachments: [] },
      replyKey(message.messageId),
    );
    return { sent, raw: Buffer.from(store.outbox.get(replyKey(message.messageId))!.raw).toString() };
  };
  return { reply };
}

function inbound(metadata: Record<string, unknown>, messageId = "m1@x.test"): MessageFormat {
  return {
    messageId,
    conversationId: "c1",
    userId: "email:alice@x.test",
    content: "hello",
    attachments: [],
    metadata: { account: "hello@x.test", from: { address: "alice@x.test" }, subject: "plans", ...metadata },
  };
}

const header = (raw: string, name: string) =>
  new RegExp(`^${name}:(.*(?:\\r\\n[ \\t].*)*)`, "mi")
    .exec(raw)?.[1]
    ?.replace(/\r\n[ \t]+/g, " ")
    .trim();

describe("Outbound.reply", () => {
  it("cites no made-up id: a parent without Message-ID gets no In-Reply-To (RFC 5322 §3.6.4)", async () => {
    const { reply } = await setup();
    const generated = `generated-${"ab".repeat(32)}@email-channel.invalid`;
    const { raw } = await reply(
      inbound({ references: ["root@x.test", "mid@x.test"], messageIdGenerated: true }, generated),
    );
    expect(header(raw, "In-Reply-To")).toBeUndefined();
    expect(header(raw, "References")).toBe("<root@x.test> <mid@x.test>");
    expect(raw).not.toContain("email-channel.invalid");
  });

  it("with reply_all leaves out a Cc the composer cannot write, and still answers everybody else", async () => {
    const { reply } = await setup("hello@x.test", { EMAIL_REPLY_ALL: "true" });
    const { sent } = await reply(
      inbound({
        to: [{ address: "hello@x.test" }],
        cc: [{ address: '"john smith"@x.test' }, { address: "bob@x.test" }],
      }),
    );
    expect([...sent.recipients].sort()).toEqual(["alice@x.test", "bob@x.test"]);
  });

  it("never sends to itself: a Reply-To naming the assistant falls back to the sender", async () => {
    const { reply } = await setup();
    const { sent } = await reply(inbound({ replyTo: [{ address: "HELLO@x.test", name: "Hello" }] }));
    expect(sent.recipients).toEqual(["alice@x.test"]);
    const both = await reply(
      inbound({ replyTo: [{ address: "hello@x.test" }, { address: "bob@x.test" }] }, "m2@x.test"),
    );
    expect(both.sent.recipients).toEqual(["bob@x.test"]);
  });

  it("replies from an account on an internationalised domain, its Message-ID under the A-label", async () => {
    const { reply } = await setup("hello@bücher.example");
    const { sent, raw } = await reply(inbound({ account: "hello@bücher.example" }));
    expect(sent.messageId).toMatch(/@xn--bcher-kva\.example$/);
    expect(header(raw, "Message-ID")).toMatch(/@xn--bcher-kva\.example>$/);
    // Its own address in either form is never a recipient.
    const own = await reply(
      inbound(
        { account: "hello@bücher.example", replyTo: [{ address: "hello@xn--bcher-kva.example" }] },
        "m2@x.test",
      ),
    );
    expect(own.sent.recipients).toEqual(["alice@x.test"]);
  });
});
