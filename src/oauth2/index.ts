export {
  AccessTokens,
  accessTokensFor,
  type AccessToken,
  type AccessTokensOptions,
  type RotatedRefreshTokens,
} from "./access-tokens.js";
export { rotatedRefreshTokensIn } from "./rotated-store.js";
export { requestAccessToken, type TokenRequestOptions } from "./token-endpoint.js";
export type { IssuedToken, OAuth2Grant, TokenFetch } from "./types.js";
export {
  authorizationUrl,
  authorizeWithLoopback,
  type LoopbackAuthorizationOptions,
  pkcePair,
  readCallback,
} from "./authorize.js";
export { type AuthorizationCodeGrant, redeemAuthorizationCode } from "./token-endpoint.js";
