/**
 * The README's first quick-start command: `email-channel run` with no server configured brings up
 * the loopback stack, answers with the demo agent and sends itself a demo mail, then waits for the
 * reply in alice's INBOX. Run twice, with mail left in the assistant's INBOX in between (as the tests
 * and benchmarks sharing the stack leave it): the second demo still gets its reply, and the stale
 * mail is not the demo's to answer.
 *
 * Only on the local stack (the command starts it with test/stack/up.sh, which needs root).
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { appendAs, purgeMailbox, readMailbox } from "../support/mail.js";
import { loadStackEnv, stackDir, stackKind } from "../support/stack.js";

const local = stackKind() === "local" && process.getuid?.() === 0;

/** Runs the CLI's `run` as the quick start does (no EMAIL_* set) until the demo reports; then stops it. */
function runDemo(): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("EMAIL_")));
  const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", "run"], {
    env: { ...env, STACK_DIR: stackDir(), LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const done = /^demo: (done|no reply|.*error).*$/m.exec(out);
      if (done) {
        child.kill("SIGTERM");
        resolve(done[0]);
      }
    });
    child.once("exit", (code, signal) => reject(new Error(`run exited (${code ?? signal}) early:\n${out}`)));
  }).finally(() => {
    child.removeAllListeners("exit");
    child.kill("SIGTERM");
  }) as Promise<string>;
}

describe.skipIf(!local)("quick start: email-channel run with no server configured", () => {
  it("answers its demo mail, again after mail was left in the INBOX, and leaves that mail unanswered", async () => {
    const { assistant, alice } = loadStackEnv().users;
    expect(await runDemo()).toMatch(/^demo: done/);

    // More stale mail from alice than her rate limit allows in 10 minutes (10).
    const stale = `stale ${Date.now()}`;
    for (let i = 0; i < 12; i++)
      await appendAs(alice, assistant, { to: assistant.address, subject: `${stale} #${i}`, text: "old" });

    try {
      expect(await runDemo()).toMatch(/^demo: done/);
      const answered = (await readMailbox(alice)).filter((m) => m.subject?.includes(stale));
      expect(answered).toEqual([]);
    } finally {
      // The next test files find these mailboxes as they would after any other test.
      await purgeMailbox(assistant);
      await purgeMailbox(alice);
    }
  }, 240_000);
});
