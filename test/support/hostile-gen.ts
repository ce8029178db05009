/**
 * Hostile and malformed mail for the proof suite: at least 150 messages built the way attackers and
 * broken producers build them (MIME bombs, a 1 MB header line, broken transfer encodings, NUL bytes,
 * wrong and missing charsets, missing or doubled identity headers, header injection through encoded
 * words, attachment names that try to leave the attachment folder, hostile HTML, a huge message, a
 * calendar rule with 10,000 occurrences), plus the kept fixtures of test/fixtures/hostile/ and
 * seeded truncations and byte flips of them.
 *
 * Every message is addressed to `to` and (where it has a From at all) comes from one of `senders`, so
 * that replies land where a test can read their headers. Attachment names carry `token`, so a test
 * can search the disk for any file that escaped.
 */
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

export interface HostileMessage {
  name: string;
  category: string;
  raw: Buffer;
  /** The Message-ID written into it (without <>), when it has exactly one. */
  messageId?: string;
  /** "append": straight into the INBOX over IMAP (Postfix would refuse or rewrite it); else the MX port. */
  via: "smtp" | "append";
  /** What the ledger must end with: a status, or "final" (any status but `received`, with a reason unless handled). */
  expect: "handled" | "quarantined" | "final";
  /** Strings that must never appear as a header of the reply (injection attempts). */
  injected?: string[];
}

export interface HostileOptions {
  to: string;
  senders: string[];
  /** Marks attachment names (and files that would escape). */
  token: string;
  /** Size of the huge message, bytes: 100 MB with PROOF_FULL, else 30 MB. */
  hugeBytes: number;
  random: () => number;
}

const CRLF = "\r\n";
const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
const wrap76 = (s: string) => s.replace(/.{76}/g, `$&${CRLF}`);

/** Assembles a message from header lines and a body (CRLF everywhere unless the body says otherwise). */
function build(headers: (string | undefined)[], body: string | Buffer): Buffer {
  const head = `${headers.filter((h) => h !== undefined).join(CRLF)}${CRLF}${CRLF}`;
  return Buffer.concat([
    Buffer.from(head, "latin1"),
    typeof body === "string" ? Buffer.from(body, "latin1") : body,
  ]);
}

