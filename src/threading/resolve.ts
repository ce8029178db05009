/**
 * ThreadResolver: which conversation an inbound message belongs to.
 *
 * Order (first match wins):
 *  1. "store": the message's own id (a redelivery), In-Reply-To, then References newest first,
 *     looked up among the ids the channel has seen or sent.
 *  2. "message-id-token": one of those ids is an outgoing Message-ID of ours whose MAC verifies
 *     (a reply to the assistant whose parent id the store does not know).
 *  3. "plus-token": a verified reply token in a plus address on one of our addresses in To, Cc,
 *     Delivered-To, X-Original-To or Envelope-To.
 *  4. "root": the conversation derived from the thread root (first References id, else In-Reply-To);
 *     "new" when the message has no threading headers and is its own root.
 *
 * Scope: a match only counts when the sender (From, lower-cased) is a participant of the matched
 * conversation: the participants recorded on the matched link, together with the conversation's
 * current participants (deps.participants). We chose the address, not the sender's domain: a domain
 * rule would let any user of a shared provider (gmail.com) into a stranger's thread. A token match
 * for a conversation whose participants are unknown does not count either: the MAC proves we minted
 * the id, not who is replying with it (a forwarded copy carries it too). When any match was refused
 * for scope, or the derived root conversation is known and the sender is not in it, the result is a
 * new conversation derived from (root, sender), so a stranger who quotes a Message-ID starts their
 * own thread and never reads or writes someone else's. The price: a person who was Bcc'd or
 * forwarded into a thread and replies starts a new conversation (and replies to them follow it).
 * `deps.scope: "none"` turns scoping off.
 */
import { deriveConversationId } from "./conversation-id.js";
import { normaliseMessageId, parseMessageIdList } from "./message-id.js";
import { decodeOutgoingMessageId, decodeReplyToken } from "./tokens.js";
import type { ConversationResolution, ResolveDeps, ThreadInput } from "./types.js";

const ENVELOPE_HEADERS = ["delivered-to", "x-original-to", "envelope-to"];

function lowerAddress(address: string | undefined): string {
  if (!address) return "";
  let a = address.trim();
  if (a.startsWith("<") && a.endsWith(">")) a = a.slice(1, -1).trim();
  return a.toLowerCase();
}

/** Candidate parent ids: own id, In-Reply-To, then References newest first; deduplicated. */
export function threadCandidates(input: ThreadInput): { candidates: string[]; root: string; ownId: string } {
  const ownId = normaliseMessageId(input.messageId);
  const inReplyTo = parseMessageIdList(input.inReplyTo ?? []);
  const references = parseMessageIdList(input.references ?? []);
  const ordered = [ownId, ...inReplyTo, ...[...references].reverse()].filter((id) => id !== "");
  const candidates = [...new Set(ordered)];
  const root = references[0] ?? inReplyTo[0] ?? ownId;
  return { candidates, root, ownId };
}

/** Addresses that can carry a plus token: To, Cc and the envelope recipient headers. */
function recipientAddresses(input: ThreadInput): string[] {
  const out: string[] = [];
  for (const a of [...(input.to ?? []), ...(input.cc ?? [])]) out.push(lowerAddress(a?.address));
  for (const name of ENVELOPE_HEADERS) {
    for (const value of input.headers?.[name] ?? []) {
      for (const piece of String(value).split(/[\s,]+/)) out.push(lowerAddress(piece));
    }
  }
  return out.filter((a) => a.includes("@"));
}

/** The token of `address` when it is a plus address on one of our own addresses or domains. */
function plusToken(address: string, deps: ResolveDeps): string | undefined {
  const sep = deps.subaddressSeparator ?? "+";
  const at = address.lastIndexOf("@");
  if (at <= 0) return undefined;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const cut = local.indexOf(sep);
  if (cut <= 0) return undefined;
  const base = `${local.slice(0, cut)}@${domain}`;
  const own = deps.ownAddresses.some((o) => lowerAddress(o) === base);
  const ownDomain = (deps.ownDomains ?? []).some((d) => d.trim().toLowerCase() === domain);
  if (!own && !ownDomain) return undefined;
  return local.slice(cut + sep.length);
}

export function resolveConversation(input: ThreadInput, deps: ResolveDeps): ConversationResolution {
  const sender = lowerAddress(input.from?.address);
  const { candidates, root, ownId } = threadCandidates(input);
  const rejected: ConversationResolution["rejected"] = [];

  const isParticipant = (conversationId: string, recorded?: readonly string[]): boolean => {
    if (deps.scope === "none") return true;
    if (!sender) return false;
    if (recorded?.some((p) => lowerAddress(p) === sender)) return true;
    const current = deps.participants?.(conversationId);
    return current?.some((p) => lowerAddress(p) === sender) ?? false;
  };

  // 1. Ids the channel has seen or sent.
  for (const id of candidates) {
    const link = deps.lookup(id);
    if (!link) continue;
    if (isParticipant(link.conversationId, link.participants)) {
      return { conversationId: link.conversationId, via: "store", matchedId: id, root, rejected };
    }
    rejected.push({ matchedId: id, conversationId: link.conversationId, via: "store" });
  }

  // 2. Our own outgoing Message-IDs carry the conversation. The message's own id is skipped: an
  //    inbound message that carries one of our ids as its own is our mail (the loop guard's case).
  for (const id of candidates) {
    if (id === ownId) continue;
    const decoded = decodeOutgoingMessageId(id, deps.secret);
    if (!decoded) continue;
    if (isParticipant(decoded.conversationId)) {
      return {
        conversationId: decoded.conversationId,
        via: "message-id-token",
        matchedId: id,
        root,
        rejected,
      };
    }
    rejected.push({ matchedId: id, conversationId: decoded.conversationId, via: "message-id-token" });
  }

  // 3. A reply token in a plus address of ours.
  for (const address of recipientAddresses(input)) {
    const token = plusToken(address, deps);
    if (!token) continue;
    const conversationId = decodeReplyToken(token, deps.secret);
    if (conversationId === undefined) continue;
    if (isParticipant(conversationId)) {
      return { conversationId, via: "plus-token", matchedId: address, root, rejected };
    }
    rejected.push({ matchedId: address, conversationId, via: "plus-token" });
  }

  // 4. The thread root.
  const rootConversation = deriveConversationId(root);
  const known = deps.participants?.(rootConversation);
  const foreignRoot = known !== undefined && !isParticipant(rootConversation);
  if (rejected.length > 0 || foreignRoot) {
    return { conversationId: deriveConversationId(root, sender), via: "new", root, rejected };
  }
  return { conversationId: rootConversation, via: root === ownId ? "new" : "root", root, rejected };
}
