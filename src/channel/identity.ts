import { randomBytes } from "node:crypto";
import type { StateStore } from "../store/types.js";

const SECRET_KEY = "thread-secret";

/**
 * The secret that signs the channel's outgoing Message-IDs and reply tokens. Generated once and kept
 * in the state store, so replies to mail sent before a restart still find their thread.
 */
export function threadSecret(store: StateStore): Buffer {
  const existing = store.kv.get(SECRET_KEY);
  if (existing) return Buffer.from(existing, "base64");
  const fresh = randomBytes(32);
  store.kv.set(SECRET_KEY, fresh.toString("base64"));
  return fresh;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf("@") + 1).toLowerCase();
}
