import { agentOutputs, normaliseOutput } from "../contract/base-channel.js";
import type { Agent, AgentContext, MessageFormat, OutgoingAttachment } from "../contract/types.js";
import { EmailChannelError } from "../errors/index.js";

export interface CollectedOutputs {
  /** Reply outputs, in order. */
  replies: { content: string; attachments: OutgoingAttachment[] }[];
  /** Status outputs (progress notes), in order. */
  statuses: string[];
}

export class AgentTimeoutError extends EmailChannelError {
  constructor(ms: number) {
    super(`the agent did not finish within ${ms} ms`, {
      code: "AGENT_TIMEOUT",
      stage: "agent",
      kind: "internal",
      retryable: false,
    });
  }
}

/**
 * The abort reason once a run is over (its tools must stop): one shared object, because
 * `abort()` without a reason builds a DOMException with a stack trace for every message.
 */
const RUN_OVER = Object.freeze(new Error("the agent run is over"));

/**
 * Runs the agent on one message with an AbortSignal that fires on timeout or when the channel stops,
 * and collects everything it yields (promise, array or async iterable).
 */
export async function runAgent(
  agent: Agent,
  message: MessageFormat,
  context: Omit<AgentContext, "signal">,
  options: { timeoutMs: number; signal?: AbortSignal; onStatus?: (text: string) => void },
): Promise<CollectedOutputs> {
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onOuterAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new AgentTimeoutError(options.timeoutMs);
      controller.abort(error);
      reject(error);
    }, options.timeoutMs);
  });
  const collected: CollectedOutputs = { replies: [], statuses: [] };
  const collect = async () => {
    for await (const raw of agentOutputs(agent(message, { ...context, signal: controller.signal }))) {
      const output = normaliseOutput(raw);
      if (output.kind === "status") {
        collected.statuses.push(output.content);
        options.onStatus?.(output.content);
      } else {
        collected.replies.push({ content: output.content, attachments: output.attachments ?? [] });
      }
      if (controller.signal.aborted) break;
    }
  };
  try {
    await Promise.race([collect(), timedOut]);
    if (options.signal?.aborted) throw options.signal.reason ?? new Error("aborted");
    return collected;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onOuterAbort);
    controller.abort(RUN_OVER);
  }
}

/** Joins the replies of one inbound message into one mail body (email sends one reply per message). */
export function joinReplies(
  collected: CollectedOutputs,
): { content: string; attachments: OutgoingAttachment[] } | undefined {
  const parts = collected.replies.filter((r) => r.content.trim().length > 0 || r.attachments.length > 0);
  if (parts.length === 0) return undefined;
  return {
    content: parts
      .map((p) => p.content.trim())
      .filter(Boolean)
      .join("\n\n"),
    attachments: parts.flatMap((p) => p.attachments),
  };
}

/** What to send for one inbound message: the agent's joined replies, or an apology when it failed. */
export interface AgentTurn {
  body: { content: string; attachments: OutgoingAttachment[] };
  kind: "reply" | "apology";
}

/**
 * One agent turn for one inbound message: runs the agent (see runAgent) and joins its replies; an
 * agent error becomes an apology (logged through `onError`), except when `signal` aborted (the channel
 * is stopping: the error is rethrown and the message resumes later). Undefined: no answer.
 */
export async function agentTurn(
  agent: Agent,
  message: MessageFormat,
  context: Omit<AgentContext, "signal">,
  options: {
    timeoutMs: number;
    signal: AbortSignal;
    apology: string;
    onStatus?: (text: string) => void;
    onError: (error: unknown) => void;
  },
): Promise<AgentTurn | undefined> {
  try {
    const collected = await runAgent(agent, message, context, {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      ...(options.onStatus ? { onStatus: options.onStatus } : {}),
    });
    const body = joinReplies(collected);
    return body ? { body, kind: "reply" } : undefined;
  } catch (error) {
    if (options.signal.aborted) throw error;
    options.onError(error);
    return { body: { content: options.apology, attachments: [] }, kind: "apology" };
  }
}
