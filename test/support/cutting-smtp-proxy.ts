/**
 * A TCP proxy in front of a real SMTP server that loses a connection at the worst moment: the client
 * has sent the whole message (the end of DATA), the server has taken it and answers "250", and that
 * answer never arrives: the proxy drops the client's connection instead. The server delivers the
 * message; the client sees a connection closed unexpectedly. It hides STARTTLS (and CHUNKING) from
 * the server's EHLO reply so that the session stays readable; use it on a port that needs no login.
 * Only the first `cuts` messages are cut; later ones pass.
 */
import { type AddressInfo, createServer, connect, type Socket } from "node:net";

export interface CuttingProxy {
  port: number;
  /** Messages whose "250" was swallowed so far. */
  cut: number;
  close(): Promise<void>;
}

const END_OF_DATA = "\r\n.\r\n";

export async function cuttingSmtpProxy(
  target: { host: string; port: number },
  cuts = 1,
): Promise<CuttingProxy> {
  const sockets = new Set<Socket>();
  const proxy: CuttingProxy = { port: 0, cut: 0, close: async () => undefined };
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    let inData = false;
    let sentEnd = false;
    let tail = "";
    client.on("data", (chunk: Buffer) => {
      const text = tail + chunk.toString("latin1");
      if (!inData && /(^|\r\n)DATA\r\n/i.test(text)) inData = true;
      else if (inData && text.includes(END_OF_DATA)) {
        inData = false;
        sentEnd = true;
      }
      tail = text.slice(-8);
      upstream.write(chunk);
    });
    let pending = "";
    upstream.on("data", (chunk: Buffer) => {
      pending += chunk.toString("latin1");
      const end = pending.lastIndexOf("\r\n");
      if (end < 0) return;
      const lines = pending.slice(0, end + 2);
      pending = pending.slice(end + 2);
      if (sentEnd && /^250[ -]/.test(lines) && proxy.cut < cuts) {
        proxy.cut++;
        client.destroy();
        upstream.end("QUIT\r\n");
        return;
      }
      if (sentEnd && /^\d{3} /m.test(lines)) sentEnd = false;
      // Renamed to extensions nobody knows ("X-HIDDEN-STARTTLS" would still match a /[ -]STARTTLS/ test).
      const readable = lines
        .replace(/^(250[ -])STARTTLS\b/gim, "$1XHIDDENTLS")
        .replace(/^(250[ -])CHUNKING\b/gim, "$1XHIDDENCHUNKS");
      client.write(Buffer.from(readable, "latin1"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
