/**
 * Threading headers of a reply. RFC 5322 §3.6.4: In-Reply-To = the parent's Message-ID; References =
 * the parent's References (or, when it has none, its In-Reply-To if that holds a single id) followed
 * by the parent's Message-ID.
 */
import { cleanMessageId, formatMessageId, normaliseMessageId, parseMessageIdList } from "./message-id.js";

export interface ReplyParent {
  messageId: string;
  inReplyTo?: string | string[];
  /** The parent's References in header order (oldest first). */
  references?: string[];
}

export interface ReplyHeaderOptions {
  /**
   * How many of the newest References ids to keep besides the first (the thread root).
   * Default 20: References then holds at most 21 ids (about 1.3 KB with typical ids), well inside
   * what every MTA accepts. Long threads lose ids in the middle; clients thread by the root and the
   * newest ids, which stay. Values below 1 are read as 1.
   */
  keepLast?: number;
}

export interface ReplyHeaders {
  /** Parent id, without brackets, case as the parent wrote it. */
  inReplyTo: string;
  /** Reference ids, without brackets, oldest first. */
  references: string[];
  /** Header values ready for the composer: `<id>` and `<a> <b> <c>`. */
  headers: { "In-Reply-To": string; References: string };
}

/** Trims a References list to the first id plus the newest `keepLast` ids. */
export function trimReferences(ids: readonly string[], keepLast = 20): string[] {
  const n = Math.max(1, Math.floor(keepLast));
  if (ids.length <= n + 1) return [...ids];
  return [ids[0]!, ...ids.slice(ids.length - n)];
}

export function buildReplyHeaders(parent: ReplyParent, options: ReplyHeaderOptions = {}): ReplyHeaders {
  // Ids are repeated exactly as their authors wrote them (case kept); duplicates compare normalised.
  const parentId = cleanMessageId(parent.messageId);
  const parentKey = normaliseMessageId(parentId);
  let chain = parseMessageIdList(parent.references ?? [], { normalise: false });
  if (chain.length === 0) {
    // RFC 5322 §3.6.4: use In-Reply-To only when it names exactly one parent.
    const inReplyTo = parseMessageIdList(parent.inReplyTo ?? [], { normalise: false });
    if (inReplyTo.length === 1) chain = inReplyTo;
  }
  chain = chain.filter((id) => normaliseMessageId(id) !== parentKey);
  if (parentId) chain.push(parentId);
  const references = trimReferences(chain, options.keepLast ?? 20);
  return {
    inReplyTo: parentId,
    references,
    headers: {
      "In-Reply-To": parentId ? formatMessageId(parentId) : "",
      References: references.map(formatMessageId).join(" "),
    },
  };
}
