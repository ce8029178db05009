import type { AccountConfig } from "../config/resolved.js";
import { createDavClient, DavPoller, SyncEngine, type SyncDiff } from "../dav/index.js";
import type { DavKind } from "../dav/discovery.js";
import type { Logger } from "../log/index.js";
import type { StateStore } from "../store/types.js";

/**
 * One account's DAV poller for one kind: the account logs in with its own credentials
 * (CONTRACT.md), the shared sync engine keeps its state in the store, diffs go to `onDiff`.
 */
export function accountPoller(o: {
  kind: DavKind;
  baseUrl: string;
  account: AccountConfig;
  store: StateStore;
  logger: Logger;
  intervalMs: number;
  onDiff: (diff: SyncDiff) => void | Promise<void>;
}): DavPoller {
  const stage = o.kind === "calendar" ? "caldav" : "carddav";
  const logger = o.logger.child({ stage, account: o.account.address });
  const client = createDavClient({
    baseUrl: o.baseUrl,
    username: o.account.imap.username,
    password: o.account.imap.password.reveal(),
    logger,
    stage,
  });
  return new DavPoller({
    account: o.account.address,
    sources: [
      {
        kind: o.kind,
        client,
        engine: new SyncEngine({ client, repo: o.store.dav, account: o.account.address, kind: o.kind }),
      },
    ],
    onDiff: o.onDiff,
    intervalMs: o.intervalMs,
    logger,
  });
}
