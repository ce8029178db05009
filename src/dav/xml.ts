/**
 * XML for WebDAV: a small namespace-aware parser and the request-body builders we need.
 *
 * Why not tsdav's helpers: tsdav's `davRequest` runs xml-js and then camel-cases names and converts
 * values with `nativeType`, so an ETag or sync token that looks like a number comes back as a number
 * and namespaces are dropped. A multistatus is small, regular XML (RFC 4918 §14.16): elements,
 * namespaced names, text, CDATA (calendar-data), entities. This parser resolves namespaces and keeps
 * text verbatim, which is what the sync engine needs. It does not handle DTDs (servers never send one
 * in a multistatus; a DOCTYPE is skipped, never expanded).
 */

export const NS = {
  DAV: "DAV:",
  CALDAV: "urn:ietf:params:xml:ns:caldav",
  CARDDAV: "urn:ietf:params:xml:ns:carddav",
  CS: "http://calendarserver.org/ns/",
  APPLE: "http://apple.com/ns/ical/",
} as const;

/** A parsed element: namespace URI + local name, attributes by raw name, children and own text. */
export interface XmlElement {
  ns: string;
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text and CDATA directly inside this element, verbatim (entities decoded). */
  text: string;
}

const ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith("#x")) return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
    return ENTITIES[ref] ?? whole;
  });
}

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => `&${c === "<" ? "lt" : c === ">" ? "gt" : c === "&" ? "amp" : c === '"' ? "quot" : "apos"};`,
  );
}

export class XmlParseError extends Error {}

interface Frame {
  el: XmlElement;
  rawName: string;
  scope: Map<string, string>;
}

const ATTR_RE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Parses an XML document into its root element. Throws XmlParseError on malformed input. */
export function parseXml(xml: string): XmlElement {
  const rootScope = new Map<string, string>([["xml", "http://www.w3.org/XML/1998/namespace"]]);
  const stack: Frame[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  const len = xml.length;
  const appendText = (t: string) => {
    const top = stack[stack.length - 1];
    if (top) top.el.text += t;
    else if (t.trim() !== "") throw new XmlParseError("text outside the root element");
  };
  while (i < len) {
    const lt = xml.indexOf("<", i);
    if (lt === -1) {
      appendText(decodeEntities(xml.slice(i)));
      break;
    }
    if (lt > i) appendText(decodeEntities(xml.slice(i, lt)));
    if (xml.startsWith("<!--", lt)) {
      const end = xml.indexOf("-->", lt + 4);
      if (end === -1) throw new XmlParseError("unterminated comment");
      i = end + 3;
    } else if (xml.startsWith("<![CDATA[", lt)) {
      const end = xml.indexOf("]]>", lt + 9);
      if (end === -1) throw new XmlParseError("unterminated CDATA section");
      appendText(xml.slice(lt + 9, end));
      i = end + 3;
    } else if (xml.startsWith("<?", lt)) {
      const end = xml.indexOf("?>", lt + 2);
      if (end === -1) throw new XmlParseError("unterminated processing instruction");
      i = end + 2;
    } else if (xml.startsWith("<!", lt)) {
      // DOCTYPE: skipped (with an internal subset, up to its closing "]>"), never expanded.
      const bracket = xml.indexOf("[", lt);
      const gt = xml.indexOf(">", lt);
      const end = bracket !== -1 && bracket < gt ? xml.indexOf("]>", bracket) + 1 : gt;
      if (end <= 0) throw new XmlParseError("unterminated declaration");
      i = end + 1;
    } else if (xml[lt + 1] === "/") {
      const gt = xml.indexOf(">", lt);
      if (gt === -1) throw new XmlParseError("unterminated end tag");
      const rawName = xml.slice(lt + 2, gt).trim();
      const top = stack.pop();
      if (!top || top.rawName !== rawName) throw new XmlParseError(`unexpected end tag </${rawName}>`);
      i = gt + 1;
    } else {
      const gt = findTagEnd(xml, lt + 1);
      if (gt === -1) throw new XmlParseError("unterminated start tag");
      const selfClosing = xml[gt - 1] === "/";
      const inner = xml.slice(lt + 1, selfClosing ? gt - 1 : gt);
      const nameMatch = /^[^\s/>]+/.exec(inner);
      if (!nameMatch) throw new XmlParseError("element without a name");
      const rawName = nameMatch[0];
      const parentScope = stack[stack.length - 1]?.scope ?? rootScope;
      let scope = parentScope;
      const attrs: Record<string, string> = {};
      for (const m of inner.slice(rawName.length).matchAll(ATTR_RE)) {
        const attrName = m[1]!;
        const value = decodeEntities(m[2] ?? m[3] ?? "");
        if (attrName === "xmlns" || attrName.startsWith("xmlns:")) {
          if (scope === parentScope) scope = new Map(parentScope);
          scope.set(attrName === "xmlns" ? "" : attrName.slice(6), value);
        } else {
          attrs[attrName] = value;
        }
      }
      const colon = rawName.indexOf(":");
      const prefix = colon === -1 ? "" : rawName.slice(0, colon);
      const ns = scope.get(prefix);
      if (ns === undefined && prefix !== "")
        throw new XmlParseError(`undeclared namespace prefix "${prefix}"`);
      const el: XmlElement = { ns: ns ?? "", name: rawName.slice(colon + 1), attrs, children: [], text: "" };
      const parent = stack[stack.length - 1];
      if (parent) parent.el.children.push(el);
      else if (root) throw new XmlParseError("more than one root element");
      else root = el;
      if (!selfClosing) stack.push({ el, rawName, scope });
      i = gt + 1;
    }
  }
  if (stack.length > 0) throw new XmlParseError(`unclosed element <${stack[stack.length - 1]!.rawName}>`);
  if (!root) throw new XmlParseError("no root element");
  return root;
}

/** Index of the `>` closing a start tag, skipping quoted attribute values. */
function findTagEnd(xml: string, from: number): number {
  let quote = "";
  for (let j = from; j < xml.length; j++) {
    const c = xml[j];
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ">") return j;
  }
  return -1;
}

