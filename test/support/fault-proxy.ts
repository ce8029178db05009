/**
 * Fault injection on loopback, for the proof suites: the channel is pointed at a proxy port instead
 * of the server's, and the test changes what the proxy does while the channel runs.
 *
 * - `TcpFaultProxy` (IMAP, SMTP, anything over TCP; TLS passes through untouched):
 *   `pass`      forward both ways;
 *   `drop`      reset every open connection (RST) and every new one as soon as it is accepted;
 *   `blackhole` accept and keep sockets open but forward nothing either way (a half-open link: no
 *               FIN, no RST, just silence). A connection that was black-holed stays dead after the
 *               mode changes back, like a real half-open connection; new connections follow the mode;
 *   `delay`     forward each chunk after `delayMs`, order kept;
 *   `refuse`    stop listening: new connections get ECONNREFUSED, open ones are left as they are.
 *   `blackholeOpen()` black-holes only the connections open now; new ones pass.
 *   `filter` (an option) rewrites each connection's traffic in any mode that forwards, and may cut
 *   the client off instead of forwarding (see TcpFilter; smtp-cut.ts is one).
 * - `HttpFaultProxy` (CalDAV/CardDAV): `pass` forwards each request to the target, `error` answers
 *   every request with a status (500 by default), `hang` never answers (the client's timeout fires).
 *
 * Counters (`accepted`, `requests`, ...) let a test check how often a client came back (backoff).
 */
import http from "node:http";
import net from "node:net";

export type TcpFaultMode = "pass" | "drop" | "blackhole" | "delay" | "refuse";

/** One connection's traffic rewriter (made anew for each connection). */
export interface TcpFilter {
  /** The bytes to forward for what the client sent. */
  toServer?(chunk: Buffer): Buffer;
  /** The bytes to forward for what the server sent, or "cut": drop both connections instead. */
  toClient?(chunk: Buffer): Buffer | "cut";
}

export interface TcpFaultProxyOptions {
  /** Where the real server listens. */
  target: { host: string; port: number };
  /** Makes each connection's filter; default none (bytes pass as they are). */
  filter?: () => TcpFilter;
  /** Initial mode. Default "pass". */
  mode?: TcpFaultMode;
  /** Delay per chunk in "delay" mode, ms. Default 200. */
  delayMs?: number;
}

interface Link {
  client: net.Socket;
  upstream?: net.Socket;
  /** Black-holed once: never forwards again. */
  dead: boolean;
}

/** A chunk queue per direction: "delay" holds each chunk back without reordering. */
class Pipe {
  #queue: { at: number; chunk: Buffer }[] = [];
  #timer: NodeJS.Timeout | undefined;
  constructor(
    readonly write: (chunk: Buffer) => void,
    readonly delay: () => number,
  ) {}
  push(chunk: Buffer): void {
    const ms = this.delay();
    if (ms <= 0 && this.#queue.length === 0) {
      this.write(chunk);
      return;
    }
    this.#queue.push({ at: Date.now() + ms, chunk });
    this.#arm();
  }
  #arm(): void {
    if (this.#timer || this.#queue.length === 0) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        while (this.#queue.length > 0 && this.#queue[0]!.at <= Date.now())
          this.write(this.#queue.shift()!.chunk);
        this.#arm();
      },
      Math.max(0, this.#queue[0]!.at - Date.now()),
    );
  }
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
  }
}

export class TcpFaultProxy {
  readonly host = "127.0.0.1";
  #port = 0;
  #mode: TcpFaultMode;
  #delayMs: number;
  readonly #target: { host: string; port: number };
  readonly #filter: (() => TcpFilter) | undefined;
  readonly #links = new Set<Link>();
  #server: net.Server | undefined;
  /** Connections accepted since start (any mode). */
  accepted = 0;
  /** Connections reset by "drop". */
  resets = 0;

  private constructor(o: TcpFaultProxyOptions) {
    this.#target = o.target;
    this.#filter = o.filter;
    this.#mode = o.mode ?? "pass";
    this.#delayMs = o.delayMs ?? 200;
  }

