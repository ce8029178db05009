import type { ThreadLink } from "../store/types.js";
import type { ThreadSecret } from "./tokens.js";

/** An address as the MIME converter yields it. */
export interface AddressLike {
  address: string;
  name?: string;
}

/**
 * What threading needs from an inbound message (the lead maps ParsedInbound onto it). Message-IDs
 * may come with or without angle brackets; they are normalised here.
 */
export interface ThreadInput {
  /** The message's own Message-ID. */
  messageId: string;
  /** In-Reply-To: the parent's id (RFC 5322 allows several; all are read). */
  inReplyTo?: string | string[];
  /** References in header order (oldest first). */
  references: string[];
  from?: AddressLike;
  to: AddressLike[];
  cc: AddressLike[];
  /**
   * Lower-cased header name -> values, topmost first. Read for the envelope recipient
   * (Delivered-To, X-Original-To, Envelope-To), where a reply token survives when the client
   * replied to a plus address that is not in To or Cc (Bcc, list expansion).
   */
  headers?: Record<string, string[]>;
  subject?: string;
}

export interface ResolveDeps {
  /** Every Message-ID the channel has seen or sent (ThreadRepo.get); ids are passed normalised. */
  lookup(messageId: string): ThreadLink | undefined;
  /**
   * Participants (lower-cased addresses) of a known conversation (ConversationRepo.get(id)
   * ?.participants), undefined when the conversation is unknown. Without it, only links found
   * through `lookup` can admit a sender to an existing conversation.
   */
  participants?(conversationId: string): readonly string[] | undefined;
  /** The channel's own addresses (monitored accounts); plus tokens are read only on these. */
  ownAddresses: readonly string[];
  /** The channel's own domains: a plus token on any address of these domains is read too. */
  ownDomains?: readonly string[];
  /** Secret for Message-ID and reply tokens (at least 16 bytes). */
  secret: ThreadSecret;
  /** Sub-address separator of the own mail system. Default "+". */
  subaddressSeparator?: string;
  /**
   * Who may join an existing conversation. "participant" (default): only a sender who is among
   * its participants (see resolve.ts). "none": any sender whose message matches; only for
   * deployments whose allowlist already admits a few trusted people, where splitting a thread
   * because someone was Bcc'd or forwarded into it costs more than it protects.
   */
  scope?: "participant" | "none";
}

export type ResolveVia = "store" | "message-id-token" | "plus-token" | "root" | "new";

export interface ConversationResolution {
  conversationId: string;
  via: ResolveVia;
  /** The Message-ID (or, for "plus-token", the address) that matched. */
  matchedId?: string;
  /** The thread root used for derivation (first References id, else In-Reply-To, else own id). */
  root: string;
  /**
   * Matches that pointed at a conversation the sender is not a participant of. When there are any,
   * the result is a new conversation scoped to (root, sender): via "new".
   */
  rejected: { matchedId: string; conversationId: string; via: Exclude<ResolveVia, "root" | "new"> }[];
}
