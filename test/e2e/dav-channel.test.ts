import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createDavClient } from "../../src/dav/index.js";
import type { EmailChannel, MessageFormat } from "../../src/index.js";
import { stackChannel } from "../support/channel.js";
import { purgeMailbox, sendAs, waitForMail } from "../support/mail.js";
import { davProxyStats, expireAccessTokens, oauthChannelEnv, oauthStats } from "../support/oauth.js";
import { loadStackEnv } from "../support/stack.js";
import {
  deleteRaw,
  makeAddressBook,
  makeCalendar,
  putRaw,
  removeCollection,
  uniqueName,
} from "../integration/dav/helpers.js";

const stack = loadStackEnv();
const { assistant, alice, bob } = stack.users;
let channel: EmailChannel | undefined;
afterEach(async () => {
  await channel?.stop();
  channel = undefined;
});

// The assistant account's own calendar and address book on Radicale (its own credentials).
const dav = createDavClient({
  baseUrl: stack.radicaleUrl,
  username: assistant.address,
  password: assistant.password,
});
const davEnv = {
  EMAIL_CALDAV_URL: stack.radicaleUrl,
  EMAIL_CARDDAV_URL: stack.radicaleUrl,
  EMAIL_DAV_POLL_INTERVAL: "1",
  EMAIL_TIMEZONE: "Europe/Berlin",
};
let bookUrl = "";
let calendarUrl = "";

