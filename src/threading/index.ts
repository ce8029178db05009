/** Threading: which conversation a message belongs to, and the headers that keep a reply in it. */
export { base32Decode, base32Encode } from "./base32.js";
export { CONVERSATION_ID_LENGTH, deriveConversationId } from "./conversation-id.js";
export {
  cleanMessageId,
  formatMessageId,
  messageIdDomain,
  messageIdLocalPart,
  normaliseMessageId,
  parseMessageIdList,
} from "./message-id.js";
export { buildReplyHeaders, trimReferences } from "./reply-headers.js";
export type { ReplyHeaderOptions, ReplyHeaders, ReplyParent } from "./reply-headers.js";
export { resolveConversation, threadCandidates } from "./resolve.js";
export {
  FORWARD_PREFIXES,
  normaliseSubject,
  REPLY_PREFIXES,
  replySubject,
  stripReplyPrefixes,
} from "./subject.js";
export {
  decodeOutgoingMessageId,
  decodeReplyToken,
  encodeOutgoingMessageId,
  encodeReplyToken,
  looksLikeOutgoingMessageId,
  MAX_TOKEN_CONVERSATION_BYTES,
  MIN_SECRET_BYTES,
  randomUnique,
  replyAddress,
} from "./tokens.js";
export type { DecodedOutgoingMessageId, ThreadSecret } from "./tokens.js";
export type {
  AddressLike,
  ConversationResolution,
  ResolveDeps,
  ResolveVia,
  ThreadInput,
} from "./types.js";
