/**
 * A message big enough to be streamed, over a link slow enough that downloading it takes several
 * times the watcher's cycle watchdog: the cycle keeps moving (each chunk of the download is progress),
 * so it is not taken for a dead connection and cut off (before, the watchdog ran from the start of
 * the cycle whatever it did, and such a message could never be downloaded).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import { afterEach, describe, expect, it } from "vitest";
import { MailboxWatcher } from "../../../src/imap/mailbox-watcher.js";
import type { MailboxHandler } from "../../../src/imap/types.js";
import { loadConfig, openSqliteStore, silentLogger } from "../../../src/index.js";
import { convertMessage } from "../../../src/mime/index.js";
import { stackChannelEnv } from "../../support/channel.js";
import { TcpFaultProxy } from "../../support/fault-proxy.js";
import { openMailbox, purgeMailbox } from "../../support/mail.js";
import { loadStackEnv } from "../../support/stack.js";

const stack = loadStackEnv();
const { assistant, alice } = stack.users;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe("a streamed message over a slow IMAP link (real Dovecot behind a delaying proxy)", () => {
  it("is downloaded whole although it takes longer than the cycle watchdog", async () => {
    await purgeMailbox(assistant);
    const blob = randomBytes(1536 * 1024);
    const raw = await new MailComposer({
      from: alice.address,
      to: assistant.address,
      subject: "slow and big",
      text: "see attached",
      attachments: [{ filename: "big.bin", content: blob }],
    })
      .compile()
      .build();
    const client = await openMailbox(assistant);
    await client.append("INBOX", raw);
    await client.logout();

    const proxy = await TcpFaultProxy.start({ target: { host: stack.host, port: stack.ports.imap } });
    closers.push(() => proxy.close());
    const stateDir = mkdtempSync(join(tmpdir(), "ec-slow-link-"));
    const config = await loadConfig({
      env: stackChannelEnv(stack, { stateDir, env: { EMAIL_IMAP_SERVER: `${proxy.host}:${proxy.port}` } }),
    });
    const store = openSqliteStore({ path: join(stateDir, "state.sqlite") });
    closers.push(async () => store.close());
    const sizes: number[] = [];
    const handler: MailboxHandler = {
      onMessage: async (m) => {
        const parsed = await convertMessage(m.raw, { attachmentDir: join(stateDir, "attachments") });
        sizes.push(parsed.attachments[0]?.size ?? -1);
        return { action: "none" };
      },
      onOversize: async () => undefined,
      onVanished: async () => undefined,
    };
    const watcher = new MailboxWatcher({
      account: config.accounts[0]!,
      mailbox: "INBOX",
      endpoint: config.imap,
      tls: config.tls,
      store,
      handler,
      logger: silentLogger(),
      initialSync: "all",
      sweepIntervalMs: 3_600_000,
      cycleTimeoutMs: 1500,
    });
    closers.push(() => watcher.stop());
    // Every chunk each way waits 80 ms: the download's ~25 chunk FETCHes take several seconds.
    await proxy.set("delay", { delayMs: 80 });
    const t0 = Date.now();
    await watcher.start();
    const tookMs = Date.now() - t0;
    expect(sizes).toEqual([blob.length]);
    // Not a test of speed: a check that the link was slow enough to matter.
    expect(tookMs).toBeGreaterThan(1500);
    expect(watcher.health.reconnects).toBe(0);
  }, 120_000);
});
