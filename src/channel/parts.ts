/**
 * The running parts of an EmailChannel, each built from the resolved config: SMTP senders, the outbox
 * dispatcher (with the Sent copy), one watcher per account and mailbox, and the CalDAV/CardDAV feeds.
 * EmailChannel.start() wires them together; nothing here starts a socket.
 */
import type { EventEmitter } from "node:events";
import type { ResolvedConfig } from "../config/resolved.js";
import type { ProfileSink, ReminderSink } from "../contract/index.js";
import { MailboxWatcher } from "../imap/mailbox-watcher.js";
import type { MailboxHandler, WatcherHealth } from "../imap/types.js";
import type { Logger } from "../log/index.js";
import { OutboxDispatcher } from "../outbox/dispatcher.js";
import type { ProfileIndex } from "../profiles/index.js";
import type { KeyedQueue } from "../runtime/keyed-queue.js";
import { smtpAuthFor } from "../smtp/account-auth.js";
import { SmtpSender } from "../smtp/index.js";
import type { OutboundSender } from "../smtp/types.js";
import type { OutboxEntry, StateStore } from "../store/types.js";
import { CalendarFeed } from "../sync/calendar-feed.js";
import { ContactsFeed } from "../sync/contacts-feed.js";
import type { GuardStage } from "./guard-stage.js";
import type { InboundPipeline } from "./inbound-pipeline.js";
import type { Outbound } from "./outbound.js";
import { reminderMail } from "./reminder-mail.js";
import { SentFolder } from "./sent-folder.js";
import type { ConvertPool } from "../mime/pool/convert-pool.js";

/** Everything a started channel holds. */
export interface Running {
  store: StateStore;
  ownsStore: boolean;
  abort: AbortController;
  queue: KeyedQueue;
  watchers: Map<string, MailboxWatcher>;
  dispatcher: OutboxDispatcher;
  senders: Map<string, OutboundSender>;
  sentFolder: SentFolder;
  pipeline: InboundPipeline;
  outbound: Outbound;
  guards: GuardStage;
  calendar: CalendarFeed;
  contacts: ContactsFeed;
  /** The conversion workers (absent: conversion in the main thread, or the host's converter). */
  converter?: ConvertPool;
}

/** The key of a watcher in Running.watchers. */
export const watcherKey = (account: string, mailbox: string) => `${account}\u0000${mailbox}`;

/** One SMTP sender per account (or the host's factory's). */
export function buildSenders(
  c: ResolvedConfig,
  log: Logger,
  factory?: (address: string) => OutboundSender,
): Map<string, OutboundSender> {
  const senders = new Map<string, OutboundSender>();
  for (const a of c.accounts) {
    senders.set(
      a.address,
      factory?.(a.address) ??
        new SmtpSender({
          host: c.smtp.host,
          port: c.smtp.port,
          secure: c.smtp.tls,
          auth: smtpAuthFor(a, c.tls, log.child({ account: a.address })),
          tls: { rejectUnauthorized: c.tls.rejectUnauthorized, ...(c.tls.ca ? { ca: c.tls.ca } : {}) },
          maxConnections: c.smtp.maxConnections,
          rateLimitPerSecond: c.smtp.rateLimitPerSecond,
          logger: log.child({ account: a.address }), // SmtpSender adds stage "smtp"
        }),
    );
  }
  return senders;
}

/** Logs the allowlist choices an operator should know about (everybody, or nobody). */
export function warnAboutAllowlist(c: ResolvedConfig, log: Logger): void {
  if (c.allowedSenders.includes("*"))
    log.warn('allowed_senders is "*": everybody may talk to the assistant (an explicit choice)');
  if (c.allowedSenders.length === 0 && !c.allowContacts)
    log.warn("allowed_senders is empty: nobody may talk to the assistant; mail is recorded but not answered");
}

/**
 * Where a reply's delivery copy goes (`reply.delivery_copy`): the sending account's own address, for
 * accounts whose INBOX the channel watches. Elsewhere nobody would see the copy arrive (it would only
 * fill an unwatched INBOX), so none is asked for and a send in doubt goes again at once.
 */
export function deliveryCopyAddress(c: ResolvedConfig): (entry: OutboxEntry) => string | undefined {
  const watched = new Set(
    c.accounts
      .filter((a) => a.mailboxes.some((m) => m.toUpperCase() === "INBOX"))
      .map((a) => a.address.toLowerCase()),
  );
  return (entry) => (watched.has(entry.account.toLowerCase()) ? entry.account : undefined);
}

/**
 * Has the delivery copy of an entry in doubt arrived? The watcher records the copy (as our own mail,
 * never handed over) under its Message-ID. Every copy counts, whenever it was recorded: the copy of
 * an earlier send that reached nobody (OutboxEntry.strayCopies) may be recorded only after the send
 * in doubt began, so time cannot tell them apart; one copy more than those is the send in doubt's.
 */
export function deliveryCopyArrived(store: StateStore): (entry: OutboxEntry) => boolean {
  return (entry) => store.inbound.getByMessageId(entry.messageId).length > entry.strayCopies;
}

/**
 * The outbox dispatcher: sends, reports "sent"/"sendFailed", and copies each sent message to Sent
 * (over the SentFolder's own IMAP connections).
 */
