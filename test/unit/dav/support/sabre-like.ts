/**
 * A SabreDAV-like calendar `/dav/calendars/alice%40example.org/work/` answering from fixture files:
 * a two-page (507) initial sync, then one change (dentist moved, stand-up deleted), then nothing new.
 * Discovery answers too (context path /dav/ -> principal -> home set -> listing).
 */
import {
  type FakeAnswer,
  type RecordedRequest,
  fixture,
  kindOf,
  multistatus,
  sentToken,
} from "./fake-server.js";

export interface SabreState {
  /** Answer 403 valid-sync-token to this token (then a full listing after the reset). */
  refuseToken?: string;
  /** Fail this many next requests with 500. */
  failNext?: number;
  /** Fail every request with 500 while set. */
  down?: boolean;
  /** Every sync-collection answer is empty. */
  empty?: boolean;
  /** Discovery lists no calendar. */
  noCalendars?: boolean;
}

export function sabreLike(state: SabreState) {
  return (req: RecordedRequest): FakeAnswer => {
    if (state.down || (state.failNext && state.failNext > 0)) {
      if (state.failNext) state.failNext--;
      return {
        status: 500,
        headers: { "Content-Type": "text/html" },
        body: fixture("protocol/error-server.html"),
      };
    }
    const kind = kindOf(req);
    const token = sentToken(req);
    if (kind === "sync-collection") {
      if (state.refuseToken !== undefined && token === state.refuseToken) {
        return {
          status: 403,
          headers: { "Content-Type": "application/xml" },
          body: fixture("protocol/error-valid-sync-token.xml"),
        };
      }
      if (state.empty) return multistatus("protocol/sync-empty.xml");
      if (token === "")
        return multistatus(
          state.refuseToken ? "protocol/sync-full-after-reset.xml" : "protocol/sync-initial-page1.xml",
        );
      if (token.endsWith("/101")) return multistatus("protocol/sync-initial-page2.xml");
      if (token.endsWith("/102")) return multistatus("protocol/sync-change.xml");
      // Nothing new since the change (the empty answer carries its own token).
      if (token.endsWith("/103") || token.endsWith("/201")) return multistatus("protocol/sync-empty.xml");
    }
    if (kind === "propfind") {
      if (req.path === "/dav/") return multistatus("protocol/disc-principal.xml");
      if (req.path.startsWith("/dav/principals/")) return multistatus("protocol/disc-home-set.xml");
      if (/^\/dav\/calendars\/alice(%40|@)example\.org\/$/.test(req.path)) {
        return multistatus(
          state.noCalendars
            ? "protocol/disc-home-listing-without-work.xml"
            : "protocol/disc-home-listing.xml",
        );
      }
    }
    if (kind === "calendar-multiget") {
      return multistatus(
        req.body.includes("standup.ics") ? "protocol/multiget-initial.xml" : "protocol/multiget-change.xml",
      );
    }
    return { status: 400, body: `unexpected ${req.method} ${req.path}` };
  };
}
