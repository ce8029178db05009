import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  checkSenderAuth,
  evaluateSenderAuth,
  type GuardInput,
  trustedAuthenticationResults,
} from "../../../src/guards/index.js";
import { readEml, toGuardInput } from "./support/read-eml.js";

const DIR = join(import.meta.dirname, "../../fixtures/guards");
const TRUST = { authservIds: ["mx.cassey.ai"] };

function msg(from: string, ...authResults: string[]): Pick<GuardInput, "from" | "headers"> {
  return { from: { address: from }, headers: { "authentication-results": authResults } };
}

describe("trusted Authentication-Results", () => {
  it("ignores the forged passing header below the attacker's relay (fixture)", async () => {
    const input = toGuardInput(await readEml(join(DIR, "spoofed-forged-auth-results.eml")));
    expect(input.headers["authentication-results"]).toHaveLength(3);
    for (const maxHeaders of [1, 3]) {
      const v = evaluateSenderAuth(input, { ...TRUST, maxHeaders });
      expect(v).toMatchObject({ result: "fail", method: "dmarc" });
      expect(v.details.authservIds).toEqual(["mx.cassey.ai"]);
    }
    // The same headers with the forged one on top would pass: position is what protects us.
    const reordered = {
      ...input,
      headers: {
        ...input.headers,
        "authentication-results": [...input.headers["authentication-results"]!].reverse(),
      },
    };
    expect(evaluateSenderAuth(reordered, TRUST).result).toBe("pass");
  });

  it("stops at the first header with an untrusted or missing authserv-id", () => {
    const input = msg(
      "alice@example.org",
      "relay.example; dmarc=pass header.from=example.org",
      "mx.cassey.ai; dmarc=pass header.from=example.org",
    );
    expect(trustedAuthenticationResults(input.headers, { ...TRUST, maxHeaders: 5 })).toEqual([]);
    expect(evaluateSenderAuth(input, TRUST).result).toBe("none");
    const garbage = msg("alice@example.org", "garbage without id", "mx.cassey.ai; dmarc=pass");
    expect(evaluateSenderAuth(garbage, TRUST).result).toBe("none");
  });

  it("lets the topmost result per method win inside a trusted run", () => {
    const input = msg(
      "alice@example.org",
      "mx.cassey.ai; dmarc=fail header.from=example.org",
      "MX.CASSEY.AI; dmarc=pass header.from=example.org; dkim=pass header.d=example.org",
    );
    const v = evaluateSenderAuth(input, { ...TRUST, maxHeaders: 2 });
    expect(v).toMatchObject({ result: "fail", method: "dmarc" });
    expect(v.details.results).toEqual({ dmarc: "fail", dkim: "pass" });
  });

  it("reads a second header only when maxHeaders allows it (milter stacks)", () => {
    const input = msg(
      "alice@example.org",
      "mx.cassey.ai; spf=none smtp.helo=relay.example",
      "mx.cassey.ai; dkim=pass header.d=example.org",
    );
    expect(evaluateSenderAuth(input, TRUST).result).toBe("fail");
    expect(evaluateSenderAuth(input, { ...TRUST, maxHeaders: 2 })).toMatchObject({
      result: "pass",
      method: "dkim",
    });
  });
});

