import { randomBytes } from "node:crypto";
import MailComposer from "nodemailer/lib/mail-composer/index.js";

/**
 * The backlog benches' messages: 20 shapes (plain + HTML alternative, a quoted history and a
 * signature to strip), repeated with a fresh Message-ID each, `count` sources in all.
 */
export async function backlogSources(count: number, from: string, to: string): Promise<Buffer[]> {
  const shapes: string[] = [];
  for (let i = 0; i < 20; i++) {
    const raw = await new MailComposer({
      from: `Alice <${from}>`,
      to,
      subject: `backlog ${i}`,
      text: `Hello,\n\nthis is backlog message ${i}.\n\nOn Mon, someone wrote:\n> quoted history\n> more\n\n-- \nAlice`,
      html: `<p>Hello,</p><p>this is backlog message ${i}.</p>`,
    })
      .compile()
      .build();
    shapes.push(raw.toString("utf8"));
  }
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++)
    out.push(
      Buffer.from(
        shapes[i % shapes.length]!.replace(
          /^Message-ID: <[^>]+>/im,
          `Message-ID: <backlog-${i}-${randomBytes(4).toString("hex")}@bench.test>`,
        ),
      ),
    );
  return out;
}
