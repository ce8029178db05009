import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type AddressObject, type ParsedMail, simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { type ComposeInput, type ComposeOptions, composeMessage } from "../../../src/compose/index.js";
import type { OutgoingAttachment } from "../../../src/contract/types.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../fixtures/compose");
// Set UPDATE_COMPOSE_FIXTURES=1 to rewrite the expected .eml files after a deliberate change (then review the diff).
const UPDATE = process.env.UPDATE_COMPOSE_FIXTURES === "1";

async function expectBytes(name: string, raw: Buffer): Promise<void> {
  const file = path.join(FIXTURES, name);
  if (UPDATE) await writeFile(file, raw);
  const expected = await readFile(file);
  expect(raw.toString("utf8")).toBe(expected.toString("utf8"));
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((a) => a.value.map((v) => `${v.name ?? ""} <${v.address}>`));
}

/** The reply the channel would build for an inbound message (threading headers as RFC 5322 §3.6.4). */
function replyTo(inbound: ParsedMail): ComposeInput {
  const sender = (inbound.from as AddressObject).value[0]!;
  const refs = typeof inbound.references === "string" ? [inbound.references] : (inbound.references ?? []);
  return {
    from: { address: "hello@cassey.ai", name: "Cassey" },
    to: [{ address: sender.address!, name: sender.name }],
    subject: `Re: ${inbound.subject}`,
    messageId: "ec.k3x9.q4xk2m7vtn3hb6ra@cassey.ai",
    inReplyTo: inbound.messageId!,
    references: [...refs, inbound.messageId!],
    markdown:
      "Hallo Jürgen,\n\nFreitag **12:30** passt. Ich habe [die Karte](https://example.org/karte) gesehen.\n\nCassey",
    quote: { from: inbound.from!.text, date: inbound.date!, text: inbound.text! },
    date: new Date("2026-11-21T07:25:00.000Z"),
  };
}

async function loadInbound(): Promise<ParsedMail> {
  return simpleParser(await readFile(path.join(FIXTURES, "inbound-thunderbird.eml")));
}

describe("composeMessage: a reply to a Thunderbird message", () => {
  const options: ComposeOptions = { boundarySeed: "fixture-reply", timeZone: "Europe/Berlin" };

  it("writes the threading, identity and RFC 3834 headers", async () => {
    const inbound = await loadInbound();
    const message = await composeMessage(replyTo(inbound), options);
    const parsed = await simpleParser(message.raw, { keepCidLinks: true });
    expect(addresses(parsed.from)).toEqual(["Cassey <hello@cassey.ai>"]);
    expect(addresses(parsed.to)).toEqual(["Jürgen Müller <juergen@example.org>"]);
    expect(parsed.subject).toBe("Re: Mittagessen am Freitag?");
    expect(parsed.messageId).toBe("<ec.k3x9.q4xk2m7vtn3hb6ra@cassey.ai>");
    expect(parsed.inReplyTo).toBe("<5d0b7c1e-8a2f-4b7e-9c1d-2f6e0a9b3c47@example.org>");
    expect(parsed.references).toEqual([
      "<b1f3c2a0-77de-4f0e-8a51-0c6d9e2f4b18@example.org>",
      "<5d0b7c1e-8a2f-4b7e-9c1d-2f6e0a9b3c47@example.org>",
    ]);
    expect(parsed.headers.get("auto-submitted")).toBe("auto-replied");
    expect(parsed.headers.get("x-auto-response-suppress")).toBe("All");
    expect(parsed.headers.get("mime-version")).toBe("1.0");
    expect(parsed.headers.has("precedence")).toBe(false);
    expect(parsed.date?.toISOString()).toBe("2026-11-21T07:25:00.000Z");
    expect(message.messageId).toBe("ec.k3x9.q4xk2m7vtn3hb6ra@cassey.ai");
    expect(message.messageIdHeader).toBe("<ec.k3x9.q4xk2m7vtn3hb6ra@cassey.ai>");
    expect(message.envelope).toEqual({ from: "hello@cassey.ai", to: ["juergen@example.org"] });
  });

  it("sends the Markdown as text/plain and sanitised HTML as text/html, with the original quoted", async () => {
    const message = await composeMessage(replyTo(await loadInbound()), options);
    const parsed = await simpleParser(message.raw, { keepCidLinks: true });
    expect(
      String(
        parsed.headers.get("content-type") && (parsed.headers.get("content-type") as { value: string }).value,
      ),
    ).toBe("multipart/alternative");
    expect(parsed.text).toContain(
      "Freitag **12:30** passt. Ich habe [die Karte](https://example.org/karte) gesehen.",
    );
    // mailparser's from.text quotes the display name; the attribution line shows what it was given.
    expect(parsed.text).toContain(
      'On Fri, 20 Nov 2026 at 17:02, "Jürgen Müller" <juergen@example.org> wrote:',
    );
    expect(parsed.text).toContain("> passt dir Freitag um 12:30 im Café Löwe? Die Karte ist hier:");
    expect(parsed.text).toContain("> > Am 19.11.26 um 09:14 schrieb Cassey:");
    const html = String(parsed.html);
    expect(html).toContain("<strong>12:30</strong>");
    expect(html).toContain('<a href="https://example.org/karte" rel="noopener noreferrer">die Karte</a>');
    expect(html).toContain('<blockquote type="cite"');
    expect(html).toContain("&gt; Am 19.11.26 um 09:14 schrieb Cassey:");
  });

  it("uses CRLF for every line", async () => {
    const message = await composeMessage(replyTo(await loadInbound()), options);
    const text = message.raw.toString("latin1");
    expect(text.includes("\r\n")).toBe(true);
    expect(/[^\r]\n/.test(text)).toBe(false);
    expect(/\r(?!\n)/.test(text)).toBe(false);
  });

  it("produces the stored bytes with a fixed date and boundary seed", async () => {
    const message = await composeMessage(replyTo(await loadInbound()), options);
    await expectBytes("reply-to-thunderbird.expected.eml", message.raw);
  });

  it("produces different boundaries without a seed, and the same bytes twice with one", async () => {
    const input = replyTo(await loadInbound());
    const a = await composeMessage(input);
    const b = await composeMessage(input);
    expect(a.raw.equals(b.raw)).toBe(false);
    const c = await composeMessage(input, options);
    const d = await composeMessage(input, options);
    expect(c.raw.equals(d.raw)).toBe(true);
  });
});