describe("alignment rules", () => {
  it("accepts dmarc=pass only for the From domain", () => {
    expect(
      evaluateSenderAuth(msg("a@example.org", "mx.cassey.ai; dmarc=pass header.from=example.org"), TRUST)
        .result,
    ).toBe("pass");
    expect(evaluateSenderAuth(msg("a@example.org", "mx.cassey.ai; dmarc=pass"), TRUST).result).toBe("pass");
    expect(
      evaluateSenderAuth(msg("a@example.org", "mx.cassey.ai; dmarc=pass header.from=evil.example"), TRUST)
        .result,
    ).toBe("fail");
  });

  it("lets an explicit dmarc=fail win over an aligned DKIM pass", () => {
    const v = evaluateSenderAuth(
      msg(
        "a@example.org",
        "mx.cassey.ai; dkim=pass header.d=example.org; dmarc=fail header.from=example.org",
      ),
      TRUST,
    );
    expect(v).toMatchObject({ result: "fail", method: "dmarc" });
  });

  it("aligns SPF by organisational domain, not by suffix", () => {
    const spf = (mailfrom: string) => `mx.cassey.ai; spf=pass smtp.mailfrom=${mailfrom}`;
    expect(
      evaluateSenderAuth(msg("h@northwind.co.uk", spf("bounce@mail.northwind.co.uk")), TRUST).method,
    ).toBe("spf");
    expect(evaluateSenderAuth(msg("h@northwind.co.uk", spf("mail.northwind.co.uk")), TRUST).method).toBe(
      "spf",
    );
    expect(evaluateSenderAuth(msg("h@northwind.co.uk", spf("bounce@evil.co.uk")), TRUST).result).toBe("fail");
    expect(
      evaluateSenderAuth(msg("h@example.org", "mx.cassey.ai; spf=softfail smtp.mailfrom=example.org"), TRUST)
        .result,
    ).toBe("fail");
  });

  it("aligns DKIM by header.d, else by the domain of header.i, over every signature", () => {
    const two = "mx.cassey.ai; dkim=pass header.d=esp.example; dkim=pass header.d=mail.fabrikam.com.au";
    expect(evaluateSenderAuth(msg("ken@fabrikam.com.au", two), TRUST)).toMatchObject({
      result: "pass",
      method: "dkim",
    });
    const byI = "mx.cassey.ai; dkim=pass header.i=@sub.fabrikam.com.au";
    expect(evaluateSenderAuth(msg("ken@fabrikam.com.au", byI), TRUST).method).toBe("dkim");
    const foreign = "mx.cassey.ai; dkim=pass header.d=esp.example";
    expect(evaluateSenderAuth(msg("ken@fabrikam.com.au", foreign), TRUST).result).toBe("fail");
  });

  it("accepts SMTP AUTH at our own MTA for an aligned sender", () => {
    const v = evaluateSenderAuth(
      msg("alice@cassey.ai", "mx.cassey.ai; auth=pass smtp.auth=alice@cassey.ai"),
      TRUST,
    );
    expect(v).toMatchObject({ result: "pass", method: "auth" });
  });

  it("never trusts ARC alone", () => {
    const v = evaluateSenderAuth(
      msg("a@example.org", "mx.cassey.ai; arc=pass (i=1 spf=pass dkim=pass dmarc=pass)"),
      TRUST,
    );
    expect(v.result).toBe("fail");
    expect(v.details.results).toEqual({ arc: "pass" });
  });

  it("reports none for `; none` and fail for a missing From", () => {
    expect(evaluateSenderAuth(msg("a@example.org", "mx.cassey.ai; none"), TRUST).result).toBe("none");
    const noFrom = { headers: { "authentication-results": ["mx.cassey.ai; dmarc=pass"] } };
    expect(evaluateSenderAuth(noFrom, TRUST).result).toBe("fail");
  });
});

describe("policy", () => {
  const failing = msg("a@example.org", "mx.cassey.ai; dmarc=fail header.from=example.org");

  it("defaults to enforce with authserv-ids and to off without", () => {
    const enforced = checkSenderAuth(failing, TRUST);
    expect(enforced).toMatchObject({ ok: false, code: "SENDER_AUTH_FAILED", reply: false });
    expect(enforced.verdict.details.policy).toBe("enforce");
    const off = checkSenderAuth(failing, {});
    expect(off).toMatchObject({ ok: true, verdict: { result: "none", details: { policy: "off" } } });
  });

  it("refuses a message without trusted results under enforce", () => {
    expect(checkSenderAuth(msg("a@example.org"), TRUST)).toMatchObject({
      ok: false,
      code: "SENDER_AUTH_MISSING",
    });
  });

  it("records but admits under warn, and ignores everything under off", () => {
    const warn = checkSenderAuth(failing, { ...TRUST, policy: "warn" });
    expect(warn).toMatchObject({ ok: true, verdict: { result: "fail", method: "dmarc" } });
    const off = checkSenderAuth(failing, { ...TRUST, policy: "off" });
    expect(off).toMatchObject({ ok: true, verdict: { result: "none" } });
  });

  it("takes a custom organisational-domain function", () => {
    const input = msg("a@shop.myhost.example", "mx.cassey.ai; spf=pass smtp.mailfrom=other.myhost.example");
    expect(evaluateSenderAuth(input, TRUST).result).toBe("pass");
    const exact = { ...TRUST, orgDomain: (d: string) => d.split(".").slice(-3).join(".") };
    expect(evaluateSenderAuth(input, exact).result).toBe("fail");
  });
});