export function buildOutbox(o: {
  c: ResolvedConfig;
  store: StateStore;
  senders: Map<string, OutboundSender>;
  log: Logger;
  events: EventEmitter;
}): { dispatcher: OutboxDispatcher; sentFolder: SentFolder } {
  const { c, store, senders, log, events } = o;
  const sentFolder = new SentFolder({
    endpoint: c.imap,
    tls: c.tls,
    accounts: c.accounts,
    logger: log.child({ stage: "sent-folder" }),
  });
  const dispatcher = new OutboxDispatcher({
    repo: store.outbox,
    sender: (entry) => senders.get(entry.account) ?? senders.values().next().value!,
    logger: log, // the dispatcher adds stage "outbox"
    ...(c.reply.deliveryCopy
      ? {
          deliveryCopy: deliveryCopyAddress(c),
          confirmDelivered: deliveryCopyArrived(store),
        }
      : {}),
    onSent: async (entry, info) => {
      if (!info.replayed)
        events.emit("sent", {
          key: entry.key,
          messageId: entry.messageId,
          conversationId: entry.conversationId,
        });
      if (!c.reply.saveToSent) {
        store.outbox.markSavedToSent(entry.key); // nothing to copy: never replay it
        return;
      }
      try {
        await sentFolder.append(entry.account, entry.raw);
        store.outbox.markSavedToSent(entry.key);
      } catch (error) {
        log.warn(
          { err: error, messageId: entry.messageId },
          "could not copy the sent message to Sent; will retry at the next start",
        );
      }
    },
  });
  dispatcher.on("permanentFailure", (entry, error) => {
    log.error(
      { messageId: entry.messageId, key: entry.key, recipients: entry.recipients, err: error },
      "message will not be delivered",
    );
    events.emit("sendFailed", {
      key: entry.key,
      messageId: entry.messageId,
      recipients: entry.recipients,
      error: error.message,
    });
  });
  return { dispatcher, sentFolder };
}

/** One watcher per account and mailbox, reporting health as "health" events. */
export function buildWatchers(o: {
  c: ResolvedConfig;
  store: StateStore;
  handler: MailboxHandler;
  log: Logger;
  events: EventEmitter;
}): Map<string, MailboxWatcher> {
  const { c, store, handler, log, events } = o;
  const watchers = new Map<string, MailboxWatcher>();
  for (const a of c.accounts) {
    for (const mailbox of a.mailboxes) {
      const w = new MailboxWatcher({
        account: a,
        mailbox,
        endpoint: c.imap,
        tls: c.tls,
        store,
        handler,
        logger: log,
        idle: c.watch.idle,
        pollIntervalMs: c.watch.pollIntervalMs,
        sweepIntervalMs: c.watch.sweepIntervalMs,
        initialSync: c.watch.initialSync,
        maxMessageBytes: c.watch.maxMessageBytes,
        quarantineMailbox: c.watch.quarantineMailbox,
        ...(c.watch.processedMailbox ? { processedMailbox: c.watch.processedMailbox } : {}),
        // The IDLE-only second connection doubles the sessions per account: only while that
        // stays well under the servers' per-user limits (idle_listener_max_mailboxes).
        listener: a.mailboxes.length <= c.watch.idleListenerMaxMailboxes,
      });
      w.on("health", (h: WatcherHealth) => events.emit("health", h));
      watchers.set(watcherKey(a.address, mailbox), w);
    }
  }
  return watchers;
}

/** The CalDAV feed (reminders, optionally mailed to the user) and the CardDAV feed (profiles). */
export function buildFeeds(o: {
  c: ResolvedConfig;
  store: StateStore;
  log: Logger;
  events: EventEmitter;
  outbound: Outbound;
  reminderSink: ReminderSink;
  profileSink: ProfileSink;
  profileIndex: ProfileIndex;
}): { calendar: CalendarFeed; contacts: ContactsFeed } {
  const { c, store, log, events, outbound } = o;
  const calendar = new CalendarFeed({
    config: c,
    store,
    sink: o.reminderSink,
    logger: log,
    fire: async (reminder, ctx) => {
      events.emit("reminder", { reminder, late: ctx.late });
      if (!c.reminders.emailUser) return;
      const mail = reminderMail(reminder, { late: ctx.late, timeZone: c.timezone });
      const account = reminder.userId.replace(/^email:/, "");
      await outbound.send(mail.conversationId, mail.body, {
        to: account,
        from: account,
        subject: mail.subject,
        idempotencyKey: mail.key,
      });
    },
  });
  const contacts = new ContactsFeed({
    config: c,
    store,
    sink: o.profileSink,
    logger: log,
    index: o.profileIndex,
  });
  return { calendar, contacts };
}

/**
 * Stops a started channel's parts: the watchers hand no more mail over, then the agent work in
 * flight may finish (at most `stopTimeoutMs`, then it is aborted: it resumes at the next start), then
 * the watchers flag or move what was settled and close, then the conversion workers, the feeds, the outbox, the SMTP
 * sockets, and the store when the channel opened it.
 */
export async function stopParts(r: Running, o: { stopTimeoutMs: number; log: Logger }): Promise<void> {
  const watchers = [...r.watchers.values()];
  await Promise.all(watchers.map((w) => w.stopIntake()));
  const drained = await Promise.race([
    r.queue.onIdle().then(() => true),
    new Promise<boolean>((res) => setTimeout(() => res(false), o.stopTimeoutMs).unref()),
  ]);
  r.abort.abort();
  if (!drained) o.log.warn("stop: agent work still running was aborted; it resumes at the next start");
  r.pipeline.stop();
  await Promise.all(watchers.map((w) => w.stop()));
  await r.converter?.close();
  await Promise.all([r.calendar.stop(), r.contacts.stop()]);
  await r.dispatcher.stop();
  await Promise.all([...r.senders.values()].map((s) => (s as { close?: () => Promise<void> }).close?.()));
  await r.sentFolder.stop();
  if (r.ownsStore) r.store.close();
}
