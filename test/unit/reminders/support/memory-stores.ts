/** In-memory ReminderSink and FiredRepo for scheduler tests (the embedded ones live in SQLite). */
import type { Reminder, ReminderSink } from "../../../../src/contract/sinks.js";
import type { FiredRepo } from "../../../../src/store/types.js";

export class MemoryReminderSink implements ReminderSink {
  readonly items = new Map<string, Reminder>();
  listCalls = 0;

  constructor(initial: Reminder[] = []) {
    for (const r of initial) this.items.set(r.id, r);
  }

  async upsert(reminders: Reminder[]): Promise<void> {
    for (const r of reminders) this.items.set(r.id, r);
  }

  async remove(ids: string[]): Promise<void> {
    for (const id of ids) this.items.delete(id);
  }

  async list(): Promise<Reminder[]> {
    this.listCalls++;
    return [...this.items.values()];
  }
}

export class MemoryFiredRepo implements FiredRepo {
  readonly marks = new Set<string>();

  markFired(id: string, fireAt: Date): boolean {
    const key = `${id}@${fireAt.toISOString()}`;
    if (this.marks.has(key)) return false;
    this.marks.add(key);
    return true;
  }

  wasFired(id: string, fireAt: Date): boolean {
    return this.marks.has(`${id}@${fireAt.toISOString()}`);
  }
}
