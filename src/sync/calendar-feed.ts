import type { AccountConfig, ResolvedConfig } from "../config/resolved.js";
import type { Reminder, ReminderSink } from "../contract/sinks.js";
import type { DavPoller, SyncDiff } from "../dav/index.js";
import { accountPoller } from "./account-poller.js";
import { computeReminders } from "../dav/calendar/reminders/index.js";
import type { Logger } from "../log/index.js";
import { calendarScope, objectScope, ReminderScheduler, reconcileReminders } from "../reminders/index.js";
import type { FireReminder } from "../reminders/types.js";
import type { StateStore } from "../store/types.js";

export interface CalendarFeedOptions {
  config: ResolvedConfig;
  store: StateStore;
  sink: ReminderSink;
  logger: Logger;
  fire: FireReminder;
  /** How often every calendar is recomputed so the horizon rolls forward, ms. Default 1 h. */
  recomputeIntervalMs?: number;
  now?: () => Date;
}

/**
 * CalDAV -> reminders: one DavPoller per monitored account (its own credentials), each diff turned
 * into reminders of the changed objects and reconciled into the sink; the scheduler fires them.
 */
export class CalendarFeed {
  readonly #o: CalendarFeedOptions;
  readonly #pollers: DavPoller[] = [];
  readonly scheduler: ReminderScheduler;
  #rollTimer: NodeJS.Timeout | undefined;

  constructor(options: CalendarFeedOptions) {
    this.#o = options;
    this.scheduler = new ReminderScheduler({
      sink: options.sink,
      fired: options.store.fired,
      fire: options.fire,
      graceMs: options.config.reminders.graceMinutes * 60_000,
      logger: options.logger.child({ stage: "reminders" }),
      ...(options.now ? { now: options.now } : {}),
    });
  }

  #compute(account: AccountConfig, calendarUrl: string, href: string, data: string): Reminder[] {
    const r = this.#o.config.reminders;
    const result = computeReminders(
      { calendarUrl, href, data },
      {
        userId: `email:${account.address}`,
        now: (this.#o.now ?? (() => new Date()))(),
        horizonDays: r.horizonDays,
        userTimeZone: this.#o.config.timezone,
        ...(r.defaultAlarmMinutes !== undefined ? { defaultAlarmMinutes: r.defaultAlarmMinutes } : {}),
      },
    );
    if (result.problems.length)
      this.#o.logger.warn({ href, problems: result.problems }, "calendar object partly understood");
    return result.reminders;
  }

  async #onDiff(account: AccountConfig, diff: SyncDiff): Promise<void> {
    for (const obj of [...diff.added, ...diff.changed]) {
      let next: Reminder[] = [];
      try {
        next = this.#compute(account, diff.collectionUrl, obj.href, obj.data);
      } catch (error) {
        this.#o.logger.warn(
          { err: error, href: obj.href },
          "calendar object skipped: cannot compute its reminders",
        );
      }
      this.scheduler.update(
        await reconcileReminders(this.#o.sink, objectScope(diff.collectionUrl, obj.href), next),
      );
    }
    for (const href of diff.removed) {
      this.scheduler.update(
        await reconcileReminders(this.#o.sink, objectScope(diff.collectionUrl, href), []),
      );
    }
  }

  /** Recomputes every stored calendar object (the horizon moved). */
  async recomputeAll(): Promise<void> {
    for (const account of this.#o.config.accounts) {
      for (const col of this.#o.store.dav
        .listCollections(account.address)
        .filter((c) => c.kind === "calendar")) {
        const next = this.#o.store.dav.listObjects(col.url).flatMap((o) => {
          try {
            return this.#compute(account, col.url, o.href, o.data);
          } catch {
            return [];
          }
        });
        this.scheduler.update(await reconcileReminders(this.#o.sink, calendarScope(col.url), next));
      }
    }
  }

  async start(): Promise<void> {
    const { config, store, logger } = this.#o;
    if (!config.caldavUrl) return;
    await this.scheduler.start();
    for (const account of config.accounts) {
      this.#pollers.push(
        accountPoller({
          kind: "calendar",
          baseUrl: config.caldavUrl,
          account,
          store,
          logger,
          intervalMs: config.davPollIntervalMs,
          tls: config.tls,
          onDiff: (diff) => this.#onDiff(account, diff),
        }),
      );
    }
    await Promise.all(this.#pollers.map((p) => p.start()));
    // Objects that did not change still need reminders for the part of the horizon that is new now.
    await this.recomputeAll().catch((e) => logger.warn({ err: e }, "recompute failed"));
    this.#rollTimer = setInterval(
      () => void this.recomputeAll().catch((e) => logger.warn({ err: e }, "recompute failed")),
      this.#o.recomputeIntervalMs ?? 3_600_000,
    );
    this.#rollTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#rollTimer);
    await Promise.all(this.#pollers.map((p) => p.stop()));
    this.#pollers.length = 0;
    await this.scheduler.stop();
  }
}