const waitUntil = async (what: string, ok: () => Promise<boolean>, timeoutMs = 30_000) => {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

beforeAll(async () => {
  calendarUrl = await makeCalendar(dav, uniqueName("cal"), "Assistant calendar");
  bookUrl = await makeAddressBook(dav, uniqueName("book"), "Assistant contacts");
  // Alice as Apple Contacts exports her (vCard 3.0, item1.EMAIL with X-ABLabel).
  await putRaw(
    dav,
    new URL("alice.vcf", bookUrl).toString(),
    readFileSync(new URL("../fixtures/e2e/alice-apple.vcf", import.meta.url), "utf8"),
    "text/vcard",
  );
});

afterAll(async () => {
  // Leave no alarms behind: a later run with a fresh state would fire them late (correctly).
  await removeCollection(dav, calendarUrl);
  await removeCollection(dav, bookUrl);
});

describe("CalDAV and CardDAV through the channel (real Radicale)", () => {
  it("emails a reminder when an alarm goes off, once, also across a restart", async () => {
    await purgeMailbox(assistant);
    const stateDir = mkdtempSync(join(tmpdir(), "ec-rem-"));
    ({ channel } = await stackChannel(async () => undefined, { stateDir, env: davEnv }));
    const fired: string[] = [];
    channel.events.on("reminder", (e: { reminder: { title: string } }) => fired.push(e.reminder.title));
    await channel.start();
    const title = uniqueName("Dentist");
    // The agent's write path: an event 10 minutes ahead with an alarm 9 min 50 s before it (10 s from now).
    const start = new Date(Date.now() + 10 * 60_000);
    const written = await channel.tools().createEvent({
      title,
      start,
      end: new Date(start.getTime() + 30 * 60_000),
      alarmMinutesBefore: 10,
      location: "Main St 1",
    });
    expect(written.uid).toBeTruthy();
    const inbox = await waitForMail(assistant, (ms) => ms.some((m) => m.subject === `Reminder: ${title}`), {
      timeoutMs: 90_000,
    });
    const mail = inbox.find((m) => m.subject === `Reminder: ${title}`)!;
    expect(mail.text).toContain("Main St 1");
    expect(mail.headers.get("auto-submitted")).toBe("auto-generated");
    expect(fired.filter((t) => t === title)).toEqual([title]);
    await channel.stop();
    ({ channel } = await stackChannel(async () => undefined, { stateDir, env: davEnv }));
    await channel.start();
    await new Promise((r) => setTimeout(r, 5000));
    expect(
      (await waitForMail(assistant, () => true)).filter((m) => m.subject === `Reminder: ${title}`),
    ).toHaveLength(1);
  }, 180_000);

  it("attaches the sender's contact profile and admits contacts when allow_contacts is on", async () => {
    await purgeMailbox(assistant);
    const seen: MessageFormat[] = [];
    ({ channel } = await stackChannel(async (m) => void seen.push(m), {
      env: { ...davEnv, EMAIL_ALLOWED_SENDERS: "nobody@example.org", EMAIL_ALLOW_CONTACTS: "true" },
    }));
    const ignored: { code: string }[] = [];
    channel.events.on("ignored", (e: { code: string }) => ignored.push(e));
    await channel.start();
    expect((await channel.store!.profiles.lookupByEmail(alice.address))?.displayName).toBe("Alice Liddell");
    const fromAlice = (
      await sendAs(alice, { to: assistant.address, subject: "From a contact", text: "hello" })
    ).replace(/^<|>$/g, "");
    await sendAs(bob, { to: assistant.address, subject: "From a stranger", text: "hello" });
    const end = Date.now() + 30_000;
    while ((seen.length < 1 || ignored.length < 1) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((m) => m.messageId)).toEqual([fromAlice]);
    expect(seen[0]!.metadata.senderProfile).toMatchObject({
      name: "Alice Liddell",
      organization: "Wonderland Ltd",
    });
    expect(ignored.map((i) => i.code).filter((c) => c.startsWith("ALLOWLIST"))).toEqual(["ALLOWLIST_DENIED"]);
  }, 120_000);

  it("admits a contact's mail that waited while the channel was down, from the stored contacts", async () => {
    await purgeMailbox(assistant);
    const stateDir = mkdtempSync(join(tmpdir(), "ec-contacts-restart-"));
    const env = { EMAIL_ALLOWED_SENDERS: "nobody@example.org", EMAIL_ALLOW_CONTACTS: "true" };
    // First run: the address book is synced into the state store.
    ({ channel } = await stackChannel(async () => undefined, { stateDir, env: { ...davEnv, ...env } }));
    await channel.start();
    expect((await channel.store!.profiles.lookupByEmail(alice.address))?.displayName).toBe("Alice Liddell");
    await channel.stop();
    // While it is down, a contact writes.
    const waited = (
      await sendAs(alice, { to: assistant.address, subject: "Written while you were away", text: "hi" })
    ).replace(/^<|>$/g, "");
    await waitForMail(assistant, (ms) => ms.some((m) => m.subject === "Written while you were away"));
    // Second run, CardDAV not even configured: the stored contacts decide from the first sync on.
    const seen: MessageFormat[] = [];
    ({ channel } = await stackChannel(async (m) => void seen.push(m), { stateDir, env }));
    const refused: string[] = [];
    channel.events.on("ignored", (e: { code: string }) => {
      if (e.code.startsWith("ALLOWLIST")) refused.push(e.code);
    });
    await channel.start();
    const end = Date.now() + 20_000;
    while (!seen.some((m) => m.messageId === waited) && refused.length === 0 && Date.now() < end)
      await new Promise((r) => setTimeout(r, 100));
    // (Reminder mail the channel sent itself in earlier tests may arrive too: ignored as its own mail.)
    expect(refused).toEqual([]);
    expect(seen.map((m) => m.messageId)).toEqual([waited]);
    expect(seen[0]!.metadata.senderProfile).toMatchObject({ name: "Alice Liddell" });
  }, 120_000);
});

/**
 * The channel on OAuth 2.0 alone: the same collections (made above over the password Radicale), read
 * and written through the bearer-token front, which serves Radicale's storage to tokens only.
 */
describe.skipIf(!stack.oauth?.davUrl)(
  "CalDAV and CardDAV on OAuth 2.0 bearer tokens (Radicale behind a token-checking front, as Google serves DAV)",
  () => {
    const oauth = stack.oauth;
    it("an account with no password syncs contacts, writes an event whose alarm is emailed, and renews a revoked token", async () => {
      await purgeMailbox(assistant);
      const grants0 = (await oauthStats(oauth!)).grants;
      const proxy0 = await davProxyStats(oauth!);
      ({ channel } = await stackChannel(async () => undefined, {
        env: {
          ...oauthChannelEnv(stack, assistant),
          EMAIL_CALDAV_URL: oauth!.davUrl!,
          EMAIL_CARDDAV_URL: oauth!.davUrl!,
          EMAIL_DAV_POLL_INTERVAL: "1",
          EMAIL_TIMEZONE: "Europe/Berlin",
        },
      }));
      await channel.start();
      const store = channel.store!;
      // CardDAV read over bearer tokens: Alice's card became a profile.
      await waitUntil(
        "Alice's profile",
        async () => (await store.profiles.lookupByEmail(alice.address)) !== undefined,
      );
      expect((await store.profiles.lookupByEmail(alice.address))?.displayName).toBe("Alice Liddell");

      // CalDAV write (the agent's tool) and read (the reminder), on the same tokens.
      const title = uniqueName("Dentist");
      const start = new Date(Date.now() + 10 * 60_000);
      await channel.tools().createEvent({
        title,
        start,
        end: new Date(start.getTime() + 30 * 60_000),
        alarmMinutesBefore: 10,
      });
      await waitForMail(assistant, (ms) => ms.some((m) => m.subject === `Reminder: ${title}`), {
        timeoutMs: 90_000,
      });
      const proxy1 = await davProxyStats(oauth!);
      expect(proxy1.forwarded - proxy0.forwarded).toBeGreaterThan(0);
      // Nothing reached the DAV front without a bearer token (HTTP Basic would be counted here).
      expect(proxy1.no_token - proxy0.no_token).toBe(0);
      // One grant for the account: IMAP, SMTP (the reminder) and DAV share its token.
      expect((await oauthStats(oauth!)).grants - grants0).toBe(1);

      // Every token revoked: the next DAV request is refused once, a new token is fetched, and a
      // contact added afterwards still arrives.
      await expireAccessTokens(oauth!);
      const bobCard = new URL("bob.vcf", bookUrl).toString();
      onTestFinished(() => deleteRaw(dav, bobCard));
      await putRaw(
        dav,
        bobCard,
        `BEGIN:VCARD\r\nVERSION:4.0\r\nUID:${uniqueName("bob")}\r\nFN:Bob Builder\r\nEMAIL:${bob.address}\r\nEND:VCARD\r\n`,
        "text/vcard",
      );
      await waitUntil(
        "Bob's profile",
        async () => (await store.profiles.lookupByEmail(bob.address)) !== undefined,
      );
      const proxy2 = await davProxyStats(oauth!);
      expect(proxy2.invalid_token - proxy1.invalid_token).toBeGreaterThanOrEqual(1);
      expect(proxy2.no_token - proxy0.no_token).toBe(0);
      // IMAP may have renewed first (its IDLE session is unaffected until it reconnects): one new grant either way.
      expect((await oauthStats(oauth!)).grants - grants0).toBe(2);
    }, 180_000);
  },
);
