import type { AccountConfig, ResolvedConfig } from "../config/resolved.js";
import type { ProfileSink } from "../contract/sinks.js";
import type { DavPoller, SyncDiff } from "../dav/index.js";
import { accountPoller } from "./account-poller.js";
import type { Logger } from "../log/index.js";
import { applyContactChanges, type ProfileIndex, reconcileAddressBook } from "../profiles/index.js";
import type { StateStore } from "../store/types.js";

export interface ContactsFeedOptions {
  config: ResolvedConfig;
  store: StateStore;
  sink: ProfileSink;
  logger: Logger;
  /** The in-memory contacts index the allowlist and enrichment read; kept current from each diff. */
  index: ProfileIndex;
}

/** CardDAV -> user profiles: one DavPoller per monitored account; a card that cannot be parsed is skipped with the reason. */
export class ContactsFeed {
  readonly #o: ContactsFeedOptions;
  readonly #pollers: DavPoller[] = [];
  skipped = 0;

  constructor(options: ContactsFeedOptions) {
    this.#o = options;
  }

  async #onDiff(_account: AccountConfig, diff: SyncDiff): Promise<void> {
    const result = await applyContactChanges(this.#o.sink, diff, { logger: this.#o.logger });
    this.skipped += result.skipped.length;
    this.#o.index.apply(result.diff);
  }

  /**
   * Loads the contacts index from the sink (the profiles stored by earlier syncs). The channel calls
   * it before any watcher hands a message over, so contacts admit and enrich from the first message.
   * A failing sink is logged, never thrown (mail goes on).
   */
  loadStored(): Promise<void> {
    return this.#refresh();
  }

  async #refresh(): Promise<void> {
    try {
      await this.#o.index.refresh();
    } catch (error) {
      this.#o.logger.warn({ err: error }, "could not load the contacts from the profile sink");
    }
  }

  async start(): Promise<void> {
    const { config, store, logger } = this.#o;
    // Without CardDAV the index holds what loadStored() read: nothing more to load.
    if (!config.carddavUrl) return;
    // A diff synced but not applied before a restart would be lost: rebuild from the stored cards.
    for (const col of store.dav.listCollections().filter((c) => c.kind === "addressbook")) {
      await reconcileAddressBook(this.#o.sink, col.url, store.dav.listObjects(col.url), { logger });
    }
    await this.#refresh();
    for (const account of config.accounts) {
      this.#pollers.push(
        accountPoller({
          kind: "addressbook",
          baseUrl: config.carddavUrl,
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
  }

  async stop(): Promise<void> {
    await Promise.all(this.#pollers.map((p) => p.stop()));
    this.#pollers.length = 0;
  }
}
