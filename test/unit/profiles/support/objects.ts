/** Fixture cards as the sync engine hands them over: DavObjects of the test address book. */
import type { DavObject } from "../../../../src/dav/sync-engine.js";
import { BOOK, hrefOf, readCard } from "./fixtures.js";

export const objectOf = (name: string, etag = `"${name}-1"`): DavObject => ({
  collectionUrl: BOOK,
  href: hrefOf(name),
  etag,
  data: readCard(name),
});
