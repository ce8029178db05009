import type { Agent, AgentOutput, MessageFormat, Registry, SendOptions, SentMessage } from "./types.js";

/** Turns whatever an agent returned (promise, array, async iterable) into one async stream. */
export async function* agentOutputs(result: ReturnType<Agent>): AsyncGenerator<AgentOutput, void, undefined> {
  if (result && typeof (result as AsyncIterable<AgentOutput>)[Symbol.asyncIterator] === "function") {
    yield* result as AsyncIterable<AgentOutput>;
    return;
  }
  const value = await (result as Promise<AgentOutput | AgentOutput[] | undefined | void>);
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) yield v;
  } else {
    yield value;
  }
}

/** Normalises the string shorthand to the object form. */
export function normaliseOutput(output: AgentOutput): Exclude<AgentOutput, string> {
  return typeof output === "string" ? { content: output } : output;
}

/** Minimal logging surface the base class needs (pino's Logger satisfies it). */
export interface ContractLogger {
  error(obj: object, msg?: string): void;
}

/**
 * The runtime's channel contract (../shared/CONTRACT.md). Subclasses implement transport; this class
 * supplies the default agent loop.
 */
export abstract class BaseChannel {
  abstract readonly name: string;
  /** Text sent when the agent fails; channels may override. */
  protected apologyText = "Sorry, something went wrong while I was working on your message.";
  protected contractLogger: ContractLogger = {
    error: (obj, msg) => console.error(msg ?? "error", obj),
  };

  constructor(
    protected readonly agent: Agent,
    protected readonly registry?: Registry,
  ) {}

  /** Begin listening; resolves once listening. */
  abstract start(): Promise<void>;
  /** Stop listening, finish or abandon in-flight work cleanly; idempotent. */
  abstract stop(): Promise<void>;
  abstract sendMessage(conversationId: string, content: string, options?: SendOptions): Promise<SentMessage>;

  /**
   * Default: run the agent on the message and send each output with sendMessage; on an agent error,
   * log it and send a short apology.
   */
  async handleMessage(message: MessageFormat): Promise<void> {
    const controller = new AbortController();
    const context = {
      threadId: this.getThreadId(message.conversationId),
      channel: this,
      signal: controller.signal,
    };
    try {
      for await (const raw of agentOutputs(this.agent(message, context))) {
        const output = normaliseOutput(raw);
        if (output.kind === "status") {
          await this.sendStatus(message.conversationId, output.content);
          continue;
        }
        await this.sendMessage(message.conversationId, output.content, {
          attachments: output.attachments,
          inReplyTo: message.messageId,
        });
      }
    } catch (error) {
      this.contractLogger.error({ err: error, conversationId: message.conversationId }, "agent failed");
      await this.sendMessage(message.conversationId, this.apologyText, { inReplyTo: message.messageId });
    } finally {
      controller.abort();
    }
  }

  /** `${name}:${conversationId}`: the agent's memory key. */
  getThreadId(conversationId: string): string {
    return `${this.name}:${conversationId}`;
  }

  /** `${name}:${rawId}`. */
  formatUserId(rawId: string): string {
    return `${this.name}:${rawId}`;
  }

  /** Progress notes; the default drops them. */
  async sendStatus(_conversationId: string, _text: string): Promise<void> {}
}
