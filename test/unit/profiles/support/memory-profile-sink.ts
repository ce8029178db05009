/**
 * An in-memory ProfileSink for unit tests (the embedded SQLite sink is the store's). It records every
 * call so tests can assert how much a sync wrote, and can be told to fail.
 */
import type { ProfileSink, UserProfile } from "../../../../src/contract/sinks.js";

export class MemoryProfileSink implements ProfileSink {
  readonly profiles = new Map<string, UserProfile>();
  readonly calls: { method: "upsert" | "remove" | "list" | "lookupByEmail"; count: number }[] = [];
  /** When set, every method rejects with this error. */
  failWith: Error | undefined;

  async upsert(profiles: UserProfile[]): Promise<void> {
    this.#call("upsert", profiles.length);
    for (const p of profiles) this.profiles.set(p.id, structuredClone(p));
  }

  async remove(ids: string[]): Promise<void> {
    this.#call("remove", ids.length);
    for (const id of ids) this.profiles.delete(id);
  }

  async list(): Promise<UserProfile[]> {
    this.#call("list", 0);
    return [...this.profiles.values()].map((p) => structuredClone(p));
  }

  async lookupByEmail(address: string): Promise<UserProfile | undefined> {
    this.#call("lookupByEmail", 1);
    const key = `email:${address.trim().toLowerCase()}`;
    const found = [...this.profiles.values()].find((p) => p.userIds.includes(key));
    return found ? structuredClone(found) : undefined;
  }

  #call(method: "upsert" | "remove" | "list" | "lookupByEmail", count: number): void {
    if (this.failWith) throw this.failWith;
    this.calls.push({ method, count });
  }
}
