import { describe, expect, it } from "vitest";
import { parseAuthenticationResults } from "../../../src/guards/index.js";

describe("parseAuthenticationResults (RFC 8601)", () => {
  it("reads Gmail's header with prose in comments", () => {
    const r = parseAuthenticationResults(
      "mx.google.com;\r\n       dkim=pass header.i=@example.org header.s=2023a header.b=Qm9vN2kx;\r\n" +
        "       spf=pass (google.com: domain of alice@example.org designates 203.0.113.25 as permitted sender) smtp.mailfrom=alice@example.org;\r\n" +
        "       dmarc=pass (p=QUARANTINE sp=QUARANTINE dis=NONE) header.from=example.org",
    );
    expect(r?.authservId).toBe("mx.google.com");
    expect(r?.results.map((x) => [x.method, x.result])).toEqual([
      ["dkim", "pass"],
      ["spf", "pass"],
      ["dmarc", "pass"],
    ]);
    expect(r?.results[0]?.properties["header.i"]).toBe("@example.org");
    expect(r?.results[1]?.properties["smtp.mailfrom"]).toBe("alice@example.org");
    expect(r?.results[2]?.properties["header.from"]).toBe("example.org");
  });

  it("reads a version, reasons, quoted values and extras", () => {
    const r = parseAuthenticationResults(
      'Mx.Cassey.AI 1; dkim=fail reason="signature verification failed; body hash" header.d=example.org;' +
        " dmarc=pass action=none header.from=example.org; compauth=pass reason=100",
    );
    expect(r).toMatchObject({ authservId: "mx.cassey.ai", version: "1", none: false });
    expect(r?.results[0]).toMatchObject({
      method: "dkim",
      result: "fail",
      reason: "signature verification failed; body hash",
      properties: { "header.d": "example.org" },
    });
    expect(r?.results[1]?.properties.action).toBe("none");
    expect(r?.results[2]).toMatchObject({ method: "compauth", result: "pass", reason: "100" });
  });

  it("handles nested comments, escapes inside comments and a comment before the id", () => {
    const r = parseAuthenticationResults(
      "(outer (inner; dmarc=pass) \\) still comment) mx.cassey.ai; spf=fail (a (b) c) smtp.mailfrom=x@y.example",
    );
    expect(r?.authservId).toBe("mx.cassey.ai");
    expect(r?.results).toHaveLength(1);
    expect(r?.results[0]).toMatchObject({
      method: "spf",
      result: "fail",
      properties: { "smtp.mailfrom": "x@y.example" },
    });
  });

  it("reads method versions and blanks around = and /", () => {
    const r = parseAuthenticationResults("mx.cassey.ai; dkim / 1 = pass header.d = example.org");
    expect(r?.results[0]).toMatchObject({ method: "dkim", version: "1", result: "pass" });
    expect(r?.results[0]?.properties["header.d"]).toBe("example.org");
  });

  it("reads the no-result form", () => {
    expect(parseAuthenticationResults("mx.cassey.ai; none")).toMatchObject({ none: true, results: [] });
    expect(parseAuthenticationResults("mx.cassey.ai 1; none")).toMatchObject({ none: true, version: "1" });
  });

  it("keeps several results of one method (two DKIM signatures)", () => {
    const r = parseAuthenticationResults(
      "mx.cassey.ai; dkim=fail header.d=a.example; dkim=pass header.d=b.example",
    );
    expect(r?.results.map((x) => `${x.method}=${x.result}:${x.properties["header.d"]}`)).toEqual([
      "dkim=fail:a.example",
      "dkim=pass:b.example",
    ]);
  });

  it("gives Microsoft's id-less header an empty authserv-id", () => {
    const r = parseAuthenticationResults(
      "spf=pass (sender IP is 40.107.22.101) smtp.mailfrom=contoso.com; dkim=pass (signature was verified) header.d=contoso.com;dmarc=pass action=none header.from=contoso.com;compauth=pass reason=100",
    );
    expect(r?.authservId).toBe("");
    expect(r?.results.map((x) => x.method)).toEqual(["spf", "dkim", "dmarc", "compauth"]);
  });

  it("never throws on garbage", () => {
    const samples = [
      "",
      ";;;",
      "(((",
      '"unterminated',
      "mx; =pass",
      "mx; dkim=",
      "mx; dkim",
      "mx; \u0000\u0001 = \u00ff",
      "=;=;=",
      "mx (unterminated comment; dmarc=pass",
      'mx; dmarc="pass',
      "\\",
    ];
    for (let i = 0; i < 500; i++) {
      let s = "";
      const alphabet = 'ab=;()"\\ .@/\r\n\tx1';
      for (let j = 0; j < 40; j++) s += alphabet[(i * 7 + j * 13 + ((i * j) % 11)) % alphabet.length];
      samples.push(s);
    }
    for (const s of samples) expect(() => parseAuthenticationResults(s)).not.toThrow();
    expect(parseAuthenticationResults("")).toBeUndefined();
    expect(parseAuthenticationResults("mx (unterminated comment; dmarc=pass")?.results).toEqual([]);
    expect(parseAuthenticationResults(undefined as unknown as string)).toBeUndefined();
  });
});
