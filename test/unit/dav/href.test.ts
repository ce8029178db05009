import { describe, expect, it } from "vitest";
import { memberUrl, normalizeCollectionUrl, normalizeHref, normalizePath } from "../../../src/dav/href.js";

const BASE = "http://127.0.0.1:5232/alice%40example.test/calendar/";

describe("href normalisation", () => {
  it("makes %40 and @ one key, and absolute and relative hrefs one key", () => {
    const keys = new Set([
      normalizeHref("/alice%40example.test/calendar/a.ics", BASE),
      normalizeHref("/alice@example.test/calendar/a.ics", BASE),
      normalizeHref("http://127.0.0.1:5232/alice%40example.test/calendar/a.ics", BASE),
      normalizeHref("a.ics", BASE),
      normalizeHref(" /alice%40example.test/calendar/a%2eics ", BASE),
    ]);
    expect([...keys]).toEqual(["/alice@example.test/calendar/a.ics"]);
  });

  it("keeps reserved escapes encoded (upper-cased) and encodes raw non-ASCII the way servers do", () => {
    expect(normalizePath("/cal/a%2fb%3Fc%3b.ics")).toBe("/cal/a%2Fb%3Fc%3B.ics");
    expect(normalizeHref("/cal/Événement.ics", BASE)).toBe(
      normalizeHref("/cal/%c3%89v%C3%A9nement.ics", BASE),
    );
    expect(normalizeHref("/cal/a b.ics", BASE)).toBe("/cal/a%20b.ics");
  });

  it("keeps members on another origin absolute", () => {
    expect(normalizeHref("https://cdn.example.org/x/a.ics", BASE)).toBe("https://cdn.example.org/x/a.ics");
  });

  it("gives collections one trailing slash", () => {
    expect(normalizeCollectionUrl("/alice%40example.test/calendar", BASE)).toBe(
      "http://127.0.0.1:5232/alice@example.test/calendar/",
    );
    expect(normalizeCollectionUrl(BASE)).toBe("http://127.0.0.1:5232/alice@example.test/calendar/");
  });

  it("builds member URLs from one encoded path segment", () => {
    expect(memberUrl(BASE, "event-without-extension")).toBe(
      "http://127.0.0.1:5232/alice@example.test/calendar/event-without-extension",
    );
    expect(memberUrl(BASE, "a b@c.ics")).toBe(
      "http://127.0.0.1:5232/alice@example.test/calendar/a%20b@c.ics",
    );
    expect(() => memberUrl(BASE, "../x.ics")).toThrow(TypeError);
    expect(() => memberUrl(BASE, "..")).toThrow(TypeError);
  });
});
