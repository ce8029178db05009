import { describe, expect, it } from "vitest";
import { deliveryCopyAddress } from "../../../src/channel/parts.js";
import type { OutboxEntry } from "../../../src/store/index.js";
import { offlineConfig } from "../../support/offline-config.js";

const entryOf = (account: string) => ({ account }) as OutboxEntry;

describe("deliveryCopyAddress", () => {
  it("asks for a copy to the sending account only where the channel watches that account's INBOX", async () => {
    const config = await offlineConfig("hello@example.test", {
      EMAIL_MONITORED_ACCOUNTS: "hello@example.test,support@example.test",
      EMAIL_LOGIN_TEMPLATE: "%u*master",
    });
    config.accounts[1]!.mailboxes = ["Support", "Archive"];
    config.accounts[0]!.mailboxes = ["inbox", "Support"];
    const copyTo = deliveryCopyAddress(config);
    expect(copyTo(entryOf("hello@example.test"))).toBe("hello@example.test");
    expect(copyTo(entryOf("Hello@Example.test"))).toBe("Hello@Example.test");
    // Its copy would land in an INBOX nobody watches: no copy, no wait for one.
    expect(copyTo(entryOf("support@example.test"))).toBeUndefined();
    expect(copyTo(entryOf("stranger@example.test"))).toBeUndefined();
  });
});
