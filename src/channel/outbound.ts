import type { EventEmitter } from "node:events";
import type { ResolvedConfig } from "../config/resolved.js";
import {
  type Addr,
  composeMessage,
  isValidMessageId,
  parseMessageId,
  validateAddress,
} from "../compose/index.js";
import type {
  MessageFormat,
  OutgoingAttachment,
  Registry,
  SendOptions,
  SentMessage,
} from "../contract/types.js";
import { InputError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import type { OutboxDispatcher } from "../outbox/dispatcher.js";
import type { ConversationState, StateStore } from "../store/types.js";
import {
  buildReplyHeaders,
  encodeOutgoingMessageId,
  type ReplyParent,
  normaliseMessageId,
  randomUnique,
  replySubject,
} from "../threading/index.js";
import { normaliseAddress } from "../guards/index.js";
import { GENERATED_ID_DOMAIN } from "../mime/index.js";
import { domainOf } from "./identity.js";
import { attachmentsRoot } from "./inbound-records.js";

/** The outbox key of the reply to an inbound message (its idempotency key: one reply per message). */
export function replyKey(inboundMessageId: string): string {
  return `${inboundMessageId}#0`;
}

export interface OutboundDeps {
  config: ResolvedConfig;
  store: StateStore;
  dispatcher: OutboxDispatcher;
  secret: Buffer;
  logger: Logger;
  events: EventEmitter;
  registry?: Registry;
  /** May this address receive mail it did not write from (Reply-To, reply-all)? The allowlist. */
  allowed(address: string): boolean;
}

type Body = { content: string; attachments: OutgoingAttachment[] };

/**
 * Threading headers of a reply, without the ids the composer cannot write back unchanged (longer
 * than 250 characters, non-ASCII, spaces, angle brackets). A message with such a Message-ID is still
 * answered, in its conversation; only mail clients cannot thread the reply under it by that id.
 */
function replyHeaders(parent: ReplyParent) {
  const inReplyTo = parent.inReplyTo === undefined ? [] : [parent.inReplyTo].flat();
  return buildReplyHeaders({
    messageId: citable(parent.messageId) ? parent.messageId : "",
    inReplyTo: inReplyTo.filter(citable),
    references: (parent.references ?? []).filter(citable),
  });
}

/**
 * An id a reply may cite: one the composer can write, and not one the channel made up for a message
 * that had no Message-ID (GENERATED_ID_DOMAIN): nobody else knows it, so a parent without an id gets
 * a reply without In-Reply-To (RFC 5322 §3.6.4).
 */
function citable(id: string): boolean {
  return isValidMessageId(id) && !id.toLowerCase().endsWith(`@${GENERATED_ID_DOMAIN}`);
}
type Meta = { address: string; name?: string };

/**
 * Can the composer write this address (validateAddress: no quoted local parts, no domain literals)?
 * A reply leaves out a Cc it cannot write rather than failing, apology and all, for everybody.
 */
function writable(address: string): boolean {
  try {
    validateAddress(address);
    return true;
  } catch {
    return false;
  }
}

/**
 * The parent of a message sent into a known conversation: `inReplyTo` when the host names the message
 * it answers (SendOptions.inReplyTo), else the conversation's last message. The named parent's own
 * References are not kept; the conversation's chain stands in for them (every id in it is of the
 * same thread), with the parent last.
 */
function sendParent(
  state: ConversationState | undefined,
  inReplyTo: string | undefined,
): ReplyParent | undefined {
  if (inReplyTo !== undefined) {
    const id = parseMessageId(inReplyTo);
    if (!id)
      throw new InputError("options.inReplyTo is not a Message-ID", {
        code: "SEND_IN_REPLY_TO_INVALID",
        stage: "channel",
      });
    const chain = state ? [...state.lastReferences, state.lastMessageId] : [];
    const key = normaliseMessageId(id);
    return { messageId: id, references: chain.filter((r) => normaliseMessageId(r) !== key) };
  }
  return state ? { messageId: state.lastMessageId, references: state.lastReferences } : undefined;
}

const lower = (s: string) => s.trim().toLowerCase();
const list = (v: string | string[] | undefined) =>
  (v === undefined ? [] : Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter(Boolean);

/**
 * Where the agent's `path` attachments may never come from (see AttachmentLimits.denied): the state
 * folder but its attachments (an inbound attachment may go out again), and the kernel's views of the
 * process (/proc/self/environ holds its passwords).
 */
function deniedAttachmentFolders(stateDir: string): { folders: string[]; exceptions: string[] } {
  return { folders: [stateDir, "/proc", "/sys"], exceptions: [attachmentsRoot(stateDir)] };
}

/**
 * The outbound path: compose a message for a conversation, write it to the outbox (idempotent by
 * key) before anything goes on the wire, then try to send it at once. Threading state is updated when
 * the message is recorded, so a reply to it finds the conversation even if it is delivered later.
 */
export class Outbound {
  readonly #d: OutboundDeps;
  constructor(deps: OutboundDeps) {
    this.#d = deps;
  }

  /** Replies to an inbound message (one reply per inbound message; `key` makes it idempotent). */
  async reply(
    inbound: MessageFormat,
    body: Body,
    key: string,
    kind: "reply" | "apology" = "reply",
  ): Promise<SentMessage> {
    const m = inbound.metadata as {
      account: string;
      from?: Meta;
      replyTo?: Meta[];
      to?: Meta[];
      cc?: Meta[];
      subject?: string;
      references?: string[];
      inReplyTo?: string;
      fullText?: string;
      date?: string;
    };
    const account = this.#account(m.account);
    const sender = m.from?.address ? lower(m.from.address) : undefined;
    // Compared in one form (guards' normaliseAddress: A-label domains), as mail may write either.
    const own = new Set(this.#d.config.accounts.map((a) => normaliseAddress(a.address)));
    const isOwn = (address: string) => own.has(normaliseAddress(address));
    // Reply-To is honoured only when the allowlist admits it too (no redirection to a third party),
    // and never towards the channel itself (its own mail is dropped on arrival: nobody would read it).
    const replyTo = [...new Set((m.replyTo ?? []).map((a) => lower(a.address)))].filter(
      (a) => !isOwn(a) && this.#d.allowed(a) && writable(a),
    );
    const to = replyTo.length > 0 ? replyTo : sender ? [sender] : [];
    const cc = this.#d.config.reply.replyAll
      ? [...new Set([...(m.to ?? []), ...(m.cc ?? [])].map((a) => lower(a.address)))].filter(
          (a) => !isOwn(a) && !to.includes(a) && this.#d.allowed(a),
        )
      : [];
    const unwritable = cc.filter((a) => !writable(a));
    if (unwritable.length > 0)
      this.#d.logger.warn(
        { messageId: inbound.messageId, left: unwritable.length },
        "reply-all: Cc addresses the composer cannot write are left out",
      );
    if (to.length === 0)
      throw new InputError("the message has no address to reply to", {
        code: "REPLY_NO_RECIPIENT",
        stage: "channel",
      });
    const headers = replyHeaders({
      messageId: inbound.messageId,
      ...(m.inReplyTo ? { inReplyTo: m.inReplyTo } : {}),
      references: m.references ?? [],
    });
    return this.#record({
      key,
      account,
      conversationId: inbound.conversationId,
      to,
      cc: cc.filter(writable),
      subject: replySubject(m.subject ?? ""),
      inReplyTo: headers.inReplyTo,
      references: headers.references,
      body,
      kind: "reply",
      label: kind,
      ...(this.#d.config.reply.quoteOriginal && m.fullText
        ? {
            quote: {
              from: m.from?.name ? `${m.from.name} <${m.from.address}>` : (m.from?.address ?? ""),
              ...(m.date ? { date: new Date(m.date) } : {}),
              text: m.fullText,
            },
          }
        : {}),
    });
  }

  /**
   * sendMessage: into a known conversation (its subject, "Re: " once, and the headers of its last
   * message, or of options.inReplyTo when given) or a new one (options.to; threaded under
   * options.inReplyTo when given). Into a known conversation without options.to, the recipients follow reply()'s policy: the
   * conversation's latest sender, or with `reply.reply_all` everybody in it; only addresses the
   * allowlist admits (a stranger on Cc gets no progress notes). options.to and options.cc are the
   * host's choice and are used as given.
   */
  async send(conversationId: string, content: string, options: SendOptions = {}): Promise<SentMessage> {
    const state = this.#d.store.conversations.get(conversationId);
    const body = { content, attachments: options.attachments ?? [] };
    const key = options.idempotencyKey ?? `send:${conversationId}:${randomUnique()}`;
    const explicitTo = list(options.to).map(lower);
    const parent = sendParent(state, options.inReplyTo);
    const headers = parent ? replyHeaders(parent) : undefined;
    const threading = headers ? { inReplyTo: headers.inReplyTo, references: headers.references } : {};
    if (state) {
      // Into a known conversation: its subject ("Re: " once) and its parent's headers, whoever it goes to.
      const to = explicitTo.length > 0 ? explicitTo : this.#conversationRecipients(state);
      if (to.length === 0)
        throw new InputError(
          `conversation ${conversationId} has nobody the allowlist admits to write to: give options.to`,
          { code: "SEND_NO_ALLOWED_RECIPIENT", stage: "channel" },
        );
      return this.#record({
        key,
        account: this.#account(explicitTo.length > 0 ? (options.from ?? state.account) : state.account),
        conversationId,
        to,
        cc: list(options.cc).map(lower),
        subject: options.subject ?? replySubject(state.subject),
        ...threading,
        body,
        kind: "reply",
        label: "send",
      });
    }
    if (explicitTo.length === 0) {
      throw new InputError(
        `unknown conversation ${conversationId}: give options.to (and options.subject) to start it`,
        {
          code: "SEND_UNKNOWN_CONVERSATION",
          stage: "channel",
        },
      );
    }
    return this.#record({
      key,
      account: this.#account(options.from),
      conversationId,
      to: explicitTo,
      cc: list(options.cc).map(lower),
      subject: options.subject ?? "A message from your assistant",
      ...threading,
      body,
      kind: headers ? "reply" : "new",
      label: "send",
    });
  }

  /**
   * Who a message into a known conversation goes to: with reply_all, its participants; without, its
   * latest inbound sender (its participants when none of its mail was handled); either way only
   * addresses the allowlist admits. A conversation nobody wrote in yet is one the host began: its
   * participants are the host's own choice (options.to and cc when it started it), kept as they are.
   */
  #conversationRecipients(state: ConversationState): string[] {
    const inbound = this.#d.store.inbound;
    const latest = inbound.latestSender(state.conversationId);
    if (latest === undefined && !inbound.hasInbound(state.conversationId))
      return [...new Set(state.participants.map(lower))];
    // Mail came in (even if none of it was handled: quarantined, refused): the policy applies.
    const candidates = this.#d.config.reply.replyAll || latest === undefined ? state.participants : [latest];
    return [...new Set(candidates.map(lower))].filter((a) => this.#d.allowed(a));
  }

  #account(address: string | undefined) {
    const accounts = this.#d.config.accounts;
    const found = address ? accounts.find((a) => a.address === lower(address)) : undefined;
    if (address && !found)
      throw new InputError(`${address} is not a monitored account`, {
        code: "SEND_UNKNOWN_ACCOUNT",
        stage: "channel",
      });
    return found ?? accounts[0]!;
  }

  #messageId(conversationId: string, account: string): string {
    try {
      return encodeOutgoingMessageId(conversationId, randomUnique(), domainOf(account), this.#d.secret);
    } catch {
      return `${randomUnique()}@${domainOf(account)}`; // a conversation id too long to encode
    }
  }

  async #record(o: {
    key: string;
    account: ResolvedConfig["accounts"][number];
    conversationId: string;
    to: string[];
    cc: string[];
    subject: string;
    inReplyTo?: string;
    references?: string[];
    body: Body;
    kind: "reply" | "new";
    label: string;
    quote?: { from: string; date?: Date; text: string };
  }): Promise<SentMessage> {
    const d = this.#d;
    const existing = d.store.outbox.get(o.key);
    if (existing) {
      // Idempotent: the same key never produces a second message.
      const outcome = existing.status === "pending" ? await d.dispatcher.sendNow(o.key) : undefined;
      return {
        messageId: existing.messageId,
        conversationId: existing.conversationId,
        status: outcome?.status ?? (existing.status === "pending" ? "queued" : existing.status),
        recipients: existing.recipients,
        ...(existing.response ? { response: existing.response } : {}),
      };
    }
    const messageId = this.#messageId(o.conversationId, o.account.address);
    const from: Addr = { address: o.account.address, ...(o.account.name ? { name: o.account.name } : {}) };
    const composed = await composeMessage(
      {
        from,
        to: o.to.map((address) => ({ address })),
        ...(o.cc.length ? { cc: o.cc.map((address) => ({ address })) } : {}),
        subject: o.subject,
        kind: o.kind,
        messageId,
        ...(o.inReplyTo ? { inReplyTo: o.inReplyTo } : {}),
        ...(o.references?.length ? { references: o.references } : {}),
        markdown: o.body.content,
        // RFC 3834 §5 practice: name ourselves, so a system that loops the mail back is recognised.
        headers: { "X-Loop": o.account.address },
        attachments: o.body.attachments,
        ...(o.quote ? { quote: o.quote } : {}),
      },
      { timeZone: d.config.timezone, attachments: { denied: deniedAttachmentFolders(d.config.stateDir) } },
    );
    const participants = [...new Set([...o.to, ...o.cc])];
    const now = new Date().toISOString();
    const { created } = d.store.transaction(() => {
      const result = d.dispatcher.enqueue({
        key: o.key,
        conversationId: o.conversationId,
        messageId: composed.messageId,
        account: o.account.address,
        recipients: composed.envelope.to,
        raw: composed.raw,
      });
      if (result.created) {
        d.store.threads.put({
          messageId: normaliseMessageId(composed.messageId),
          conversationId: o.conversationId,
          participants,
          direction: "out",
          at: now,
        });
        d.store.conversations.put({
          conversationId: o.conversationId,
          account: o.account.address,
          subject: o.subject,
          participants,
          lastMessageId: composed.messageId,
          lastReferences: o.references ?? [],
          updatedAt: now,
        } satisfies ConversationState);
      }
      return result;
    });
    if (created) {
      await d.registry?.logMessage({
        direction: "out",
        channel: "email",
        conversationId: o.conversationId,
        messageId: composed.messageId,
        content: o.body.content,
        at: new Date(),
      });
    }
    const outcome = await d.dispatcher.sendNow(o.key);
    d.logger.info(
      {
        conversationId: o.conversationId,
        messageId: outcome.messageId,
        status: outcome.status,
        to: composed.envelope.to,
        kind: o.label,
      },
      "reply recorded",
    );
    return {
      messageId: outcome.messageId,
      conversationId: o.conversationId,
      status: outcome.status,
      recipients: composed.envelope.to,
      ...(outcome.response ? { response: outcome.response } : {}),
    };
  }
}
