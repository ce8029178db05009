export { loadConfig, loadFileConfig } from "./load.js";
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
export { oauth2ClientFor, type OAuth2ClientSettings, tlsModeFor } from "./resolve.js";
export { ENV_KEYS } from "./env.js";
export { fileSchema, type FileConfig } from "./schema.js";
