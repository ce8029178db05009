import { BaseChannel } from "../../../src/contract/index.js";
import type { MessageFormat, SendOptions, SentMessage } from "../../../src/contract/types.js";
import { channelContractSuite } from "../../../src/testing/index.js";

/** A tiny in-memory channel: the contract suite's own check that it accepts a correct channel. */
class MemoryChannel extends BaseChannel {
  readonly name = "memory";
  readonly outbox = new Map<string, string[]>();
  #n = 0;
  protected override contractLogger = { error: () => {} };
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  async sendMessage(conversationId: string, content: string, _options?: SendOptions): Promise<SentMessage> {
    const list = this.outbox.get(conversationId) ?? [];
    list.push(content);
    this.outbox.set(conversationId, list);
    return { messageId: `m${++this.#n}`, conversationId, status: "sent", recipients: [] };
  }
}

let conv = 0;
channelContractSuite("in-memory channel", {
  create: (agent, registry) => new MemoryChannel(agent, registry),
  message: (_c, text): MessageFormat => {
    conv++;
    return {
      content: text,
      userId: "memory:alice",
      conversationId: `c${conv}`,
      messageId: `in-${conv}`,
      attachments: [],
      metadata: {},
    };
  },
  sent: async (c, conversationId) => c.outbox.get(conversationId) ?? [],
});
