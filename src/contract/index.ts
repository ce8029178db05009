export { BaseChannel, agentOutputs, normaliseOutput } from "./base-channel.js";
export type { ContractLogger } from "./base-channel.js";
export type * from "./types.js";
export type * from "./sinks.js";
