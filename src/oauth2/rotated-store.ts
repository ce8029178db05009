import { createHash } from "node:crypto";
import type { StateStore } from "../store/types.js";
import type { RotatedRefreshTokens } from "./access-tokens.js";
import type { OAuth2Grant } from "./types.js";

/**
 * The state store's place for an account's rotated refresh token. The key names the configured
 * refresh token by a hash (never the token): configuring a new refresh token starts a new lineage
 * and the one kept from the old lineage is no longer used.
 */
export function rotatedRefreshTokensIn(
  store: Pick<StateStore, "kv">,
  account: string,
  grant: OAuth2Grant,
): RotatedRefreshTokens {
  const lineage = createHash("sha256").update(grant.refreshToken.reveal()).digest("hex").slice(0, 32);
  const key = `oauth2.rotated-refresh-token.${account}.${lineage}`;
  return {
    load: () => store.kv.get(key),
    save: (refreshToken) => store.kv.set(key, refreshToken),
  };
}