export function generateHostile(o: HostileOptions): HostileMessage[] {
  const out: HostileMessage[] = [];
  let n = 0;
  const from = () => o.senders[n % o.senders.length]!;
  const id = () => `hostile-${++n}-${randomUUID().slice(0, 8)}@proof.example.test`;
  const std = (messageId: string, subject: string, extra: string[] = []) => [
    `From: Sender ${n} <${from()}>`,
    `To: ${o.to}`,
    `Subject: ${subject}`,
    "Date: Tue, 09 Apr 2024 10:00:00 +0200",
    `Message-ID: <${messageId}>`,
    "MIME-Version: 1.0",
    ...extra,
  ];
  const add = (category: string, m: Omit<HostileMessage, "name" | "category">) =>
    out.push({ name: `${category}-${out.filter((x) => x.category === category).length}`, category, ...m });
  const multipart = (boundary: string, parts: string[]) =>
    `${parts.map((p) => `--${boundary}${CRLF}${p}${CRLF}`).join("")}--${boundary}--${CRLF}`;

  // MIME bombs: wide (10,000 and 1,500 parts), deep (100 and 30 levels), and just under the limits.
  for (const [parts, expect] of [
    [10_000, "quarantined"],
    [1_500, "quarantined"],
    [900, "handled"],
  ] as const) {
    const mid = id();
    const body = multipart(
      "wide",
      Array.from({ length: parts }, (_, i) => `Content-Type: text/plain${CRLF}${CRLF}part ${i}`),
    );
    add("mime-wide", {
      raw: build([...std(mid, `${parts} parts`), 'Content-Type: multipart/mixed; boundary="wide"'], body),
      messageId: mid,
      via: "append",
      expect,
    });
  }
  for (const [depth, expect] of [
    [100, "quarantined"],
    [30, "quarantined"],
    [20, "handled"],
  ] as const) {
    const mid = id();
    let body = `Content-Type: text/plain${CRLF}${CRLF}the innermost part`;
    for (let d = depth - 1; d >= 1; d--)
      body = `Content-Type: multipart/mixed; boundary="d${d}"${CRLF}${CRLF}${multipart(`d${d}`, [body])}`;
    add("mime-deep", {
      raw: build(
        [...std(mid, `${depth} levels`), 'Content-Type: multipart/mixed; boundary="d0"'],
        multipart("d0", [body]),
      ),
      messageId: mid,
      via: "append",
      expect,
    });
  }
  for (let copy = 0; copy < 2; copy++) {
    // message/rfc822 inside message/rfc822, 60 deep (a converter may keep it as one .eml attachment).
    const mid = id();
    let inner = build(["Subject: innermost", "Content-Type: text/plain"], "bottom");
    for (let d = 0; d < 60; d++)
      inner = build([`Subject: level ${d}`, "MIME-Version: 1.0", "Content-Type: message/rfc822"], inner);
    add("mime-deep", {
      raw: build([...std(mid, "nested messages"), "Content-Type: message/rfc822"], inner),
      messageId: mid,
      via: "append",
      expect: "final",
    });
  }

  // A 1 MB header line, 5,000 Received lines, a 1 MB Subject.
  {
    let mid = id();
    add("header-huge", {
      raw: build(
        [...std(mid, "long header"), `X-Long: ${"a".repeat(1_100_000)}`, "Content-Type: text/plain"],
        "hi",
      ),
      messageId: mid,
      via: "append",
      expect: "quarantined",
    });
    mid = id();
    add("header-huge", {
      raw: build([...std(mid, "x".repeat(200_000)), "Content-Type: text/plain"], "a 200 kB subject"),
      messageId: mid,
      via: "append",
      expect: "final",
    });
    mid = id();
    const received = Array.from(
      { length: 5000 },
      (_, i) =>
        `Received: from hop${i}.example (hop${i}.example [192.0.2.1]) by hop${i + 1}.example; Tue, 9 Apr 2024 10:00:00 +0200`,
    );
    add("header-huge", {
      raw: build([...received, ...std(mid, "5000 hops"), "Content-Type: text/plain"], "many hops"),
      messageId: mid,
      via: "append",
      expect: "final",
    });
  }

  // Broken transfer encodings, in the body and in attachments.
  const brokenBodies: [string, string][] = [
    ["base64", "SGVsbG8gd29ybGQ!!!@@@###\r\nnot base64 at all ~~~\r\n===="],
    ["base64", "SGVsbG8gd29ybGQ"], // padding missing
    ["base64", `${"QUFB".repeat(30)}\r\n=\r\nQUFB=QUFB`],
    ["quoted-printable", "caf=E9 =ZZ =\r\n=4\r\nsoft break at the end="],
    ["quoted-printable", "=\r\n=\r\n=\r\n==3D=3"],
    ["quoted-printable", `${"=41".repeat(10_000)}`],
    ["x-uuencode", "begin 644 file.txt\r\n#0V%T\r\n`\r\nend"],
    ["7bit", "8-bit bytes in a 7bit part: \xff\xfe\xfd"],
    ["binary", "\x00\x01\x02 binary in a text part"],
    ["bogus-encoding", "what is this encoding"],
  ];
  for (const [cte, body] of brokenBodies) {
    const mid = id();
    add("encoding", {
      raw: build(
        [
          ...std(mid, `broken ${cte}`),
          "Content-Type: text/plain; charset=utf-8",
          `Content-Transfer-Encoding: ${cte}`,
        ],
        body,
      ),
      messageId: mid,
      via: body.includes("\x00") ? "append" : "smtp",
      expect: "handled",
    });
    const mid2 = id();
    const att = `Content-Type: application/pdf; name="doc.pdf"${CRLF}Content-Disposition: attachment; filename="${o.token}-enc.pdf"${CRLF}Content-Transfer-Encoding: ${cte}${CRLF}${CRLF}${body}`;
    add("encoding", {
      raw: build(
        [...std(mid2, `broken ${cte} attachment`), 'Content-Type: multipart/mixed; boundary="enc"'],
        multipart("enc", [`Content-Type: text/plain${CRLF}${CRLF}see attachment`, att]),
      ),
      messageId: mid2,
      via: body.includes("\x00") ? "append" : "smtp",
      expect: "handled",
    });
  }

  // NUL bytes: in the body, in a header, in the subject, in an attachment name.
  for (const [what, headers, body] of [
    ["body", [], "before\x00after\x00\x00 end"],
    ["header", ["X-Nul: a\x00b"], "header has a NUL"],
    ["subject", [], "subject has a NUL"],
    ["everywhere", ["X-Nul: \x00\x00"], "\x00".repeat(5000)],
  ] as const) {
    const mid = id();
    const subject = what === "subject" ? "hello\x00world" : `NUL in ${what}`;
    add("nul", {
      raw: build([...std(mid, subject), ...headers, "Content-Type: text/plain; charset=utf-8"], body),
      messageId: mid,
      via: "append",
      expect: "final",
    });
  }

  // Charsets: wrong, missing, unknown, and encoded words that lie.
  const utf8 = Buffer.from("Grüße, 東京, Привет, 😀", "utf8").toString("latin1");
  const charsetCases: [string, string, string][] = [
    ["wrong: utf-8 bytes as iso-2022-jp", "iso-2022-jp", utf8],
    ["wrong: latin1 bytes as utf-8", "utf-8", "Gr\xfc\xdfe \xe0 bient\xf4t"],
    ["wrong: utf-8 as us-ascii", "us-ascii", utf8],
    ["wrong: utf-8 as utf-16", "utf-16", utf8],
    ["unknown charset", "x-unknown-charset-42", utf8],
    ["empty charset", "", utf8],
    ["charset with quotes and junk", '"utf-8"; charset=latin1; charset', utf8],
    ["very long charset", "a".repeat(5000), utf8],
  ];
  for (const [subject, charset, body] of charsetCases) {
    const mid = id();
    add("charset", {
      raw: build(
        [
          ...std(mid, subject),
          `Content-Type: text/plain; charset=${charset}`,
          "Content-Transfer-Encoding: 8bit",
        ],
        body,
      ),
      messageId: mid,
      via: "smtp",
      expect: "handled",
    });
  }
  {
    const mid = id();
    add("charset", {
      raw: build(
        [...std(mid, "no charset, 8-bit"), "Content-Type: text/plain", "Content-Transfer-Encoding: 8bit"],
        utf8,
      ),
      messageId: mid,
      via: "smtp",
      expect: "handled",
    });
  }
  for (const word of [
    "=?x-bogus?B?SGVsbG8=?=",
    "=?utf-8?Q?unterminated",
    "=?utf-8?B?!!!!?=",
    `=?utf-8?B?${b64("a".repeat(3000))}?=`,
    "=?iso-2022-jp?B?GyRCJTUlJCVIGyhC?= =?utf-8?Q?=E2=82?= =?utf-8?Q?=AC?=",
    "=?UTF-16?B?//5IAGUAbABsAG8A?=",
  ]) {
    const mid = id();
    add("charset", {
      raw: build([...std(mid, word), "Content-Type: text/plain; charset=utf-8"], "encoded words"),
      messageId: mid,
      via: "smtp",
      expect: "handled",
    });
  }

  // Identity headers missing or doubled.
  const identity: [string, (string | undefined)[]][] = [
    [
      "no Message-ID",
      [`From: <${from()}>`, `To: ${o.to}`, "Subject: no id", "Date: Tue, 9 Apr 2024 10:00:00 +0200"],
    ],
    ["no From", [`To: ${o.to}`, "Subject: no from", `Message-ID: <${id()}>`]],
    ["no Date", [`From: <${from()}>`, `To: ${o.to}`, "Subject: no date", `Message-ID: <${id()}>`]],
    ["empty From", ["From: ", `To: ${o.to}`, "Subject: empty from", `Message-ID: <${id()}>`]],
    [
      "From without address",
      ["From: just a name", `To: ${o.to}`, "Subject: name only", `Message-ID: <${id()}>`],
    ],
    [
      "two From",
      [
        `From: <${o.senders[0]}>`,
        "From: <mallory@example.test>",
        `To: ${o.to}`,
        "Subject: two from",
        `Message-ID: <${id()}>`,
      ],
    ],
    [
      "two Message-ID",
      [
        `From: <${from()}>`,
        `To: ${o.to}`,
        "Subject: two ids",
        `Message-ID: <${id()}>`,
        `Message-ID: <${id()}>`,
      ],
    ],
    [
      "two Date",
      [
        `From: <${from()}>`,
        `To: ${o.to}`,
        "Subject: two dates",
        "Date: Tue, 9 Apr 2024 10:00:00 +0200",
        "Date: yesterday",
        `Message-ID: <${id()}>`,
      ],
    ],
    [
      "bad Date",
      [
        `From: <${from()}>`,
        `To: ${o.to}`,
        "Subject: bad date",
        "Date: 31 Feb 99999 25:61:61 +9999",
        `Message-ID: <${id()}>`,
      ],
    ],
    [
      "Message-ID without brackets",
      [`From: <${from()}>`, `To: ${o.to}`, "Subject: bare id", `Message-ID: ${id()}`],
    ],
    [
      "Message-ID with spaces",
      [`From: <${from()}>`, `To: ${o.to}`, "Subject: spaced id", `Message-ID: <a b c ${id()}>`],
    ],
    ["empty Message-ID", [`From: <${from()}>`, `To: ${o.to}`, "Subject: empty id", "Message-ID: <>"]],
    [
      "huge Message-ID",
      [
        `From: <${from()}>`,
        `To: ${o.to}`,
        "Subject: huge id",
        `Message-ID: <${"x".repeat(20_000)}@example.test>`,
      ],
    ],
    ["no headers at all", []],
    [
      "References to nowhere",
      [
        `From: <${from()}>`,
        `To: ${o.to}`,
        "Subject: Re: nothing",
        `Message-ID: <${id()}>`,
        `References: ${Array.from({ length: 2000 }, (_, i) => `<r${i}@x>`).join(" ")}`,
        "In-Reply-To: <nowhere@x>",
      ],
    ],
  ];
  for (const [what, headers] of identity) {
    add("identity", { raw: build(headers, `${what}${CRLF}`), via: "append", expect: "final" });
  }

  // Header injection through values that a reply copies: Subject, the From name, Message-ID.
  const evil = (where: string) => `Invoice\r\nBcc: mallory@example.test\r\nX-Injected-${where}: yes`;
  const injections: [string, string[]][] = [
    ["subject b-word", [`Subject: =?utf-8?B?${b64(evil("Sb"))}?=`]],
    [
      "subject q-word",
      [`Subject: =?utf-8?Q?Invoice=0D=0ABcc=3A_mallory=40example.test=0D=0AX-Injected-Sq=3A_yes?=`],
    ],
    ["subject lf only", [`Subject: =?utf-8?B?${b64("Hi\nBcc: mallory@example.test\nX-Injected-Lf: yes")}?=`]],
    ["subject rfc2047 in name param", [`Subject: =?utf-8?B?${b64("a\u2028X-Injected-Ls: yes")}?=`]],
  ];
  for (const [what, headers] of injections) {
    const mid = id();
    add("injection", {
      raw: build(
        [
          `From: Alice <${o.senders[0]}>`,
          `To: ${o.to}`,
          "Date: Tue, 9 Apr 2024 10:00:00 +0200",
          `Message-ID: <${mid}>`,
          "MIME-Version: 1.0",
          ...headers,
          "Content-Type: text/plain",
        ],
        what,
      ),
      messageId: mid,
      via: "smtp",
      expect: "handled",
      injected: ["Bcc", "X-Injected"],
    });
  }
  for (const [what, name] of <[string, string][]>[
    ["from b-word", `=?utf-8?B?${b64(evil("Fb"))}?=`],
    ["from q-word", "=?utf-8?Q?Alice=0D=0ABcc=3A_mallory=40example.test=0D=0AX-Injected-Fq=3A_yes?="],
    ["from quoted", `"Alice\\"\\r\\nX-Injected-Fquot: yes"`],
  ]) {
    const mid = id();
    add("injection", {
      raw: build(
        [
          `From: ${name} <${o.senders[0]}>`,
          `To: ${o.to}`,
          `Subject: ${what}`,
          `Message-ID: <${mid}>`,
          "Content-Type: text/plain",
        ],
        what,
      ),
      messageId: mid,
      via: "smtp",
      expect: "handled",
      injected: ["Bcc", "X-Injected"],
    });
  }
  {
    const mid = id();
    add("injection", {
      raw: build(
        [
          `From: <${o.senders[0]}>`,
          `To: ${o.to}`,
          "Subject: reply-to injection",
          `Message-ID: <${mid}>`,
          `Reply-To: =?utf-8?B?${b64("x\r\nBcc: mallory@example.test")}?= <${o.senders[0]}>`,
          `In-Reply-To: <a@b>${CRLF} X-Injected-Irt: yes`,
          "Content-Type: text/plain",
        ],
        "reply-to",
      ),
      messageId: mid,
      via: "smtp",
      expect: "handled",
      injected: ["Bcc", "X-Injected"],
    });
  }

  // Attachment names: traversal, absolute, Windows, encoded traversal, devices, bidi, very long.
  const names = [
    `../../../../../../tmp/${o.token}-dots.txt`,
    `/tmp/${o.token}-absolute.txt`,
    `C:\\Windows\\Temp\\${o.token}-windows.txt`,
    `..\\..\\..\\${o.token}-backslash.txt`,
    `%2e%2e%2f%2e%2e%2f${o.token}-percent.txt`,
    `./.${o.token}-hidden`,
    `${o.token}-\u202Efdp.exe`,
    `CON`,
    `..`,
    `.`,
    `${o.token}-${"long".repeat(600)}.txt`,
    `${o.token}-\u0000nul.txt`,
    `~/${o.token}-home.txt`,
    `\\\\server\\share\\${o.token}-unc.txt`,
    `${o.token}-name:stream.txt`,
  ];
  for (const name of names) {
    const mid = id();
    const att = [
      `Content-Type: text/plain; name="${name}"`,
      `Content-Disposition: attachment; filename="${name}"`,
      "Content-Transfer-Encoding: base64",
      "",
      b64(`escaped? ${name}`),
    ].join(CRLF);
    add("attachment-name", {
      raw: build(
        [...std(mid, "attachment"), 'Content-Type: multipart/mixed; boundary="att"'],
        multipart("att", [`Content-Type: text/plain${CRLF}${CRLF}file attached`, att]),
      ),
      messageId: mid,
      via: name.includes("\u0000") ? "append" : "smtp",
      expect: "handled",
    });
  }
  {
    const mid = id();
    const rfc2231 = `Content-Type: text/plain${CRLF}Content-Disposition: attachment; filename*=utf-8''..%2F..%2F..%2F..%2Ftmp%2F${o.token}-2231.txt${CRLF}${CRLF}x`;
    add("attachment-name", {
      raw: build(
        [...std(mid, "rfc2231"), 'Content-Type: multipart/mixed; boundary="att"'],
        multipart("att", ["Content-Type: text/plain\r\n\r\nbody", rfc2231]),
      ),
      messageId: mid,
      via: "smtp",
      expect: "handled",
    });
    const mid2 = id();
    const many = Array.from(
      { length: 80 },
      (_, i) =>
        `Content-Type: text/plain${CRLF}Content-Disposition: attachment; filename="${o.token}-${i}.txt"${CRLF}${CRLF}file ${i}`,
    );
    add("attachment-name", {
      raw: build(
        [...std(mid2, "80 attachments"), 'Content-Type: multipart/mixed; boundary="att"'],
        multipart("att", many),
      ),
      messageId: mid2,
      via: "smtp",
      expect: "handled",
    });
  }

  // Hostile HTML: scripts, remote images, event handlers, CSS, huge tables.
  const html = [
    `<script>alert(1)</script><p>hello</p>`,
    `<img src="https://tracker.example/p.gif?id=1" width=1 height=1><p>tracked</p>`,
    `<a href="javascript:alert(1)">click</a><iframe src="https://evil.example"></iframe>`,
    `<style>@import url(https://evil.example/x.css); p{behavior:url(x.htc)}</style><p onmouseover="x()">hover</p>`,
    `<svg><script>alert(1)</script></svg><math><mi xlink:href="javascript:alert(1)">x</mi></math>`,
    `<table>${"<tr><td>cell</td></tr>".repeat(50_000)}</table>`,
    `${"<div>".repeat(5000)}deep${"</div>".repeat(5000)}`,
    `<p>unclosed <b><i><u>tags <a href="`,
    `<meta http-equiv="refresh" content="0;url=https://evil.example"><base href="https://evil.example/">`,
    `<img src="data:image/png;base64,${b64(Buffer.alloc(300_000, 7))}">`,
  ];
  for (const h of html) {
    const mid = id();
    add("html", {
      raw: build(
        [...std(mid, "html"), "Content-Type: text/html; charset=utf-8"],
        `<html><body>${h}</body></html>`,
      ),
      messageId: mid,
      via: "smtp",
      expect: "handled",
    });
  }

  // A calendar invite whose rule yields 10,000 occurrences (and one unbounded), as a text/calendar body.
  for (const rule of [
    "FREQ=MINUTELY;COUNT=10000",
    "FREQ=SECONDLY",
    "FREQ=DAILY;COUNT=10000;BYHOUR=1,2,3,4,5,6,7,8",
  ]) {
    const mid = id();
    const ics = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "METHOD:REQUEST",
      "BEGIN:VEVENT",
      `UID:${mid}`,
      "DTSTART:20240415T080000Z",
      "DTEND:20240415T080100Z",
      `RRULE:${rule}`,
      "SUMMARY:Flood",
      "BEGIN:VALARM",
      "ACTION:DISPLAY",
      "TRIGGER:-PT1M",
      "END:VALARM",
      "END:VEVENT",
      "END:VCALENDAR",
      "",
    ].join(CRLF);
    add("calendar", {
      raw: build(
        [...std(mid, `invite ${rule}`), "Content-Type: text/calendar; method=REQUEST; charset=utf-8"],
        ics,
      ),
      messageId: mid,
      via: "smtp",
      expect: "handled",
    });
  }

  // Structure gone wrong.
  const structure: [string, string[], string | Buffer][] = [
    [
      "multipart without boundary",
      ["Content-Type: multipart/mixed"],
      "--x\r\nContent-Type: text/plain\r\n\r\nhi\r\n--x--",
    ],
    ["boundary never used", ['Content-Type: multipart/mixed; boundary="never"'], "just text"],
    [
      "boundary never closed",
      ['Content-Type: multipart/mixed; boundary="open"'],
      "--open\r\nContent-Type: text/plain\r\n\r\nunfinished",
    ],
    ["empty body", ["Content-Type: text/plain"], ""],
    ["empty multipart", ['Content-Type: multipart/alternative; boundary="e"'], "--e--\r\n"],
    ["unknown type", ["Content-Type: application/x-what-is-this"], "??"],
    ["10 MB single line", ["Content-Type: text/plain"], "z".repeat(10_000_000)],
    [
      "random bytes",
      ["Content-Type: application/octet-stream"],
      Buffer.from(Array.from({ length: 100_000 }, () => Math.floor(o.random() * 256))),
    ],
    [
      "denied executable",
      ['Content-Type: multipart/mixed; boundary="exe"'],
      multipart("exe", [
        "Content-Type: text/plain\r\n\r\nrun me",
        `Content-Type: application/x-msdownload${CRLF}Content-Disposition: attachment; filename="${o.token}.exe"${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}TVqQAAMAAAAEAAAA`,
      ]),
    ],
    [
      "DSN-looking from a person",
      ['Content-Type: multipart/report; report-type=delivery-status; boundary="r"'],
      multipart("r", [
        "Content-Type: text/plain\r\n\r\nnot a bounce",
        "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x",
      ]),
    ],
  ];
  for (const [what, headers, body] of structure) {
    const mid = id();
    add("structure", {
      raw: build([...std(mid, what), ...headers], body),
      messageId: mid,
      via: "append",
      expect: "final",
    });
  }

  // One big attachment under the limit (streamed), and one message over max_message_bytes.
  {
    const mid = id();
    // 16 MiB decoded, 22 MB as base64: under max_message_bytes (25 MiB), so it is downloaded and streamed.
    const payload = wrap76(b64(Buffer.alloc(16 * 1024 * 1024, 0x5a)));
    add("size", {
      raw: build(
        [...std(mid, "16 MiB attachment"), 'Content-Type: multipart/mixed; boundary="big"'],
        multipart("big", [
          "Content-Type: text/plain\r\n\r\nbig file",
          `Content-Type: application/octet-stream${CRLF}Content-Disposition: attachment; filename="${o.token}-big.bin"${CRLF}Content-Transfer-Encoding: base64${CRLF}${CRLF}${payload}`,
        ]),
      ),
      messageId: mid,
      via: "append",
      expect: "handled",
    });
    const mid2 = id();
    const huge = Buffer.alloc(o.hugeBytes, 0x61);
    for (let i = 76; i < huge.length; i += 78) {
      huge[i] = 13;
      huge[i + 1] = 10;
    }
    add("size", {
      raw: build(
        [...std(mid2, `${Math.round(o.hugeBytes / 1e6)} MB message`), "Content-Type: text/plain"],
        huge,
      ),
      messageId: mid2,
      via: "append",
      expect: "quarantined",
    });
  }

  // The kept fixtures, each with a fresh Message-ID, and seeded truncations and byte flips of them.
  const dir = new URL("../fixtures/hostile/", import.meta.url);
  const kept = readdirSync(dir).filter((f) => f.endsWith(".eml") && !/^(spoof|auth-pass|pingpong)/.test(f));
  for (const f of kept) {
    const raw = readFileSync(new URL(f, dir));
    const mid = id();
    const text = raw.toString("latin1").replaceAll("ec-hostile-kept", o.token);
    const fresh = /^Message-ID:/im.test(text)
      ? text.replace(/^Message-ID:\s*<[^>]*>/im, `Message-ID: <${mid}>`)
      : text;
    add("kept", {
      raw: Buffer.from(fresh, "latin1"),
      ...(fresh !== text ? { messageId: mid } : {}),
      via: "smtp",
      expect: "handled",
      injected: ["Bcc", "X-Injected"],
    });
    for (let k = 0; k < 3; k++) {
      // Each mutant has its own Message-ID (else the ledger rightly files it as a duplicate).
      const own = Buffer.from(fresh.replace(mid, id()), "latin1");
      const cut = own.subarray(0, 1 + Math.floor(o.random() * (own.length - 1)));
      add("mutated", { raw: cut, via: "append", expect: "final" });
      const flipped = Buffer.from(fresh.replace(mid, id()), "latin1");
      for (let i = 0; i < 20; i++)
        flipped[Math.floor(o.random() * flipped.length)] = Math.floor(o.random() * 256);
      add("mutated", { raw: flipped, via: "append", expect: "final" });
    }
  }
  return out;
}
