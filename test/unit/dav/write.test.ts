/** Write-path races the real servers cannot be timed into: the object vanishing between the 412 and our refetch, a PUT answer without ETag. */
import { afterEach, describe, expect, it } from "vitest";
import { createDavClient } from "../../../src/dav/client.js";
import { DavConflictError, deleteObject, putObject, putObjectAt, quoteEtag } from "../../../src/dav/write.js";
import { InputError } from "../../../src/errors/index.js";
import { type FakeServer, fixture, startFakeServer } from "./support/fake-server.js";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("write path", () => {
  it("a 412 whose object is gone by the refetch reports a conflict with current = null", async () => {
    server = await startFakeServer((req) => (req.method === "PUT" ? { status: 412 } : { status: 404 }));
    const client = createDavClient({ baseUrl: server.url });
    const error = await putObjectAt(client, "/cal/a.ics", fixture("objects/apple-dentist.ics"), {
      ifMatch: '"v1"',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DavConflictError);
    expect((error as DavConflictError).current).toBeNull();
    expect(server.requests.map((r) => r.method)).toEqual(["PUT", "GET"]);
    expect(server.requests[0]!.headers["if-match"]).toBe('"v1"');
  });

  it("a 412 on DELETE carries the version another client wrote meanwhile", async () => {
    const theirs = fixture("objects/apple-dentist.ics").replace(
      "SUMMARY:Dentist",
      "SUMMARY:Dentist (theirs)",
    );
    server = await startFakeServer((req) =>
      req.method === "DELETE"
        ? { status: 412 }
        : { status: 200, headers: { ETag: '"v2"', "Content-Type": "text/calendar" }, body: theirs },
    );
    const client = createDavClient({ baseUrl: server.url });
    const error = (await deleteObject(client, "/cal/a.ics", "v1").catch(
      (e: unknown) => e,
    )) as DavConflictError;
    expect(error.current).toEqual({ href: "/cal/a.ics", etag: '"v2"', data: theirs });
    expect(server.requests[0]!.headers["if-match"]).toBe('"v1"');
  });

  it("creates with If-None-Match: *, the content type read from the data, and a PROPFIND when the PUT gave no ETag", async () => {
    server = await startFakeServer((req) =>
      req.method === "PUT"
        ? { status: 201 }
        : {
            status: 207,
            body: `<d:multistatus xmlns:d="DAV:"><d:response><d:href>${req.path}</d:href><d:propstat><d:prop><d:getetag>"e-1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response></d:multistatus>`,
          },
    );
    const client = createDavClient({ baseUrl: server.url });
    const result = await putObject(
      client,
      `${server.url}book/`,
      "jane.vcf",
      fixture("cards/apple-contacts-jane.vcf"),
      { ifNoneMatch: true },
    );
    expect(result).toEqual({ url: `${server.url}book/jane.vcf`, href: "/book/jane.vcf", etag: '"e-1"' });
    const put = server.requests[0]!;
    expect(put.headers["if-none-match"]).toBe("*");
    expect(put.headers["if-match"]).toBeUndefined();
    expect(put.headers["content-type"]).toBe("text/vcard; charset=utf-8");
    expect(put.body).toBe(fixture("cards/apple-contacts-jane.vcf"));
    expect(server.requests[1]!.method).toBe("PROPFIND");
  });

  it("refuses names that are not one path segment and data of unknown type", async () => {
    const client = createDavClient({ baseUrl: "http://127.0.0.1:1/" });
    await expect(
      putObject(client, "http://127.0.0.1:1/cal/", "../x.ics", "BEGIN:VCALENDAR", { ifNoneMatch: true }),
    ).rejects.toBeInstanceOf(InputError);
    await expect(
      putObject(client, "http://127.0.0.1:1/cal/", "x.txt", "hello", { ifNoneMatch: true }),
    ).rejects.toMatchObject({
      code: "DAV_UNKNOWN_CONTENT",
    });
  });

  it("quotes bare etags and keeps quoted and weak ones", () => {
    expect(quoteEtag("abc")).toBe('"abc"');
    expect(quoteEtag('"abc"')).toBe('"abc"');
    expect(quoteEtag('W/"abc"')).toBe('W/"abc"');
  });
});
