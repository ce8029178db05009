/**
 * The outbox: every outgoing message is stored before it is sent, sent by the dispatcher, marked sent
 * when the server accepted it, retried with backoff when it could not be, and failed for good on a
 * permanent refusal. See dispatcher.ts for the guarantees and the one crash window.
 */
export { backoffDelay, decideRetry, DEFAULT_RETRY_POLICY } from "./backoff.js";
export type { RetryDecision, RetryPolicy } from "./backoff.js";
export { OutboxDispatcher } from "./dispatcher.js";
export { runLimited, toChannelError, WakeableSleep } from "./support.js";
export type { DispatchOutcome, OutboxDispatcherOptions, OutboxEnqueueInput, OutboxEvents } from "./types.js";
