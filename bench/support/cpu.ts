import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** CPU time spent while one bench step runs, per message. */
export interface CpuPerMessage {
  /** This process (every thread: main, conversion workers, GC helpers), µs per message. */
  processUs: number;
  /** The whole machine (this process, the mail servers, the kernel), µs per message; NaN off Linux. */
  machineUs: number;
  /** How busy the machine's cores were, 0..1; NaN off Linux. */
  machineBusy: number;
}

/** Busy and total ticks of all cores, from /proc/stat; undefined where it cannot be read. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const fields = readFileSync("/proc/stat", "utf8")
      .split("\n", 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1)
      .map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/**
 * Starts measuring; the returned function gives the CPU spent since, per message. The machine's
 * share is its busy fraction times the wall time times its cores (no clock-tick constant needed).
 */
export function cpuMeter(): (messages: number) => CpuPerMessage {
  const process0 = process.cpuUsage();
  const machine0 = machineTicks();
  const t0 = performance.now();
  return (messages) => {
    const used = process.cpuUsage(process0);
    const wallUs = (performance.now() - t0) * 1000;
    const machine1 = machineTicks();
    const busy =
      machine0 && machine1 && machine1.total > machine0.total
        ? (machine1.busy - machine0.busy) / (machine1.total - machine0.total)
        : Number.NaN;
    return {
      processUs: (used.user + used.system) / messages,
      machineUs: (busy * wallUs * availableParallelism()) / messages,
      machineBusy: busy,
    };
  };
}
