export type * from "./types.js";
export { openSqliteStore } from "./sqlite/index.js";
export type { SqliteStoreOptions } from "./sqlite/index.js";
export { SCHEMA_VERSION } from "./sqlite/migrations.js";
