/**
 * RFC 4918 §13 multistatus: the answer to PROPFIND and REPORT. Pure functions over parsed XML.
 */
import {
  NS,
  XmlParseError,
  type XmlElement,
  child,
  childText,
  childrenOf,
  descendants,
  parseXml,
} from "./xml.js";

export interface DavPropstat {
  /** HTTP status of this propstat ("HTTP/1.1 200 OK" -> 200). */
  status: number;
  /** The elements inside `<d:prop>`. */
  props: XmlElement[];
}

export interface DavResponseEntry {
  /** The first `<d:href>`, as the server wrote it (not normalised, entities decoded). */
  href: string;
  /** Response-level status (used for 404 members in sync-collection, 507 truncation). */
  status?: number;
  propstats: DavPropstat[];
  /** `<d:error>` (RFC 4918 §16 preconditions), when present. */
  error?: XmlElement;
}

export interface Multistatus {
  responses: DavResponseEntry[];
  /** RFC 6578 §6.4: the new token, in sync-collection answers. */
  syncToken?: string;
}

/** "HTTP/1.1 404 Not Found" -> 404; undefined when unreadable. */
export function parseStatusLine(line: string | undefined): number | undefined {
  if (!line) return undefined;
  const m = /^\s*HTTP\/\d(?:\.\d)?\s+(\d{3})/i.exec(line);
  return m ? Number(m[1]) : undefined;
}

export function parseMultistatus(body: string): Multistatus {
  const root = parseXml(body);
  if (root.ns !== NS.DAV || root.name !== "multistatus") {
    throw new XmlParseError(`expected DAV:multistatus, got {${root.ns}}${root.name}`);
  }
  const responses: DavResponseEntry[] = [];
  for (const r of childrenOf(root, NS.DAV, "response")) {
    const href = childText(r, NS.DAV, "href");
    if (href === undefined) continue;
    const propstats: DavPropstat[] = childrenOf(r, NS.DAV, "propstat").map((ps) => ({
      status: parseStatusLine(childText(ps, NS.DAV, "status")) ?? 200,
      props: child(ps, NS.DAV, "prop")?.children ?? [],
    }));
    const entry: DavResponseEntry = { href, propstats };
    const status = parseStatusLine(childText(r, NS.DAV, "status"));
    if (status !== undefined) entry.status = status;
    const error = child(r, NS.DAV, "error");
    if (error) entry.error = error;
    responses.push(entry);
  }
  const ms: Multistatus = { responses };
  const token = childText(root, NS.DAV, "sync-token");
  if (token) ms.syncToken = token;
  return ms;
}

/** A property found with a 2xx status in this response, or undefined. */
export function okProp(entry: DavResponseEntry, ns: string, name: string): XmlElement | undefined {
  for (const ps of entry.propstats) {
    if (ps.status < 200 || ps.status > 299) continue;
    const p = ps.props.find((e) => e.ns === ns && e.name === name);
    if (p) return p;
  }
  return undefined;
}

/** Trimmed text of a 2xx property, or undefined. */
export function okPropText(entry: DavResponseEntry, ns: string, name: string): string | undefined {
  const p = okProp(entry, ns, name);
  return p === undefined ? undefined : p.text.trim();
}

/** The `<d:href>` texts inside a 2xx property (current-user-principal, calendar-home-set...). */
export function okPropHrefs(entry: DavResponseEntry, ns: string, name: string): string[] {
  const p = okProp(entry, ns, name);
  return p
    ? descendants(p, NS.DAV, "href")
        .map((h) => h.text.trim())
        .filter((h) => h !== "")
    : [];
}

/** Local names (with namespace) of the children of a 2xx property: resourcetype, component sets. */
export function okPropChildren(entry: DavResponseEntry, ns: string, name: string): XmlElement[] {
  return okProp(entry, ns, name)?.children ?? [];
}

/**
 * The precondition named in an error body (RFC 4918 §16: `<d:error><d:valid-sync-token/></d:error>`),
 * as `{ns, name}` of its first child, or undefined when the body is not such an error.
 */
export function preconditionOf(body: string): { ns: string; name: string } | undefined {
  if (!body.includes("error")) return undefined;
  try {
    const root = parseXml(body);
    if (root.ns !== NS.DAV || root.name !== "error") return undefined;
    const first = root.children[0];
    return first ? { ns: first.ns, name: first.name } : undefined;
  } catch {
    return undefined;
  }
}
