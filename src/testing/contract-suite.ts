import { describe, expect, it } from "vitest";
import type { BaseChannel } from "../contract/base-channel.js";
import type { Agent, AgentContext, MessageFormat, Registry } from "../contract/types.js";

/**
 * A channel under test, as the contract suite drives it. Any BaseChannel can supply one: the suite
 * only uses the contract's own methods plus these hooks to build inbound messages and read what the
 * channel sent.
 */
export interface ChannelContractHarness<C extends BaseChannel = BaseChannel> {
  /** Builds a started or startable channel around the agent. */
  create(agent: Agent, registry?: Registry): C | Promise<C>;
  /** A valid inbound message opening a fresh conversation of this channel. */
  message(channel: C, text: string): MessageFormat | Promise<MessageFormat>;
  /** What the channel sent into a conversation, oldest first (message bodies). */
  sent(channel: C, conversationId: string): Promise<string[]>;
  /**
   * True when the channel sends one reply per inbound message, joining the agent's outputs (email);
   * false when each output is its own message (the BaseChannel default).
   */
  combinesOutputs?: boolean;
  /** Releases what create() took (sockets, temp folders). */
  dispose?(channel: C): Promise<void>;
}

async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    value = await read();
  }
  return value;
}

/**
 * Registers the BaseChannel contract suite (../shared/CONTRACT.md) with vitest. Usage:
 * `channelContractSuite("memory channel", harness)` inside a test file.
 */
export function channelContractSuite<C extends BaseChannel>(
  label: string,
  harness: ChannelContractHarness<C>,
  options: { timeoutMs?: number } = {},
): void {
  const timeout = options.timeoutMs ?? 10_000;
  const withChannel = async (agent: Agent, fn: (c: C) => Promise<void>, registry?: Registry) => {
    const channel = await harness.create(agent, registry);
    try {
      await fn(channel);
    } finally {
      await channel.stop();
      await harness.dispose?.(channel);
    }
  };

  describe(`BaseChannel contract: ${label}`, () => {
    it("names itself and derives thread and user ids from its name", async () => {
      await withChannel(
        async () => undefined,
        async (c) => {
          expect(typeof c.name).toBe("string");
          expect(c.name.length).toBeGreaterThan(0);
          expect(c.getThreadId("conv-1")).toBe(`${c.name}:conv-1`);
          expect(c.formatUserId("someone")).toBe(`${c.name}:someone`);
        },
      );
    });

    it(
      "start() and stop() are idempotent",
      async () => {
        await withChannel(
          async () => undefined,
          async (c) => {
            await c.start();
            await c.start();
            await c.stop();
            await c.stop();
          },
        );
      },
      timeout,
    );

    it(
      "runs a promise agent with the thread id, itself and an AbortSignal, and sends its answer",
      async () => {
        let seen: AgentContext | undefined;
        await withChannel(
          async (_m, ctx) => {
            seen = ctx;
            return "pong";
          },
          async (c) => {
            await c.start();
            const m = await harness.message(c, "ping");
            await c.handleMessage(m);
            expect(seen?.threadId).toBe(c.getThreadId(m.conversationId));
            expect(seen?.channel).toBe(c);
            expect(seen?.signal).toBeInstanceOf(AbortSignal);
            const sent = await waitFor(
              () => harness.sent(c, m.conversationId),
              (s) => s.length > 0,
              timeout,
            );
            expect(sent).toHaveLength(1);
            expect(sent[0]).toContain("pong");
          },
        );
      },
      timeout * 2,
    );

    it(
      "sends every output of a streaming agent",
      async () => {
        const agent: Agent = () =>
          (async function* () {
            yield "first part";
            yield { content: "second part" };
          })();
        await withChannel(agent, async (c) => {
          await c.start();
          const m = await harness.message(c, "stream please");
          await c.handleMessage(m);
          const expected = harness.combinesOutputs ? 1 : 2;
          const sent = await waitFor(
            () => harness.sent(c, m.conversationId),
            (s) => s.length >= expected,
            timeout,
          );
          expect(sent).toHaveLength(expected);
          const all = sent.join("\n");
          expect(all).toContain("first part");
          expect(all).toContain("second part");
          if (harness.combinesOutputs)
            expect(all.indexOf("first part")).toBeLessThan(all.indexOf("second part"));
        });
      },
      timeout * 2,
    );

    it(
      "does not send status outputs as replies",
      async () => {
        const agent: Agent = async () => [{ content: "working on it", kind: "status" }, "done"];
        await withChannel(agent, async (c) => {
          await c.start();
          const m = await harness.message(c, "status test");
          await c.handleMessage(m);
          const sent = await waitFor(
            () => harness.sent(c, m.conversationId),
            (s) => s.length > 0,
            timeout,
          );
          expect(sent.join("\n")).toContain("done");
          expect(sent.join("\n")).not.toContain("working on it");
        });
      },
      timeout * 2,
    );

    it(
      "answers an agent error with a short apology and does not throw",
      async () => {
        await withChannel(
          async () => {
            throw new Error("model exploded");
          },
          async (c) => {
            await c.start();
            const m = await harness.message(c, "break please");
            await expect(c.handleMessage(m)).resolves.toBeUndefined();
            const sent = await waitFor(
              () => harness.sent(c, m.conversationId),
              (s) => s.length > 0,
              timeout,
            );
            expect(sent).toHaveLength(1);
            expect(sent[0]).toMatch(/sorry/i);
            expect(sent[0]).not.toContain("model exploded");
          },
        );
      },
      timeout * 2,
    );

    it(
      "sends nothing when the agent returns nothing",
      async () => {
        await withChannel(
          async () => undefined,
          async (c) => {
            await c.start();
            const m = await harness.message(c, "silence");
            await c.handleMessage(m);
            expect(await harness.sent(c, m.conversationId)).toEqual([]);
          },
        );
      },
      timeout,
    );

    it(
      "sendMessage reports the sent message id and conversation",
      async () => {
        await withChannel(
          async () => undefined,
          async (c) => {
            await c.start();
            const m = await harness.message(c, "hello");
            await c.handleMessage(m);
            const sent = await c.sendMessage(m.conversationId, "a note from the assistant");
            expect(sent.conversationId).toBe(m.conversationId);
            expect(typeof sent.messageId).toBe("string");
            expect(sent.messageId.length).toBeGreaterThan(0);
            const bodies = await waitFor(
              () => harness.sent(c, m.conversationId),
              (s) => s.length > 0,
              timeout,
            );
            expect(bodies.join("\n")).toContain("a note from the assistant");
          },
        );
      },
      timeout * 2,
    );
  });
}
