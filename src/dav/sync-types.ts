/** What a sync produces: objects with their raw data, and the per-collection diff. */
import type { DavKind } from "./discovery.js";

/** One calendar object or vCard, with the server's raw data. */
export interface DavObject {
  collectionUrl: string;
  /** Normalised href (see href.ts): the object's key. */
  href: string;
  etag?: string;
  data: string;
}

export type SyncMode = "incremental" | "full" | "unchanged" | "etag-listing";

export interface SyncDiff {
  account: string;
  kind: DavKind;
  collectionUrl: string;
  /**
   * incremental: sync-collection with the stored token; full: initial listing (first sync or token
   * reset); unchanged: the ctag had not moved; etag-listing: fallback diff of a PROPFIND listing.
   */
  mode: SyncMode;
  /** The stored token was refused by the server and a full sync replaced it. */
  tokenReset: boolean;
  added: DavObject[];
  changed: DavObject[];
  /** Normalised hrefs of objects that are gone. */
  removed: string[];
  /** HTTP requests this sync sent. */
  requests: number;
}
