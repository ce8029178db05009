/**
 * Href normalisation: one object, one key.
 *
 * Servers spell the same resource several ways: `/dav/alice%40example.org/cal/` in one answer and
 * `/dav/alice@example.org/cal/` in the next (RFC 3986 §6.2.2.2: percent-encoded unreserved characters
 * are equivalent to the characters), absolute (`http://host/x`) or relative (`/x`), `%2f` or `%2F`,
 * with or without the collection's trailing slash. The store and the diff use the normalised form;
 * requests use it too (it is still a valid, equivalent URL path).
 */

// RFC 3986 §2.3 unreserved, plus the sub-delims and ":" "@" that are legal unencoded in a path
// segment (§3.3 pchar). Decoding these never changes which resource the path names on a DAV server.
// ";" stays encoded: servlet containers read it as a path parameter.
const SAFE_DECODED = /^[A-Za-z0-9\-._~!$&'()*+,=:@]$/;

/** Decodes percent-escapes of path-safe ASCII characters and upper-cases the hex of the others. */
export function normalizePath(path: string): string {
  return path.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) => {
    const ch = String.fromCharCode(Number.parseInt(hex, 16));
    return SAFE_DECODED.test(ch) ? ch : `%${hex.toUpperCase()}`;
  });
}

/**
 * An absolute URL for `href` resolved against `base`, with a normalised path and no query/fragment
 * change. `new URL` already encodes spaces and non-ASCII characters, so `é` and `%C3%A9` meet.
 */
export function resolveHref(href: string, base: string): URL {
  const url = new URL(href.trim(), base);
  url.pathname = normalizePath(url.pathname);
  url.hash = "";
  return url;
}

/**
 * The store key for an object href: the normalised path when it lives on `base`'s origin (the usual
 * case), the normalised absolute URL otherwise (a server may put members on another host).
 */
export function normalizeHref(href: string, base: string): string {
  const url = resolveHref(href, base);
  const baseOrigin = new URL(base).origin;
  return url.origin === baseOrigin ? url.pathname + url.search : url.toString();
}

/** The canonical absolute URL of a collection: normalised path, always one trailing slash. */
export function normalizeCollectionUrl(href: string, base?: string): string {
  const url = resolveHref(href, base ?? href);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  url.search = "";
  return url.toString();
}

/** Do two collection hrefs name the same collection (trailing slash and escapes ignored)? */
export function sameCollection(a: string, b: string, base: string): boolean {
  return normalizeCollectionUrl(a, base) === normalizeCollectionUrl(b, base);
}

/** The absolute URL of a member named `name` in `collectionUrl`; the name is one path segment. */
export function memberUrl(collectionUrl: string, name: string): string {
  if (name === "" || name === "." || name === ".." || name.includes("/")) {
    throw new TypeError(`not a single path segment: ${JSON.stringify(name)}`);
  }
  return normalizeCollectionUrl(collectionUrl) + normalizePath(encodeURIComponent(name));
}
