import type { RateCounter } from "../../../../src/guards/index.js";

/** Sliding-window counter with RateRepo's semantics: counts events at or after `since`. */
export class MemoryCounter implements RateCounter {
  readonly events: { key: string; at: number }[] = [];
  count(key: string, since: Date): number {
    return this.events.filter((e) => e.key === key && e.at >= since.getTime()).length;
  }
  record(key: string, at: Date): void {
    this.events.push({ key, at: at.getTime() });
  }
}
