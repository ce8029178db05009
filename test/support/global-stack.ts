/**
 * Vitest global setup of the integration and e2e projects: makes sure the real servers are up before
 * any test file runs, then hands their variables to the test workers.
 *
 * - `STACK` unset or `local`: runs test/stack/up.sh (installs packages on first use, starts or checks
 *   the daemons). That needs root; without root the stack must already be running (someone ran
 *   `sudo bash test/stack/up.sh`), else setup fails and says so.
 * - `STACK=external` / `STACK=stalwart`: nothing is started; the `STACK_*` variables must be set.
 *
 * The stack keeps running after the tests (the next run starts in about a second); set
 * `STACK_TEARDOWN=1` to stop it at the end (test/stack/down.sh).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import type { TestProject } from "vitest/node";
import { STACK_SCRIPTS_DIR, type StackEnv, loadStackEnv, stackDir, stackKind } from "./stack.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Every STACK_* variable of the stack the run uses (see test/support/stack.ts). */
    stackVars: Record<string, string>;
  }
}

/** A cold run installs Debian packages first; give it time, but not forever. */
const UP_TIMEOUT_MS = 10 * 60_000;

function runStackScript(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [`${STACK_SCRIPTS_DIR}${script}`], {
      // stdin closed, output captured: the daemons up.sh starts must not hold these pipes open.
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, STACK_DIR: stackDir() },
    });
    let output = "";
    const collect = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      process.stderr.write(chunk);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    const timer = setTimeout(() => child.kill("SIGTERM"), UP_TIMEOUT_MS);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new Error(`test/stack/${script} failed (${signal ?? `exit ${code}`}):\n${output.slice(-4000)}`),
        );
    });
  });
}

function portAnswers(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

async function stackAnswers(env: StackEnv): Promise<boolean> {
  const ports = [
    ...Object.values(env.ports),
    ...[env.radicaleUrl, env.xandikosUrl, env.oauth?.url, env.oauth?.davUrl]
      .filter((u): u is string => u !== undefined)
      .map((u) => Number(new URL(u).port)),
  ];
  const results = await Promise.all(ports.map((port) => portAnswers(env.host, port)));
  return results.every(Boolean);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const kind = stackKind();
  let env: StackEnv;
  if (kind === "local") {
    if (process.getuid?.() === 0) {
      await runStackScript("up.sh");
      env = loadStackEnv();
    } else {
      const file = `${stackDir()}/stack.env`;
      if (!existsSync(file)) {
        throw new Error(
          `The integration tests need the loopback mail stack and starting it needs root. Run ` +
            `"sudo bash test/stack/up.sh" once (then the tests run as any user), run vitest as root, or ` +
            `point the tests at running servers with STACK=external and the STACK_* variables (test/stack/README.md).`,
        );
      }
      env = loadStackEnv();
      if (!(await stackAnswers(env))) {
        throw new Error(
          `The loopback mail stack in ${stackDir()} is not running and starting it needs root: run ` +
            `"sudo bash test/stack/up.sh" (or run vitest as root).`,
        );
      }
    }
  } else {
    env = loadStackEnv();
  }

  // Test workers read the stack through loadStackEnv(): the file for the local stack, process.env
  // otherwise. Exporting the variables covers both, and `inject("stackVars")` offers the same values.
  for (const [key, value] of Object.entries(env.vars)) process.env[key] = value;
  if (env.dir) process.env.STACK_DIR = env.dir;
  project.provide("stackVars", env.vars);

  return async () => {
    if (kind === "local" && process.env.STACK_TEARDOWN === "1") await runStackScript("down.sh");
  };
}
