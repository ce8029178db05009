import { describe, expect, it } from "vitest";
import { checkAllowlist, parseAllowlistEntry, validateAllowlist } from "../../../src/guards/index.js";

const ok = (address: string | undefined, allowed: string[], extra = {}) =>
  checkAllowlist(address, { allowed, ...extra }).ok;

describe("checkAllowlist", () => {
  it("admits listed addresses case-insensitively and with blanks or brackets around", () => {
    expect(ok("Alice@Example.ORG", ["alice@example.org"])).toBe(true);
    expect(ok(" <alice@example.org> ", ["  ALICE@example.org "])).toBe(true);
    expect(ok("alicia@example.org", ["alice@example.org"])).toBe(false);
  });

  it("admits a whole domain with *@domain, but not its subdomains", () => {
    expect(ok("bob@contoso.com", ["*@contoso.com"])).toBe(true);
    expect(ok("bob@mail.contoso.com", ["*@contoso.com"])).toBe(false);
    expect(ok("bob@evilcontoso.com", ["*@contoso.com"])).toBe(false);
  });

  it("admits subdomains with *@*.domain, but not the domain itself", () => {
    expect(ok("bob@mail.example.net", ["*@*.example.net"])).toBe(true);
    expect(ok("bob@a.b.example.net", ["*@*.example.net"])).toBe(true);
    expect(ok("bob@example.net", ["*@*.example.net"])).toBe(false);
    expect(ok("bob@badexample.net", ["*@*.example.net"])).toBe(false);
  });

  it("admits everybody with * and nobody with an empty list", () => {
    expect(ok("anyone@anywhere.example", ["*"])).toBe(true);
    expect(checkAllowlist("alice@example.org", { allowed: [] })).toMatchObject({
      ok: false,
      code: "ALLOWLIST_DENIED",
      reply: false,
    });
  });

  it("compares IDN domains in Unicode and punycode form", () => {
    expect(ok("anna@Bücher.example", ["*@xn--bcher-kva.example"])).toBe(true);
    expect(ok("anna@xn--bcher-kva.example", ["anna@bücher.example"])).toBe(true);
    expect(ok("anna@bucher.example", ["*@bücher.example"])).toBe(false);
  });

  it("does not match sub-addresses by default, and does with matchSubaddress", () => {
    expect(ok("alice+x@example.org", ["alice@example.org"])).toBe(false);
    expect(ok("alice+x@example.org", ["alice+x@example.org"])).toBe(true);
    expect(ok("alice+x@example.org", ["alice@example.org"], { matchSubaddress: true })).toBe(true);
    expect(ok("alice@example.org", ["alice+x@example.org"], { matchSubaddress: true })).toBe(false);
    expect(
      ok("alice-x@example.org", ["alice@example.org"], { matchSubaddress: true, subaddressSeparator: "-" }),
    ).toBe(true);
  });

  it("admits contacts as an extra source, with the normalised address", () => {
    const seen: string[] = [];
    const contacts = (a: string) => {
      seen.push(a);
      return a === "dan@icloud.com";
    };
    expect(checkAllowlist("Dan@iCloud.com", { allowed: [], contacts })).toMatchObject({
      ok: true,
      via: "contact",
    });
    expect(seen).toEqual(["dan@icloud.com"]);
    expect(checkAllowlist("eve@evil.example", { allowed: [], contacts }).ok).toBe(false);
  });

  it("reports which entry admitted", () => {
    expect(
      checkAllowlist("bob@contoso.com", { allowed: ["alice@example.org", "*@contoso.com"] }),
    ).toMatchObject({
      ok: true,
      via: "entry",
      entry: "*@contoso.com",
    });
  });

  it("refuses a message without a usable sender", () => {
    for (const a of [undefined, "", "not an address", "@example.org", "alice@"]) {
      expect(checkAllowlist(a, { allowed: ["*"] })).toMatchObject({ ok: false, code: "ALLOWLIST_NO_SENDER" });
    }
  });

  it("never lets an invalid entry match", () => {
    expect(ok("alice@example.org", ["@example.org", "example.org", "a*@example.org", "*@", "*@*."])).toBe(
      false,
    );
  });
});

describe("parseAllowlistEntry / validateAllowlist", () => {
  it("classifies entries", () => {
    expect(parseAllowlistEntry("*")).toMatchObject({ kind: "everyone" });
    expect(parseAllowlistEntry("*@Example.org")).toMatchObject({ kind: "domain", domain: "example.org" });
    expect(parseAllowlistEntry("*@*.example.org")).toMatchObject({
      kind: "subdomains",
      domain: "example.org",
    });
    expect(parseAllowlistEntry("Alice@Example.org")).toMatchObject({
      kind: "address",
      address: "alice@example.org",
    });
  });

  it("explains invalid entries", () => {
    expect(validateAllowlist(["alice@example.org", "*@contoso.com", "*"])).toEqual([]);
    const problems = validateAllowlist(["example.org", "a*@example.org", "", "*@bad domain"]);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toContain("example.org");
  });
});
