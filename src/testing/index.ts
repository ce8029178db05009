/** Test helpers for channel authors: `import { channelContractSuite } from "email-channel/testing"`. Needs vitest. */
export { channelContractSuite } from "./contract-suite.js";
export type { ChannelContractHarness } from "./contract-suite.js";
