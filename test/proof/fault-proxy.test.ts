/**
 * The fault harness itself, against the stack's real Dovecot and Radicale: each mode does what the
 * proof suites rely on (a harness that silently passes traffic would make every fault test vacuous).
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpFaultProxy, TcpFaultProxy } from "../support/fault-proxy.js";
import { loadStackEnv } from "../support/stack.js";

const stack = loadStackEnv();
let tcp: TcpFaultProxy | undefined;
let httpProxy: HttpFaultProxy | undefined;
afterEach(async () => {
  await tcp?.close();
  await httpProxy?.close();
  tcp = httpProxy = undefined;
});

type Outcome = { greeting?: string; error?: string; silent?: boolean; closed?: boolean };

/** Connects, waits up to `ms` for the IMAP greeting line; reports what happened. */
function probe(port: number, ms = 1500): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let data = "";
    const done = (o: Outcome) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => done({ silent: true }), ms);
    socket.on("data", (c: Buffer) => {
      data += c.toString("latin1");
      if (data.includes("\r\n")) done({ greeting: data.split("\r\n")[0]! });
    });
    socket.on("error", (e: NodeJS.ErrnoException) => done({ error: e.code ?? e.message }));
    socket.on("close", () => done({ closed: true }));
  });
}

/** An open IMAP connection through the proxy, greeted; `ask` sends a tagged NOOP and waits for its answer. */
async function session(port: number) {
  const socket = net.connect({ host: "127.0.0.1", port });
  let buffer = "";
  const events: string[] = [];
  socket.on("data", (c: Buffer) => {
    buffer += c.toString("latin1");
  });
  socket.on("error", (e: NodeJS.ErrnoException) => events.push(e.code ?? "error"));
  socket.on("close", () => events.push("close"));
  const until = async (test: () => boolean, ms: number) => {
    const end = Date.now() + ms;
    while (!test() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return test();
  };
  await until(() => buffer.includes("\r\n"), 5000);
  let n = 0;
  return {
    events,
    async ask(ms: number): Promise<number | undefined> {
      const tag = `t${++n}`;
      const started = Date.now();
      socket.write(`${tag} NOOP\r\n`);
      return (await until(() => buffer.includes(`${tag} OK`), ms)) ? Date.now() - started : undefined;
    },
    until,
    end: () => socket.destroy(),
  };
}

describe("TcpFaultProxy in front of Dovecot IMAP", () => {
  it("passes, delays, black-holes, drops and refuses on demand", async () => {
    tcp = await TcpFaultProxy.start({ target: { host: stack.host, port: stack.ports.imap } });
    expect((await probe(tcp.port)).greeting).toMatch(/^\* OK/);

    const s = await session(tcp.port);
    expect(await s.ask(3000)).toBeTypeOf("number");
    await tcp.set("delay", { delayMs: 300 });
    // One chunk each way, each held back 300 ms.
    expect(await s.ask(5000)).toBeGreaterThanOrEqual(550);

    await tcp.set("pass");
    tcp.blackholeOpen();
    expect(await s.ask(2000)).toBeUndefined(); // half-open: no answer, no close, no reset
    expect(s.events).toEqual([]);
    expect((await probe(tcp.port)).greeting).toMatch(/^\* OK/); // new connections still pass
    await tcp.set("pass");
    expect(await s.ask(1000)).toBeUndefined(); // a dead link stays dead

    const s2 = await session(tcp.port);
    await tcp.set("blackhole");
    expect(await s2.ask(1500)).toBeUndefined();
    expect((await probe(tcp.port, 1000)).silent).toBe(true); // accepted, never greeted

    await tcp.set("pass");
    const s3 = await session(tcp.port);
    expect(await s3.ask(3000)).toBeTypeOf("number");
    await tcp.set("drop");
    expect(await s3.until(() => s3.events.includes("ECONNRESET"), 3000)).toBe(true);
    const dropped = await probe(tcp.port);
    expect(dropped.error ?? (dropped.closed ? "closed" : "")).toMatch(/ECONNRESET|closed/);

    await tcp.set("refuse");
    expect((await probe(tcp.port)).error).toBe("ECONNREFUSED");
    await tcp.set("pass");
    expect((await probe(tcp.port)).greeting).toMatch(/^\* OK/);
    for (const x of [s, s2, s3]) x.end();
  });
});

describe("HttpFaultProxy in front of Radicale", () => {
  it("passes requests through, answers 500, or hangs", async () => {
    httpProxy = await HttpFaultProxy.start({ target: stack.radicaleUrl });
    const get = (ms: number) =>
      fetch(new URL(`/${stack.users.alice.address}/`, httpProxy!.url), {
        method: "PROPFIND",
        headers: {
          Depth: "0",
          Authorization: `Basic ${Buffer.from(`${stack.users.alice.address}:${stack.users.alice.password}`).toString("base64")}`,
        },
        signal: AbortSignal.timeout(ms),
      }).then(
        (r) => r.status,
        (e: Error) => e.name,
      );
    expect(await get(5000)).toBe(207);
    httpProxy.set("error");
    expect(await get(5000)).toBe(500);
    httpProxy.set("hang");
    expect(await get(1000)).toBe("TimeoutError");
    httpProxy.set("pass");
    expect(await get(5000)).toBe(207);
    expect(httpProxy.counts).toEqual({ passed: 2, errored: 1, hung: 1 });
  });
});
