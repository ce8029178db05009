import { simpleParser } from "mailparser";
import { describe, expect, it } from "vitest";
import { type ComposeInput, composeMessage } from "../../../src/compose/index.js";
import { InputError } from "../../../src/errors/index.js";

const base: ComposeInput = {
  from: { address: "hello@cassey.ai", name: "Cassey" },
  to: [{ address: "alice@example.com" }],
  subject: "Re: hello",
  messageId: "ec.1@cassey.ai",
  markdown: "hi",
  date: new Date("2026-11-21T07:25:00Z"),
};

/** The header block of a raw message, one entry per (unfolded) field. */
function headerFields(raw: Buffer): string[] {
  const text = raw.toString("latin1");
  const head = text.slice(0, text.indexOf("\r\n\r\n"));
  return head.split(/\r\n(?![ \t])/);
}

function fieldNames(raw: Buffer): string[] {
  return headerFields(raw).map((f) => f.slice(0, f.indexOf(":")).toLowerCase());
}

async function expectInputError(input: ComposeInput, code: string): Promise<void> {
  const error = await composeMessage(input).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).code).toBe(code);
}

describe("header injection from agent text is impossible", () => {
  const injections = [
    "Re: hi\r\nBcc: victim@example.net",
    "Re: hi\nBcc: victim@example.net",
    "Re: hi\rBcc: victim@example.net",
    "Re: hi\u2028Bcc: victim@example.net",
    "Re: hi\u0085Bcc: victim@example.net",
    "Re: hi\r\n\r\n<html>body injected</html>",
    "Re: hi\u0000\u001b[31m",
  ];

  it.each(injections)("subject %j stays one Subject field and adds no field", async (subject) => {
    const message = await composeMessage({ ...base, subject });
    const names = fieldNames(message.raw);
    expect(names.filter((n) => n === "subject")).toHaveLength(1);
    expect(names).not.toContain("bcc");
    const parsed = await simpleParser(message.raw);
    expect(parsed.subject).not.toMatch(/[\r\n\u0000-\u001f\u2028]/);
    expect(parsed.subject?.startsWith("Re: hi")).toBe(true);
    expect(parsed.bcc).toBeUndefined();
    expect(message.envelope.to).toEqual(["alice@example.com"]);
  });

  it("cleans display names of control characters and line breaks", async () => {
    const message = await composeMessage({
      ...base,
      from: { address: "hello@cassey.ai", name: "Cassey\r\nBcc: victim@example.net" },
      to: [{ address: "alice@example.com", name: 'Alice "A" <evil@example.net>\n' }],
    });
    const names = fieldNames(message.raw);
    expect(names).not.toContain("bcc");
    const parsed = await simpleParser(message.raw);
    const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
    expect(to?.value).toHaveLength(1);
    expect(to?.value[0]?.address).toBe("alice@example.com");
    expect(message.envelope.to).toEqual(["alice@example.com"]);
  });

  it.each([
    "alice@example.com\r\nRCPT TO:<victim@example.net>",
    "alice@example.com>, <victim@example.net",
    "alice@example.com, victim@example.net",
    "Alice <alice@example.com>",
    "alice",
    "@example.com",
    "alice@",
    "al ice@example.com",
    "alice..x@example.com",
    ".alice@example.com",
    "alice@-example.com",
    "alice@[127.0.0.1]",
    '"quoted"@example.com',
    `${"a".repeat(65)}@example.com`,
  ])("rejects the address %j with InputError", async (address) => {
    await expectInputError({ ...base, to: [{ address }] }, "ADDRESS_INVALID");
    await expectInputError({ ...base, from: { address } }, "ADDRESS_INVALID");
    await expectInputError({ ...base, cc: [{ address }] }, "ADDRESS_INVALID");
  });

  it("accepts internationalised addresses", async () => {
    const message = await composeMessage({ ...base, to: [{ address: "jürgen@bücher.example" }] });
    expect(message.envelope.to).toEqual(["jürgen@bücher.example"]);
  });

  it("requires a recipient", async () => {
    await expectInputError({ ...base, to: [] }, "NO_RECIPIENTS");
  });

  it.each([
    "<a b@x>",
    "a\r\nBcc: x@y",
    "<a@x>\r\nX-Injected: 1",
    "<a@x>\u0000",
    "a<b@x",
    "",
    "<>",
    "no-at-sign",
  ])("rejects the Message-ID %j", async (messageId) => {
    await expectInputError({ ...base, messageId }, "MESSAGE_ID_INVALID");
  });

  it.each(["<a b@x>", "x@y>\r\nBcc: v@z", "<a@x", ""])("rejects the threading id %j", async (id) => {
    await expectInputError({ ...base, inReplyTo: id }, "MESSAGE_ID_INVALID");
    await expectInputError({ ...base, references: ["<ok@x>", id] }, "MESSAGE_ID_INVALID");
  });

  it("accepts wild-but-valid ids as given (no @, unusual characters)", async () => {
    const message = await composeMessage({
      ...base,
      inReplyTo: "<1234.5678$abc=def!xyz>",
      references: ["legacy-id-without-at", "<1234.5678$abc=def!xyz>"],
    });
    const parsed = await simpleParser(message.raw);
    expect(parsed.inReplyTo).toBe("<1234.5678$abc=def!xyz>");
    expect(parsed.references).toEqual(["<legacy-id-without-at>", "<1234.5678$abc=def!xyz>"]);
  });

  it.each([
    [{ "X-Ok": "a\r\nBcc: victim@example.net" }],
    [{ "X-Ok": "a\nb" }],
    [{ "X-Bad Name": "v" }],
    [{ "X-Bad:Name": "v" }],
    [{ "X-Bad\r\nBcc": "v" }],
    [{ Bcc: "victim@example.net" }],
    [{ To: "victim@example.net" }],
    [{ "message-id": "<x@y>" }],
    [{ References: "<x@y>" }],
    [{ "Content-Type": "text/html" }],
    [{ "Auto-Submitted": "no" }],
    [{ "X-Long": "x".repeat(1000) }],
  ])("rejects the extra header %j", async (headers) => {
    await expectInputError({ ...base, headers }, "HEADER_INVALID");
  });

  it("writes valid extra headers", async () => {
    const message = await composeMessage({ ...base, headers: { "X-Email-Channel-Conversation": "c-1\tx" } });
    const parsed = await simpleParser(message.raw);
    // A TAB is whitespace a header value may hold (RFC 5322 WSP); it is kept.
    expect(parsed.headers.get("x-email-channel-conversation")).toBe("c-1\tx");
  });
});

