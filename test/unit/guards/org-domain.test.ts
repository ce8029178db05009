import { describe, expect, it } from "vitest";
import { organisationalDomain, relaxedAligned } from "../../../src/guards/index.js";

describe("organisationalDomain", () => {
  it.each([
    ["example.org", "example.org"],
    ["mail.example.org", "example.org"],
    ["a.b.c.example.org", "example.org"],
    ["mail.northwind.co.uk", "northwind.co.uk"],
    ["northwind.co.uk", "northwind.co.uk"],
    ["mail.fabrikam.com.au", "fabrikam.com.au"],
    ["x.y.example.co.jp", "example.co.jp"],
    ["MAIL.Example.ORG.", "example.org"],
    ["co.uk", "co.uk"],
    ["org", "org"],
    ["mail.bücher.example", "xn--bcher-kva.example"],
    ["", ""],
    ["bad domain", ""],
  ])("%j -> %j", (domain, org) => {
    expect(organisationalDomain(domain)).toBe(org);
  });
});

describe("relaxedAligned", () => {
  it("aligns subdomains of one organisation and nothing across organisations", () => {
    expect(relaxedAligned("bounce.mail.example.org", "example.org")).toBe(true);
    expect(relaxedAligned("mail.northwind.co.uk", "northwind.co.uk")).toBe(true);
    expect(relaxedAligned("other.co.uk", "northwind.co.uk")).toBe(false);
    expect(relaxedAligned("fabrikam.com.au", "contoso.com.au")).toBe(false);
    expect(relaxedAligned("example.org", "example.net")).toBe(false);
    expect(relaxedAligned("", "")).toBe(false);
  });
});
