import type { AccountConfig, ResolvedConfig } from "../config/resolved.js";
import type { ProfileSink, UserProfile } from "../contract/sinks.js";
import { createDavClient, DavPoller, SyncEngine, type SyncDiff } from "../dav/index.js";
import { cardToProfile, diffProfiles, parseCard } from "../dav/contacts/vcard/index.js";
import type { Logger } from "../log/index.js";
import type { StateStore } from "../store/types.js";

export interface ContactsFeedOptions {
  config: ResolvedConfig;
  store: StateStore;
  sink: ProfileSink;
  logger: Logger;
  /** Called after profiles changed (the allowlist reloads its contacts). */
  onChange?: () => void | Promise<void>;
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
    const sink = this.#o.sink;
    const before = (await sink.list()).filter((p) => p.source.addressBookUrl === diff.collectionUrl);
    const touched = new Set([...diff.added, ...diff.changed].map((o) => o.href).concat(diff.removed));
    const kept = before.filter((p) => !touched.has(p.source.href));
    const fresh: UserProfile[] = [];
    for (const obj of [...diff.added, ...diff.changed]) {
      try {
        fresh.push(
          cardToProfile(parseCard(obj.data), { addressBookUrl: diff.collectionUrl, href: obj.href }),
        );
      } catch (error) {
        this.skipped++;
        this.#o.logger.warn({ href: obj.href, err: error }, "contact card skipped: cannot parse it");
      }
    }
    const d = diffProfiles(before, [...kept, ...fresh]);
    if (d.added.length || d.changed.length) await sink.upsert([...d.added, ...d.changed]);
    if (d.removed.length) await sink.remove(d.removed.map((p) => p.id));
    await this.#o.onChange?.();
  }

  async start(): Promise<void> {
    const { config, store, logger } = this.#o;
    if (!config.carddavUrl) return;
    for (const account of config.accounts) {
      const client = createDavClient({
        baseUrl: config.carddavUrl,
        username: account.imap.username,
        password: account.imap.password.reveal(),
        logger: logger.child({ stage: "carddav", account: account.address }),
        stage: "carddav",
      });
      this.#pollers.push(
        new DavPoller({
          account: account.address,
          sources: [
            {
              kind: "addressbook",
              client,
              engine: new SyncEngine({
                client,
                repo: store.dav,
                account: account.address,
                kind: "addressbook",
              }),
            },
          ],
          onDiff: (diff) => this.#onDiff(account, diff),
          intervalMs: config.davPollIntervalMs,
          logger: logger.child({ stage: "carddav", account: account.address }),
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
