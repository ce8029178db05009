/**
 * start() resolves once every account is watching; an IMAP server that is down since boot is retried
 * forever, so start() waits. stop() must still end it (a host stopping on SIGTERM must not hang).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EmailChannel, silentLogger } from "../../../src/index.js";
import { offlineConfig } from "../../support/offline-config.js";
import { closedPort } from "../../support/ports.js";

describe("EmailChannel.stop() while start() waits for an IMAP server that is down", () => {
  it("ends the start (it rejects as aborted) and stops", async () => {
    const config = await offlineConfig("hello@x.test", {
      EMAIL_IMAP_SERVER: `127.0.0.1:${await closedPort()}`,
      EMAIL_IMAP_USE_TLS: "false",
      EMAIL_STATE_DIR: mkdtempSync(join(tmpdir(), "ec-stop-starting-")),
    });
    const channel = new EmailChannel(async () => undefined, { config, logger: silentLogger() });
    const starting = channel.start();
    const outcome = starting.then(
      () => "started",
      (error: { code?: string }) => error.code,
    );
    // The watcher is retrying its connection by now (refused, backoff, refused...).
    await expect.poll(() => channel.health()[0]?.state, { timeout: 10_000 }).toBe("backoff");
    await channel.stop();
    expect(await outcome).toBe("ABORTED");
    expect(channel.health()).toEqual([]);
    // Stopped for good: a second stop() is a no-op, and the channel can start again later.
    await channel.stop();
  });
});