  /** Starts listening on an ephemeral loopback port. */
  static async start(o: TcpFaultProxyOptions): Promise<TcpFaultProxy> {
    const proxy = new TcpFaultProxy(o);
    await proxy.#listen();
    // Starting in "refuse": the port is chosen, then closed until the mode changes.
    if (proxy.#mode === "refuse") await proxy.#unlisten();
    return proxy;
  }

  get port(): number {
    return this.#port;
  }
  get mode(): TcpFaultMode {
    return this.#mode;
  }
  /** Connections open now (client side). */
  get open(): number {
    return this.#links.size;
  }

  /** Switches mode; "drop" resets every open connection, "blackhole" silences them, "refuse" closes the port. */
  async set(mode: TcpFaultMode, o: { delayMs?: number } = {}): Promise<void> {
    if (o.delayMs !== undefined) this.#delayMs = o.delayMs;
    const before = this.#mode;
    this.#mode = mode;
    if (mode === "drop") for (const link of [...this.#links]) this.#reset(link);
    if (mode === "blackhole") this.blackholeOpen();
    if (mode === "refuse" && before !== "refuse") await this.#unlisten();
    if (mode !== "refuse" && before === "refuse") await this.#listen();
  }

  /** Black-holes the connections open now; later ones follow the mode. Returns how many. */
  blackholeOpen(): number {
    for (const link of this.#links) link.dead = true;
    return this.#links.size;
  }

  /** Closes everything. */
  async close(): Promise<void> {
    for (const link of [...this.#links]) this.#destroy(link);
    await this.#unlisten();
  }

  #listen(): Promise<void> {
    const server = net.createServer((socket) => this.#accept(socket));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#port, this.host, () => {
        this.#port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  #unlisten(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    const link: Link = { client, dead: this.#mode === "blackhole" };
    this.#links.add(link);
    client.on("error", () => this.#destroy(link));
    client.on("close", () => this.#destroy(link));
    if (this.#mode === "drop") {
      this.#reset(link);
      return;
    }
    if (link.dead) {
      client.on("data", () => undefined); // swallow: the peer never hears back
      return;
    }
    const upstream = net.connect(this.#target);
    link.upstream = upstream;
    const delay = () => (this.#mode === "delay" ? this.#delayMs : 0);
    const toServer = new Pipe((c) => !link.dead && upstream.write(c), delay);
    const toClient = new Pipe((c) => !link.dead && client.write(c), delay);
    const filter = this.#filter?.();
    client.on("data", (c: Buffer) => !link.dead && toServer.push(filter?.toServer?.(c) ?? c));
    upstream.on("data", (c: Buffer) => {
      if (link.dead) return;
      const out = filter?.toClient ? filter.toClient(c) : c;
      if (out === "cut") this.#destroy(link);
      else if (out.length > 0) toClient.push(out);
    });
    upstream.on("error", () => this.#destroy(link));
    upstream.on("close", () => {
      toServer.clear();
      // The server hung up: pass that on, unless the link is black-holed (then the client hears nothing).
      if (!link.dead) this.#destroy(link);
    });
    client.on("close", () => toClient.clear());
  }

  #reset(link: Link): void {
    this.resets++;
    link.client.resetAndDestroy();
    link.upstream?.destroy();
    this.#links.delete(link);
  }

  #destroy(link: Link): void {
    link.client.destroy();
    link.upstream?.destroy();
    this.#links.delete(link);
  }
}

export type HttpFaultMode = "pass" | "error" | "hang";

export interface HttpFaultProxyOptions {
  /** Origin of the real server, e.g. "http://127.0.0.1:5232". */
  target: string;
  mode?: HttpFaultMode;
  /** Status answered in "error" mode. Default 500. */
  status?: number;
}

/** An HTTP proxy for DAV: pass, answer an error status, or hang. Every request is counted by outcome. */
export class HttpFaultProxy {
  readonly host = "127.0.0.1";
  mode: HttpFaultMode;
  status: number;
  readonly counts = { passed: 0, errored: 0, hung: 0 };
  readonly #target: URL;
  readonly #server: http.Server;
  readonly #hanging = new Set<http.ServerResponse>();

  private constructor(o: HttpFaultProxyOptions) {
    this.#target = new URL(o.target);
    this.mode = o.mode ?? "pass";
    this.status = o.status ?? 500;
    this.#server = http.createServer((req, res) => this.#handle(req, res));
  }

  static async start(o: HttpFaultProxyOptions): Promise<HttpFaultProxy> {
    const proxy = new HttpFaultProxy(o);
    await new Promise<void>((resolve) => proxy.#server.listen(0, proxy.host, resolve));
    return proxy;
  }

  get url(): string {
    return `http://${this.host}:${(this.#server.address() as net.AddressInfo).port}/`;
  }

  /** Requests seen in every mode. */
  get total(): number {
    return this.counts.passed + this.counts.errored + this.counts.hung;
  }

  set(mode: HttpFaultMode, status?: number): void {
    this.mode = mode;
    // Requests already hanging stay unanswered when the mode changes: the client times them out.
    if (status !== undefined) this.status = status;
  }

  async close(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.mode === "error") {
      this.counts.errored++;
      req.resume();
      res.writeHead(this.status, { "Content-Type": "text/plain" }).end("injected fault\n");
      return;
    }
    if (this.mode === "hang") {
      this.counts.hung++;
      req.resume();
      this.#hanging.add(res);
      res.on("close", () => this.#hanging.delete(res));
      return;
    }
    this.counts.passed++;
    const upstream = http.request(
      {
        host: this.#target.hostname,
        port: this.#target.port,
        method: req.method,
        path: req.url,
        // Host kept as the client sent it: any absolute URL the server builds points at the proxy.
        headers: req.headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  }
}