describe("the HTML part loads nothing and runs nothing", () => {
  const hostile = [
    "Hello <script>alert(1)</script>",
    '<img src="https://tracker.example/p.gif" width="1">',
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt&colon;alert(1)">click</a>',
    "[md link](javascript:alert(1))",
    "![remote](https://tracker.example/p.png)",
    '<a href="data:text/html;base64,PHNjcmlwdD4=">d</a>',
    '<a href="//evil.example/x">protocol-relative</a>',
    '<iframe src="https://evil.example"></iframe>',
    "<style>@import url(https://evil.example/x.css)</style>",
    '<div style="background:url(https://evil.example/x)">s</div>',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<form action="https://evil.example"><input name="pw"></form>',
    '<object data="https://evil.example/x.swf"></object><embed src="https://evil.example/x">',
    '<video src="https://evil.example/v.mp4"></video><audio src="https://evil.example/a.mp3"></audio>',
    '<svg onload="alert(1)"><image href="https://evil.example/i.png"/></svg>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<p onclick="alert(1)" onmouseover="alert(2)">text</p>',
  ];

  it.each(hostile)("sanitises %j", async (markdown) => {
    const message = await composeMessage({ ...base, markdown });
    const parsed = await simpleParser(message.raw, { keepCidLinks: true });
    const html = String(parsed.html);
    expect(html).not.toMatch(
      /<(script|iframe|style|link|form|object|embed|video|audio|svg|meta http|base)\b/i,
    );
    expect(html).not.toMatch(/\son[a-z]+\s*=/i);
    expect(html).not.toMatch(/javascript:|data:text|evil\.example|tracker\.example/i);
    expect(html).not.toMatch(/href="\/\//);
    expect(html).not.toMatch(/style="background/);
  });

  it("keeps safe links and cid images", async () => {
    const message = await composeMessage({
      ...base,
      markdown: "[site](https://example.org/a?b=1) <mailto:alice@example.com> ![logo](cid:logo@cassey.ai)",
    });
    const html = String((await simpleParser(message.raw, { keepCidLinks: true })).html);
    expect(html).toContain('<a href="https://example.org/a?b=1" rel="noopener noreferrer">site</a>');
    expect(html).toContain('href="mailto:alice@example.com"');
    expect(html).toContain('<img src="cid:logo@cassey.ai" alt="logo" />');
  });

  it("never renders the quoted original as markup", async () => {
    const message = await composeMessage({
      ...base,
      quote: {
        from: "Mallory <m@example.net>\r\nBcc: x@y",
        text: '<script>alert(1)</script>\n<img src="https://evil.example/x">',
      },
    });
    const parsed = await simpleParser(message.raw);
    const html = String(parsed.html);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(parsed.text).toContain("Mallory <m@example.net> Bcc: x@y wrote:");
    expect(parsed.text).toContain("> <script>alert(1)</script>");
  });
});
