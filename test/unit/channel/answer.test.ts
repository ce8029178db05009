/**
 * answerMessage over the real outbound path (composer, SQLite outbox in memory, dispatcher); only
 * the SMTP sender is a scripted stand-in. These tests are about what reaches the outbox when the
 * agent's reply cannot be composed.
 */
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { answerMessage } from "../../../src/channel/answer.js";
import { Outbound, replyKey } from "../../../src/channel/outbound.js";
import type { AgentOutput, BaseChannel, MessageFormat } from "../../../src/contract/index.js";
import { openSqliteStore, silentLogger } from "../../../src/index.js";
import type { OutboxDispatcher } from "../../../src/outbox/index.js";
import type { StateStore } from "../../../src/store/index.js";
import { offlineConfig } from "../../support/offline-config.js";
import { ScriptedSender, fastDispatcher } from "../smtp/support/outbox-fixtures.js";

const APOLOGY = "Sorry, I could not finish that.";

const stores: StateStore[] = [];
const dispatchers: OutboxDispatcher[] = [];
afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
  for (const s of stores.splice(0)) s.close();
});

function inbound(from: string): MessageFormat {
  return {
    messageId: "m1@x.test",
    conversationId: "c1",
    userId: `email:${from}`,
    content: "please send me the report",
    attachments: [],
    metadata: { account: "hello@x.test", from: { address: from }, subject: "report" },
  };
}

/** A logger that keeps the messages of its error calls. */
function recordingLogger() {
  const errors: string[] = [];
  const logger = silentLogger();
  logger.error = ((_obj: unknown, msg: string) => void errors.push(msg)) as typeof logger.error;
  return { logger, errors };
}

async function setup(agentOutput: AgentOutput) {
  const config = await offlineConfig("hello@x.test");
  const store = openSqliteStore({ path: ":memory:" });
  stores.push(store);
  const sender = new ScriptedSender();
  const dispatcher = fastDispatcher(store.outbox, sender);
  dispatchers.push(dispatcher);
  const { logger, errors } = recordingLogger();
  const outbound = new Outbound({
    config,
    store,
    dispatcher,
    secret: Buffer.alloc(32, 7),
    logger,
    events: new EventEmitter(),
    allowed: () => true,
  });
  let runs = 0;
  const answer = (message: MessageFormat) =>
    answerMessage(
      async () => {
        runs++;
        return agentOutput;
      },
      message,
      { threadId: "t1", channel: {} as BaseChannel },
      {
        timeoutMs: 5_000,
        signal: new AbortController().signal,
        apology: APOLOGY,
        logger,
        reply: (body, kind) => outbound.reply(message, body, replyKey(message.messageId), kind),
      },
    );
  return { store, sender, errors, answer, runs: () => runs };
}

const rawOf = (store: StateStore) => Buffer.from(store.outbox.get(replyKey("m1@x.test"))!.raw).toString();

describe("answerMessage", () => {
  it("sends the apology once, under the reply's key, when the agent's reply cannot be composed", async () => {
    // A relative attachment path: the composer refuses it (InputError), whatever the retry.
    const { store, sender, errors, answer, runs } = await setup({
      content: "Here it is.",
      attachments: [{ filename: "report.pdf", path: "report.pdf" }],
    });
    const sent = await answer(inbound("alice@x.test"));
    expect(runs()).toBe(1);
    expect(sent?.status).toBe("sent");
    expect(sender.calls).toHaveLength(1);
    expect(rawOf(store)).toContain(APOLOGY);
    expect(rawOf(store)).not.toContain("Here it is.");
    expect(errors).toEqual(["the agent's reply cannot be composed; sending an apology"]);
    // Handed over again (a resumed message): the key already holds the apology, nothing new goes out.
    await answer(inbound("alice@x.test"));
    expect(sender.calls).toHaveLength(1);
  });

  it("records nothing and does not throw when even the apology cannot be composed", async () => {
    // A quoted local part: the composer refuses the sender's own address for the reply and apology.
    const { store, sender, errors, answer, runs } = await setup("Here it is.");
    await expect(answer(inbound('"alice smith"@x.test'))).resolves.toBeUndefined();
    expect(runs()).toBe(1);
    expect(store.outbox.get(replyKey("m1@x.test"))).toBeUndefined();
    expect(sender.calls).toHaveLength(0);
    expect(errors).toEqual([
      "the agent's reply cannot be composed; sending an apology",
      "the apology cannot be composed; the message is handled without reply",
    ]);
  });

  it("sends the agent's reply when it composes, and rethrows errors that are not the input's fault", async () => {
    const ok = await setup("Here it is.");
    await ok.answer(inbound("alice@x.test"));
    expect(rawOf(ok.store)).toContain("Here it is.");
    const failing = answerMessage(
      async () => "Here it is.",
      inbound("alice@x.test"),
      { threadId: "t1", channel: {} as BaseChannel },
      {
        timeoutMs: 5_000,
        signal: new AbortController().signal,
        apology: APOLOGY,
        logger: silentLogger(),
        reply: async () => {
          throw new Error("store is locked");
        },
      },
    );
    await expect(failing).rejects.toThrow("store is locked");
  });
});
