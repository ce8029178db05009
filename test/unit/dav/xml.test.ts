import { describe, expect, it } from "vitest";
import { parseMultistatus, preconditionOf } from "../../../src/dav/multistatus.js";
import { NS, XmlParseError, multigetBody, parseXml, syncCollectionBody } from "../../../src/dav/xml.js";
import { fixture } from "./support/fake-server.js";

describe("parseXml", () => {
  it("resolves default and prefixed namespaces, redeclarations included", () => {
    const root = parseXml(
      `<?xml version='1.0'?><multistatus xmlns='DAV:'><a:x xmlns:a="urn:one"><a:y xmlns:a="urn:two"/></a:x><getctag xmlns="http://calendarserver.org/ns/">7</getctag></multistatus>`,
    );
    expect(root).toMatchObject({ ns: "DAV:", name: "multistatus" });
    const [x, ctag] = root.children;
    expect(x).toMatchObject({ ns: "urn:one", name: "x" });
    expect(x!.children[0]).toMatchObject({ ns: "urn:two", name: "y" });
    expect(ctag).toMatchObject({ ns: NS.CS, name: "getctag", text: "7" });
  });

  it("keeps CDATA verbatim and decodes entities and character references", () => {
    const root = parseXml(
      "<r><a><![CDATA[BEGIN:VCALENDAR\r\nX:<&>\r\n]]></a><b>&quot;12&quot; &amp; &#13;&#x41;</b></r>",
    );
    expect(root.children[0]!.text).toBe("BEGIN:VCALENDAR\r\nX:<&>\r\n");
    expect(root.children[1]!.text).toBe('"12" & \rA');
  });

  it("skips comments, processing instructions and a DOCTYPE without expanding it", () => {
    const root = parseXml('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "boom">]><!-- c --><r a=">">&x;</r>');
    expect(root.name).toBe("r");
    expect(root.attrs.a).toBe(">");
    expect(root.text).toBe("&x;");
  });

  it("rejects malformed documents", () => {
    expect(() => parseXml("<a><b></a>")).toThrow(XmlParseError);
    expect(() => parseXml("<a>")).toThrow(XmlParseError);
    expect(() => parseXml("<x:a/>")).toThrow(/undeclared namespace prefix/);
    expect(() => parseXml("")).toThrow(XmlParseError);
    expect(() => parseXml("<a/><b/>")).toThrow(/more than one root/);
  });
});

describe("multistatus", () => {
  it("reads responses, statuses, props and the sync token of a SabreDAV answer", () => {
    const ms = parseMultistatus(fixture("protocol/sync-initial-page1.xml"));
    expect(ms.syncToken).toBe("http://sabre.io/ns/sync/101");
    expect(ms.responses).toHaveLength(3);
    expect(ms.responses[0]!.href).toBe("/dav/calendars/alice%40example.org/work/standup.ics");
    expect(ms.responses[0]!.propstats[0]).toMatchObject({ status: 200 });
    expect(ms.responses[0]!.propstats[0]!.props[0]).toMatchObject({
      ns: "DAV:",
      name: "getetag",
      text: '"a1"',
    });
    expect(ms.responses[2]!.status).toBe(507);
    expect(ms.responses[2]!.error?.children[0]?.name).toBe("number-of-matches-within-limits");
  });

  it("reads a CalendarServer answer in the default namespace with a 404 propstat", () => {
    const ms = parseMultistatus(fixture("protocol/cs-propfind-etags-1.xml"));
    expect(ms.responses.map((r) => r.href)).toEqual([
      "/calendars/__uids__/alice/calendar/",
      "/calendars/__uids__/alice/calendar/review.ics",
      "/calendars/__uids__/alice/calendar/trip.ics",
      "/calendars/__uids__/alice/calendar/attachments/",
    ]);
    expect(ms.responses[0]!.propstats.map((p) => p.status)).toEqual([200, 404]);
  });

  it("names the precondition of an error body", () => {
    expect(preconditionOf(fixture("protocol/error-valid-sync-token.xml"))).toEqual({
      ns: "DAV:",
      name: "valid-sync-token",
    });
    expect(preconditionOf(fixture("protocol/error-supported-report.xml"))).toEqual({
      ns: "DAV:",
      name: "supported-report",
    });
    expect(preconditionOf(fixture("protocol/error-server.html"))).toBeUndefined();
  });

  it("refuses a body that is not a multistatus", () => {
    expect(() => parseMultistatus(fixture("protocol/error-valid-sync-token.xml"))).toThrow(
      /expected DAV:multistatus/,
    );
  });
});

describe("request bodies", () => {
  it("escape tokens and hrefs, and round-trip through the parser", () => {
    const body = syncCollectionBody('tok&<"en', [{ ns: NS.DAV, name: "getetag" }]);
    const root = parseXml(body);
    expect(root.name).toBe("sync-collection");
    expect(root.children.find((c) => c.name === "sync-token")!.text).toBe('tok&<"en');
    expect(root.children.find((c) => c.name === "sync-level")!.text).toBe("1");
    const initial = parseXml(syncCollectionBody(undefined, []));
    expect(initial.children.find((c) => c.name === "sync-token")!.text).toBe("");

    const mg = parseXml(
      multigetBody(
        { ns: NS.CARDDAV, name: "addressbook-multiget" },
        [{ ns: NS.CARDDAV, name: "address-data" }],
        ["/a&b.vcf"],
      ),
    );
    expect(mg).toMatchObject({ ns: NS.CARDDAV, name: "addressbook-multiget" });
    expect(mg.children.find((c) => c.name === "href")!.text).toBe("/a&b.vcf");
  });
});
