/**
 * A tiny programmable HTTP server on 127.0.0.1 for protocol edge cases the real servers of the stack
 * cannot be made to produce (507 paging, a refused token on demand, an empty listing, a 412 race, a
 * 500 then recovery). Each test supplies the answers; response bodies come from fixture files.
 */
import { readFileSync } from "node:fs";
import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

export interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Delay before answering, in ms. */
  delayMs?: number;
}

export type FakeHandler = (req: RecordedRequest) => FakeAnswer | Promise<FakeAnswer>;

export interface FakeServer {
  url: string;
  requests: RecordedRequest[];
  handler: FakeHandler;
  close(): Promise<void>;
}

export async function startFakeServer(handler: FakeHandler): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const fake = { requests, handler } as FakeServer;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      try {
        const answer = await fake.handler(recorded);
        if (answer.delayMs) await new Promise((r) => setTimeout(r, answer.delayMs));
        if (res.destroyed) return;
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? "");
      } catch (error) {
        res.writeHead(599);
        res.end(String(error));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}/`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}

const FIXTURES = new URL("../../../fixtures/dav/", import.meta.url);

/** A fixture file under test/fixtures/dav/, as text. */
export function fixture(path: string): string {
  return readFileSync(new URL(path, FIXTURES), "utf8");
}

/** A 207 multistatus answer from a fixture file. */
export function multistatus(path: string, headers: Record<string, string> = {}): FakeAnswer {
  return {
    status: 207,
    headers: { "Content-Type": "application/xml; charset=utf-8", ...headers },
    body: fixture(path),
  };
}

/** Which DAV request this is: "sync-collection", "calendar-multiget", "propfind", "get"... */
export function kindOf(req: RecordedRequest): string {
  if (req.method === "REPORT") {
    const m = /<(?:[\w-]+:)?(sync-collection|calendar-multiget|addressbook-multiget)\b/.exec(req.body);
    return m?.[1] ?? "report";
  }
  return req.method.toLowerCase();
}

/** The sync-token the client sent in a sync-collection body ("" for the initial sync). */
export function sentToken(req: RecordedRequest): string {
  const m = /<d:sync-token>([^<]*)<\/d:sync-token>/.exec(req.body);
  return m?.[1] ?? "";
}

/** A loopback URL on which nothing listens (a port just released), for "connection refused". */
export async function refusedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}
