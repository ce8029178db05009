/**
 * Discovery on the real servers: well-known -> principal -> home set -> collections, with the
 * component filter, the include subset, a deeper configured context path, and the errors a wrong
 * password or a dead port give.
 */
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DavClient, createDavClient } from "../../../src/dav/client.js";
import { discoverAccount, discoverCollections } from "../../../src/dav/discovery.js";
import { AuthError, NetworkError } from "../../../src/errors/index.js";
import {
  SERVERS,
  makeAddressBook,
  makeCalendar,
  recordingClient,
  removeCollection,
  uniqueName,
} from "./helpers.js";

describe.each(SERVERS)("discovery on $name", (server) => {
  let client: DavClient;
  let eventsUrl: string;
  let journalUrl: string;
  let bookUrl: string;
  const eventsName = uniqueName("EC Discovery");

  beforeAll(async () => {
    ({ client } = recordingClient(server));
    eventsUrl = await makeCalendar(client, uniqueName("ec-disc"), eventsName, ["VEVENT", "VTODO"]);
    journalUrl = await makeCalendar(client, uniqueName("ec-journal"), "EC Journal", ["VJOURNAL"]);
    bookUrl = await makeAddressBook(client, uniqueName("ec-disc-book"), "EC Discovery contacts");
  });

  afterAll(async () => {
    for (const url of [eventsUrl, journalUrl, bookUrl]) await removeCollection(client, url);
  });

  it("finds the principal, the home sets and the calendars holding events or tasks", async () => {
    const result = await discoverAccount(client, "calendar");
    expect(result.principalUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
    expect(result.homeUrls.length).toBeGreaterThan(0);
    const ours = result.collections.find((c) => c.url === eventsUrl);
    expect(ours).toMatchObject({ kind: "calendar", displayName: eventsName, supportsSync: true });
    expect(ours!.components).toEqual(expect.arrayContaining(["VEVENT", "VTODO"]));
    expect(ours!.syncToken).toBeTruthy();
    // Journal-only calendars hold nothing to remind of. Xandikos 0.2.8 ignores the component set of
    // MKCALENDAR (its answer has a 404 propstat for it) and advertises every component, so there
    // the "journal" calendar is an ordinary one and is kept.
    const honoursComponentSet = server.name === "radicale";
    expect(result.collections.some((c) => c.url === journalUrl)).toBe(!honoursComponentSet);
    const journals = await discoverCollections(client, "calendar", { components: ["VJOURNAL"] });
    expect(journals.map((c) => c.url)).toContain(journalUrl);
    // No address books among calendars.
    expect(result.collections.some((c) => c.url === bookUrl)).toBe(false);
  });

  it("finds address books", async () => {
    const books = await discoverCollections(client, "addressbook");
    const ours = books.find((c) => c.url === bookUrl);
    expect(ours).toMatchObject({
      kind: "addressbook",
      displayName: "EC Discovery contacts",
      supportsSync: true,
    });
    expect(books.some((c) => c.url === eventsUrl)).toBe(false);
  });

  it("keeps only the configured subset, by display name or by URL", async () => {
    const byName = await discoverCollections(client, "calendar", { include: [eventsName.toUpperCase()] });
    expect(byName.map((c) => c.url)).toEqual([eventsUrl]);
    const path = new URL(eventsUrl).pathname;
    const byPath = await discoverCollections(client, "calendar", { include: [path.slice(0, -1)] });
    expect(byPath.map((c) => c.url)).toEqual([eventsUrl]);
  });

  it("works from a deeper configured context path (the principal itself, as Stalwart's /dav/cal/<account>/)", async () => {
    const { principalUrl } = await discoverAccount(client, "calendar");
    const deep = createDavClient({
      baseUrl: principalUrl.replace("@", "%40"),
      ...(server.username ? { username: server.username, password: server.password } : {}),
    });
    const collections = await discoverCollections(deep, "calendar");
    expect(collections.map((c) => c.url)).toContain(eventsUrl);
  });
});

describe("discovery failures", () => {
  const radicale = SERVERS.find((s) => s.name === "radicale")!;

  it("a wrong password is an AuthError, not 'no calendars'", async () => {
    const client = createDavClient({
      baseUrl: radicale.baseUrl,
      username: radicale.username,
      password: "wrong",
    });
    const error = await discoverCollections(client, "calendar").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as AuthError).code).toBe("DAV_AUTH_FAILED");
    expect((error as AuthError).message).not.toContain("wrong");
  });

  it("a dead port is a retryable NetworkError", async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const client = createDavClient({ baseUrl: `http://127.0.0.1:${port}/`, username: "x", password: "y" });
    const error = await discoverCollections(client, "calendar").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).retryable).toBe(true);
    expect((error as NetworkError).details?.code).toBe("ECONNREFUSED");
  });
});
