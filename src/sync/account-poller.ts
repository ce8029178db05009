import type { AccountConfig, TlsSettings } from "../config/resolved.js";
import { DavPoller, SyncEngine, type SyncDiff } from "../dav/index.js";
import { accountDavClient } from "./dav-connection.js";
import type { DavKind } from "../dav/discovery.js";
import type { Logger } from "../log/index.js";
import type { StateStore } from "../store/types.js";

/**
 * One account's DAV poller for one kind: the account logs in with its own credentials
 * (CONTRACT.md), the shared sync engine keeps its state in the store (one transaction per
 * collection sync), diffs go to `onDiff`.
 */
export function accountPoller(o: {
  kind: DavKind;
  baseUrl: string;
  account: AccountConfig;
  store: StateStore;
  logger: Logger;
  intervalMs: number;
  tls: TlsSettings;
  onDiff: (diff: SyncDiff) => void | Promise<void>;
}): DavPoller {
  const stage = o.kind === "calendar" ? "caldav" : "carddav";
  const logger = o.logger.child({ stage, account: o.account.address });
  const client = accountDavClient({ url: o.baseUrl, account: o.account, tls: o.tls, stage, logger });
  return new DavPoller({
    account: o.account.address,
    sources: [
      {
        kind: o.kind,
        client,
        engine: new SyncEngine({
          client,
          repo: o.store.dav,
          account: o.account.address,
          kind: o.kind,
          // A sync's objects and its new token commit together: a crash, a full disk or SQLITE_BUSY
          // midway rolls all of it back, and the next sync asks for the same changes again.
          transaction: (fn) => o.store.transaction(fn),
        }),
      },
    ],
    onDiff: o.onDiff,
    intervalMs: o.intervalMs,
    logger,
  });
}
