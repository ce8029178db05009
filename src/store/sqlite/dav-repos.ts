import type Database from "better-sqlite3";
import type {
  DavCollectionState,
  DavObjectState,
  DavRepo,
  FiredRepo,
  KeyValueRepo,
  RateRepo,
} from "../types.js";

type Row = Record<string, unknown>;

function toCollection(r: Row): DavCollectionState {
  return {
    url: String(r.url),
    account: String(r.account),
    kind: r.kind as DavCollectionState["kind"],
    displayName: (r.display_name as string | null) ?? undefined,
    syncToken: (r.sync_token as string | null) ?? undefined,
    ctag: (r.ctag as string | null) ?? undefined,
    updatedAt: String(r.updated_at),
  };
}

function toObject(r: Row): DavObjectState {
  return {
    collectionUrl: String(r.collection_url),
    href: String(r.href),
    etag: (r.etag as string | null) ?? undefined,
    data: String(r.data),
    updatedAt: String(r.updated_at),
  };
}

export function davRepo(db: Database.Database): DavRepo {
  const getC = db.prepare("SELECT * FROM dav_collections WHERE url = ?");
  const putC = db.prepare(
    `INSERT INTO dav_collections (url, account, kind, display_name, sync_token, ctag, updated_at)
     VALUES (@url, @account, @kind, @displayName, @syncToken, @ctag, @updatedAt)
     ON CONFLICT (url) DO UPDATE SET account = excluded.account, kind = excluded.kind,
       display_name = excluded.display_name, sync_token = excluded.sync_token, ctag = excluded.ctag,
       updated_at = excluded.updated_at`,
  );
  const listAll = db.prepare("SELECT * FROM dav_collections ORDER BY url");
  const listAcc = db.prepare("SELECT * FROM dav_collections WHERE account = ? ORDER BY url");
  const delC = db.prepare("DELETE FROM dav_collections WHERE url = ?");
  const delObjs = db.prepare("DELETE FROM dav_objects WHERE collection_url = ?");
  const listO = db.prepare("SELECT * FROM dav_objects WHERE collection_url = ? ORDER BY href");
  const getO = db.prepare("SELECT * FROM dav_objects WHERE collection_url = ? AND href = ?");
  const putO = db.prepare(
    `INSERT INTO dav_objects (collection_url, href, etag, data, updated_at)
     VALUES (@collectionUrl, @href, @etag, @data, @updatedAt)
     ON CONFLICT (collection_url, href) DO UPDATE SET etag = excluded.etag, data = excluded.data,
       updated_at = excluded.updated_at`,
  );
  const delO = db.prepare("DELETE FROM dav_objects WHERE collection_url = ? AND href = ?");
  return {
    getCollection(url) {
      const r = getC.get(url) as Row | undefined;
      return r ? toCollection(r) : undefined;
    },
    putCollection(s) {
      putC.run({ displayName: null, syncToken: null, ctag: null, ...s });
    },
    listCollections(account) {
      return ((account ? listAcc.all(account) : listAll.all()) as Row[]).map(toCollection);
    },
    deleteCollection(url) {
      db.transaction(() => {
        delObjs.run(url);
        delC.run(url);
      })();
    },
    listObjects(collectionUrl) {
      return (listO.all(collectionUrl) as Row[]).map(toObject);
    },
    getObject(collectionUrl, href) {
      const r = getO.get(collectionUrl, href) as Row | undefined;
      return r ? toObject(r) : undefined;
    },
    putObject(s) {
      putO.run({ etag: null, ...s });
    },
    deleteObject(collectionUrl, href) {
      delO.run(collectionUrl, href);
    },
  };
}

export function firedRepo(db: Database.Database): FiredRepo {
  const ins = db.prepare("INSERT INTO fired (id, fire_at, fired_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
  const has = db.prepare("SELECT 1 FROM fired WHERE id = ? AND fire_at = ?");
  return {
    markFired(id, fireAt) {
      return ins.run(id, fireAt.toISOString(), new Date().toISOString()).changes === 1;
    },
    wasFired(id, fireAt) {
      return has.get(id, fireAt.toISOString()) !== undefined;
    },
  };
}

export function rateRepo(db: Database.Database): RateRepo {
  const rec = db.prepare("INSERT INTO rate_events (key, at) VALUES (?, ?)");
  const cnt = db.prepare("SELECT COUNT(*) AS n FROM rate_events WHERE key = ? AND at >= ?");
  const prune = db.prepare("DELETE FROM rate_events WHERE at < ?");
  return {
    record(key, at) {
      rec.run(key, at.getTime());
    },
    count(key, since) {
      return Number((cnt.get(key, since.getTime()) as Row).n);
    },
    prune(before) {
      prune.run(before.getTime());
    },
  };
}

export function kvRepo(db: Database.Database): KeyValueRepo {
  const get = db.prepare("SELECT value FROM kv WHERE key = ?");
  const set = db.prepare(
    "INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  return {
    get(key) {
      const r = get.get(key) as Row | undefined;
      return r ? String(r.value) : undefined;
    },
    set(key, value) {
      set.run(key, value);
    },
  };
}
