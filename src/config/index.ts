export { loadConfig } from "./load.js";
export type { LoadConfigOptions } from "./load.js";
export {
  Secret,
  type ResolvedConfig,
  type AccountConfig,
  type ServerEndpoint,
  type TlsMode,
  type TlsSettings,
  type RateWindow,
} from "./resolved.js";
export { tlsModeFor } from "./resolve.js";
export { ENV_KEYS } from "./env.js";
export { fileSchema, type FileConfig } from "./schema.js";
