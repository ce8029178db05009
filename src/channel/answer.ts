import type { Agent, AgentContext, MessageFormat, SentMessage } from "../contract/types.js";
import { InputError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { type AgentTurn, agentTurn } from "./agent-run.js";

type Body = AgentTurn["body"];
type Kind = AgentTurn["kind"];

export interface AnswerOptions {
  timeoutMs: number;
  /** The channel's stop signal: stopping leaves the message unfinished (rethrown, resumed later). */
  signal: AbortSignal;
  /** Sent when the agent fails, or when its reply cannot be composed (config `reply.apology`). */
  apology: string;
  onStatus?: (text: string) => void;
  logger: Logger;
  /**
   * Composes and records one answer to the message, always under the message's one reply key (see
   * replyKey): a reply that failed to compose wrote nothing, so its apology takes the key; one that
   * was recorded keeps it, and a second answer never goes out.
   */
  reply(body: Body, kind: Kind): Promise<SentMessage>;
}

/**
 * One inbound message answered: the agent's turn (see agentTurn: an agent error becomes the
 * apology), then its answer sent (see sendTurn). Resolves once the answer, if any, is recorded;
 * undefined when there is none (the agent chose not to answer, or nothing could be composed).
 */
export async function answerMessage(
  agent: Agent,
  message: MessageFormat,
  context: Omit<AgentContext, "signal">,
  options: AnswerOptions,
): Promise<SentMessage | undefined> {
  const ids = { messageId: message.messageId, conversationId: message.conversationId };
  const turn = await agentTurn(agent, message, context, {
    timeoutMs: options.timeoutMs,
    signal: options.signal,
    apology: options.apology,
    ...(options.onStatus ? { onStatus: options.onStatus } : {}),
    onError: (error) => options.logger.error({ err: error, ...ids }, "agent failed; sending an apology"),
  });
  if (!turn) {
    options.logger.info({ messageId: message.messageId }, "agent chose not to answer");
    return undefined;
  }
  return sendTurn(turn, {
    send: options.reply,
    apology: options.apology,
    onUncomposable: (error, kind) =>
      options.logger.error(
        { err: error, ...ids },
        kind === "reply"
          ? "the agent's reply cannot be composed; sending an apology"
          : "the apology cannot be composed; the message is handled without reply",
      ),
  });
}

/**
 * Sends one agent turn's answer. A reply that cannot be composed (InputError: an attachment over the
 * limit, missing or outside the allowed roots, an address the composer refuses) is a fault of the
 * agent's output; running the agent again would repeat its side effects for the same outcome, so the
 * sender gets the apology instead, once. If even the apology cannot be composed (the sender's own
 * address is refused), nothing is sent (undefined): the message is handled without reply, not
 * retried. Any other error is rethrown, for the handling queue to retry.
 */
export async function sendTurn(
  turn: AgentTurn,
  options: {
    send(body: Body, kind: Kind): Promise<SentMessage>;
    apology: string;
    onUncomposable(error: InputError, kind: Kind): void;
  },
): Promise<SentMessage | undefined> {
  if (turn.kind === "reply") {
    try {
      return await options.send(turn.body, "reply");
    } catch (error) {
      if (!(error instanceof InputError)) throw error;
      options.onUncomposable(error, "reply");
    }
  }
  const apology = turn.kind === "apology" ? turn.body : { content: options.apology, attachments: [] };
  try {
    return await options.send(apology, "apology");
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    options.onUncomposable(error, "apology");
    return undefined;
  }
}