interface JsonFixture {
  options: ComposeOptions;
  input: Omit<ComposeInput, "date" | "attachments"> & {
    date: string;
    attachments: (OutgoingAttachment & { contentBase64?: string })[];
  };
}

async function loadJsonFixture(name: string): Promise<{ input: ComposeInput; options: ComposeOptions }> {
  const fixture = JSON.parse(await readFile(path.join(FIXTURES, name), "utf8")) as JsonFixture;
  const attachments = fixture.input.attachments.map(({ contentBase64, ...rest }) =>
    contentBase64 ? { ...rest, content: new Uint8Array(Buffer.from(contentBase64, "base64")) } : rest,
  );
  return {
    input: { ...fixture.input, date: new Date(fixture.input.date), attachments },
    options: fixture.options,
  };
}

describe("composeMessage: a reminder with attachments", () => {
  it("marks it auto-generated, writes no threading headers and de-duplicates the envelope", async () => {
    const { input, options } = await loadJsonFixture("reminder-with-attachment.json");
    const message = await composeMessage(input, options);
    const parsed = await simpleParser(message.raw, { keepCidLinks: true });
    expect(parsed.headers.get("auto-submitted")).toBe("auto-generated");
    expect(parsed.headers.has("in-reply-to")).toBe(false);
    expect(parsed.headers.has("references")).toBe(false);
    expect(parsed.headers.get("x-email-channel-conversation")).toBe("c-9f2d");
    // nodemailer writes the domain in its normalised (lower-case) form; the local part keeps its case.
    expect(addresses(parsed.cc)).toEqual([" <Alice@example.com>", "Bob <bob@example.net>"]);
    expect(message.envelope.to).toEqual(["alice@example.com", "bob@example.net"]);
    expect(message.messageId).toBe("ec.rem.7f3k2q@cassey.ai");
  });

  it("nests the parts as mixed > related > alternative and keeps the attachment bytes", async () => {
    const { input, options } = await loadJsonFixture("reminder-with-attachment.json");
    const message = await composeMessage(input, options);
    const head = message.raw.toString("utf8");
    expect(head).toMatch(/^Content-Type: multipart\/mixed;/m);
    expect(head).toMatch(/^Content-Type: multipart\/related;/m);
    expect(head).toMatch(/^Content-Type: multipart\/alternative;/m);
    const parsed = await simpleParser(message.raw, { keepCidLinks: true });
    const text = parsed.attachments.find((a) => a.filename === "appointment.txt");
    expect(text?.content.toString("utf8")).toBe("Dentist, 14:00, Hauptstraße 5\n");
    expect(text?.contentDisposition).toBe("attachment");
    const image = parsed.attachments.find((a) => a.filename === "map.png");
    expect(image?.contentType).toBe("image/png");
    expect(image?.cid).toBe("map@cassey.ai");
    expect(image?.content.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect(String(parsed.html)).toContain('<img src="cid:map@cassey.ai" alt="map" />');
    expect(String(parsed.html)).toContain("<td>Dr. Weiß, Hauptstraße 5</td>");
    // Trailing spaces and CRLF of the agent's text are normalised in the plain part.
    expect(parsed.text).toContain("your **dentist** appointment is today at *14:00*.\n");
    expect(parsed.text?.endsWith("Cassey\n")).toBe(true);
  });

  it("produces the stored bytes", async () => {
    const { input, options } = await loadJsonFixture("reminder-with-attachment.json");
    await expectBytes("reminder-with-attachment.expected.eml", (await composeMessage(input, options)).raw);
  });

  it("marks a new conversation auto-generated too", async () => {
    const { input, options } = await loadJsonFixture("reminder-with-attachment.json");
    const parsed = await simpleParser((await composeMessage({ ...input, kind: "new" }, options)).raw);
    expect(parsed.headers.get("auto-submitted")).toBe("auto-generated");
  });

  it("takes the Date from the injected clock when the input has none", async () => {
    const { input, options } = await loadJsonFixture("reminder-with-attachment.json");
    const { date: _drop, ...rest } = input;
    const clock = new Date("2030-01-02T03:04:05.000Z");
    const parsed = await simpleParser((await composeMessage(rest, { ...options, now: () => clock })).raw);
    expect(parsed.date?.toISOString()).toBe(clock.toISOString());
  });
});
