/**
 * A TcpFaultProxy filter for SMTP that loses a connection at the worst moment: the client has sent
 * the whole message (the end of DATA), the server has taken it and answers "250", and that answer
 * never arrives: the proxy drops the connection instead. The server delivers the message; the client
 * sees a connection closed unexpectedly. STARTTLS (and CHUNKING) are hidden from the server's EHLO
 * reply so that the session stays readable: use it on a port that needs no login. Only the first
 * `cuts` messages are cut; later ones pass.
 */
import type { TcpFilter } from "./fault-proxy.js";

const END_OF_DATA = "\r\n.\r\n";

export interface SmtpCutter {
  /** Pass as TcpFaultProxy's `filter`. */
  filter: () => TcpFilter;
  /** Messages whose "250" was swallowed so far. */
  readonly cut: number;
}

export function smtpCutAfterData(cuts = 1): SmtpCutter {
  let cut = 0;
  const filter = (): TcpFilter => {
    let inData = false;
    let sentEnd = false;
    let tail = "";
    let pending = "";
    return {
      toServer(chunk) {
        const text = tail + chunk.toString("latin1");
        if (!inData && /(^|\r\n)DATA\r\n/i.test(text)) inData = true;
        else if (inData && text.includes(END_OF_DATA)) {
          inData = false;
          sentEnd = true;
        }
        tail = text.slice(-8);
        return chunk;
      },
      toClient(chunk) {
        // Whole reply lines only, so that a reply is recognised and rewritten in one piece.
        pending += chunk.toString("latin1");
        const end = pending.lastIndexOf("\r\n");
        if (end < 0) return Buffer.alloc(0);
        const lines = pending.slice(0, end + 2);
        pending = pending.slice(end + 2);
        if (sentEnd && /^250[ -]/.test(lines) && cut < cuts) {
          cut++;
          return "cut";
        }
        if (sentEnd && /^\d{3} /m.test(lines)) sentEnd = false;
        // Renamed to extensions nobody knows ("X-HIDDEN-STARTTLS" would still match a /[ -]STARTTLS/ test).
        const readable = lines
          .replace(/^(250[ -])STARTTLS\b/gim, "$1XHIDDENTLS")
          .replace(/^(250[ -])CHUNKING\b/gim, "$1XHIDDENCHUNKS");
        return Buffer.from(readable, "latin1");
      },
    };
  };
  return {
    filter,
    get cut() {
      return cut;
    },
  };
}
