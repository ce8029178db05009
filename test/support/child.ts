import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** Spawns test/support/channel-child.ts with `env` (it prints READY once the channel listens). */
export function spawnChannelChild(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", "test/support/channel-child.ts"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
}

/** Starts test/support/channel-child.ts with `env`; resolves once the channel listens. */
export function startChannelChild(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const p = spawnChannelChild(env);
    p.stdout!.on("data", (d: Buffer) => {
      if (d.toString().includes("READY")) resolve(p);
    });
    p.once("exit", (code, signal) =>
      reject(new Error(`channel child exited (${code ?? signal}) before it was ready`)),
    );
  });
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