/** First child with this namespace and local name. */
export function child(el: XmlElement | undefined, ns: string, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.ns === ns && c.name === name);
}

/** Every child with this namespace and local name. */
export function childrenOf(el: XmlElement | undefined, ns: string, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.ns === ns && c.name === name) : [];
}

/** Every descendant (depth-first) with this namespace and local name. */
export function descendants(el: XmlElement, ns: string, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (c.ns === ns && c.name === name) out.push(c);
      walk(c);
    }
  };
  walk(el);
  return out;
}

/** Trimmed text of a child, or undefined when the child is absent. */
export function childText(el: XmlElement | undefined, ns: string, name: string): string | undefined {
  const c = child(el, ns, name);
  return c === undefined ? undefined : c.text.trim();
}

/** A property name to ask for: namespace + local name. */
export interface QName {
  ns: string;
  name: string;
}

const PREFIXES: Record<string, string> = {
  [NS.DAV]: "d",
  [NS.CALDAV]: "c",
  [NS.CARDDAV]: "card",
  [NS.CS]: "cs",
  [NS.APPLE]: "ical",
};

/** The namespace declarations every request body carries (fixed prefixes keep bodies readable). */
export const XMLNS_DECLS = Object.entries(PREFIXES)
  .map(([uri, prefix]) => `xmlns:${prefix}="${uri}"`)
  .join(" ");

/** `prefix:name` for a QName whose namespace is one of ours. */
export function qualified(q: QName): string {
  const prefix = PREFIXES[q.ns];
  if (!prefix) throw new Error(`no prefix for namespace ${q.ns}`);
  return `${prefix}:${q.name}`;
}

/** `<d:prop>` with empty elements for each name. */
export function propXml(props: readonly QName[]): string {
  return `<d:prop>${props.map((p) => `<${qualified(p)}/>`).join("")}</d:prop>`;
}

/** RFC 4918 §9.1 PROPFIND body. */
export function propfindBody(props: readonly QName[]): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<d:propfind ${XMLNS_DECLS}>${propXml(props)}</d:propfind>`;
}

/** RFC 6578 §3.2 sync-collection body, sync-level 1; an empty token asks for the initial (full) listing. */
export function syncCollectionBody(
  token: string | undefined,
  props: readonly QName[],
  limit?: number,
): string {
  const tokenXml = token ? `<d:sync-token>${escapeXml(token)}</d:sync-token>` : "<d:sync-token/>";
  const limitXml = limit ? `<d:limit><d:nresults>${limit}</d:nresults></d:limit>` : "";
  return (
    `<?xml version="1.0" encoding="utf-8"?>\n<d:sync-collection ${XMLNS_DECLS}>` +
    `${tokenXml}<d:sync-level>1</d:sync-level>${limitXml}${propXml(props)}</d:sync-collection>`
  );
}

/** RFC 4791 §7.9 calendar-multiget / RFC 6352 §8.7 addressbook-multiget body. */
export function multigetBody(report: QName, props: readonly QName[], hrefs: readonly string[]): string {
  const hrefXml = hrefs.map((h) => `<d:href>${escapeXml(h)}</d:href>`).join("");
  return (
    `<?xml version="1.0" encoding="utf-8"?>\n<${qualified(report)} ${XMLNS_DECLS}>` +
    `${propXml(props)}${hrefXml}</${qualified(report)}>`
  );
}
