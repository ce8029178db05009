export {
  AccessTokens,
  accessTokensFor,
  type AccessToken,
  type AccessTokensOptions,
} from "./access-tokens.js";
export { requestAccessToken, type TokenRequestOptions } from "./token-endpoint.js";
export type { IssuedToken, OAuth2Grant, TokenFetch } from "./types.js";
