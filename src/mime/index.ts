/**
 * The converter stage: raw RFC 5322 bytes of one message -> ParsedInbound (everything the channel
 * needs to build a MessageFormat). No IMAP, no SMTP. See convert.ts for the flow, limits.ts for the
 * limit policy, reply-strip.ts for the quote/signature semantics.
 */
export { convertMessage } from "./convert.js";
export { ConvertPool, type ConvertPoolOptions } from "./pool/convert-pool.js";
export { stripReply, type StripOptions, type StrippedReply } from "./reply-strip.js";
export { htmlToReadableText } from "./html-text.js";
export { sanitiseFilename, uniqueFilename, MAX_FILENAME_BYTES } from "./filename.js";
export {
  generatedMessageId,
  generatedMessageIdFromDigest,
  parseMessageId,
  parseMessageIds,
  attachmentFolderName,
  GENERATED_ID_DOMAIN,
} from "./message-id.js";
export { decodeBytes, normaliseCharsetLabel, type DecodedText } from "./charset.js";
export { decodeEncodedWords } from "./encoded-words.js";
export { decodeFlowed } from "./flowed.js";
export { DEFAULT_DENY_TYPES, DEFAULT_DENY_EXTENSIONS, typeMatches } from "./limits.js";
export type { HeaderMap } from "./headers.js";
export type {
  CalendarPart,
  ConvertOptions,
  InboundAttachment,
  MailAddress,
  ParsedInbound,
  ReportPart,
  SkipCode,
  SkippedAttachment,
} from "./types.js";
