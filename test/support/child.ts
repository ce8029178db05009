import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackChannelEnv } from "./channel.js";
import { loadStackEnv } from "./stack.js";

/**
 * Spawns the channel as its own process, configured by the EMAIL_* variables in `env`: through the
 * CLI (`email-channel run --agent test/support/logging-agent.ts`), or through
 * test/support/channel-child.ts when the test needs a fault injected below the public API
 * (EC_KILL_ON_FIRST_SEND). Both print a line containing READY_MARKER once the channel listens.
 */
export function spawnChannelChild(env: Record<string, string>): ChildProcess {
  const args =
    env.EC_KILL_ON_FIRST_SEND === "1"
      ? ["test/support/channel-child.ts"]
      : ["src/cli/main.ts", "run", "--agent", "test/support/logging-agent.ts", "--no-demo-mail"];
  return spawn(process.execPath, ["--import", "tsx", ...args], {
    env: { LOG_LEVEL: "warn", ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** What both entry points print once the channel listens. */
const READY_MARKER = /READY|email-channel is running/;

/** Starts the channel as its own process (see spawnChannelChild); resolves once it listens. */
export function startChannelChild(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawnChannelChild(env);
    p.stdout!.on("data", (d: Buffer) => {
      if (READY_MARKER.test(d.toString())) resolve(p);
    });
    p.once("exit", (code, signal) =>
      reject(new Error(`channel child exited (${code ?? signal}) before it was ready`)),
    );
  });
}

/**
 * The environment of a channel child on the stack: a fresh state dir (named after `prefix`), its
 * agent log (EC_AGENT_LOG) in it, and `extra` on top (EC_* knobs, EMAIL_* overrides).
 */
export function childEnv(
  prefix: string,
  extra: Record<string, string> = {},
): { stateDir: string; log: string; env: Record<string, string> } {
  const stateDir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  const log = join(stateDir, "agent.jsonl");
  return {
    stateDir,
    log,
    env: { ...stackChannelEnv(loadStackEnv(), { stateDir }), EC_AGENT_LOG: log, ...extra },
  };
}

export type AgentLogEntry = { event: string; messageId?: string; conversationId?: string; pid: number };

export function readAgentLog(path: string): AgentLogEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AgentLogEntry);
}

export const exited = (p: ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once("exit", () => r())));
