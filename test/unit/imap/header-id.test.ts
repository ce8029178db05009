import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { headerMessageId } from "../../../src/imap/header-id.js";
import { convertMessage } from "../../../src/mime/index.js";

const dir = join(import.meta.dirname, "../../fixtures/mail");
const fixtures = readdirSync(dir).filter((f) => f.endsWith(".eml"));

describe("headerMessageId (the id recorded for messages that are never parsed)", () => {
  it("reads the same Message-ID as the converter from every fixture that has one", async () => {
    let withId = 0;
    for (const name of fixtures) {
      const raw = readFileSync(join(dir, name));
      const parsed = await convertMessage(raw);
      if (parsed.messageIdGenerated) {
        expect(headerMessageId(raw), name).toBeUndefined();
      } else {
        withId++;
        expect(headerMessageId(raw), name).toBe(parsed.messageId);
      }
    }
    expect(withId).toBeGreaterThan(40);
  });

  it("takes the outer header's id, not one quoted in the body (a bounce carries the original's)", () => {
    const raw = readFileSync(join(dir, "dsn-postfix.eml"));
    const ids = [...raw.toString("latin1").matchAll(/^message-id:\s*<([^>]+)>/gim)].map((m) => m[1]);
    expect(ids.length).toBe(2);
    expect(headerMessageId(raw)).toBe(ids[0]);
    expect(headerMessageId(raw)).not.toBe(ids[1]);
  });
});
