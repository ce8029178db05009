/**
 * Composition: the agent's Markdown and the channel's addresses and threading ids -> the finished
 * RFC 5322 message bytes (pure apart from reading attachment files).
 */
export { DEFAULT_ATTACHMENT_LIMITS, resolveAttachments, safeFilename } from "./attachments.js";
export { autoSubmittedFor, composeBodies, composeMessage } from "./compose.js";
export {
  cleanHeaderText,
  formatMessageId,
  isValidMessageId,
  parseMessageId,
  validateAddress,
  validateExtraHeaders,
  validateMailbox,
} from "./headers.js";
export { escapeHtml, normalizeMarkdown, renderMarkdownHtml, sanitizeFragment } from "./markdown.js";
export { attributionLine, DEFAULT_MAX_QUOTE_CHARS, formatQuoteDate, quoteHtml, quotePlain } from "./quote.js";
export type {
  Addr,
  AttachmentLimits,
  ComposedMessage,
  ComposeInput,
  ComposeOptions,
  OutgoingKind,
  QuoteSource,
} from "./types.js";
