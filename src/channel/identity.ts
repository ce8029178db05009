import { randomBytes } from "node:crypto";
import { domainToASCII } from "node:url";
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

/**
 * The domain of an address, lower-cased, in its ASCII (A-label) form: the channel mints Message-IDs
 * under it, and a msg-id is ASCII only (RFC 5322 §3.6.4), so `bücher.example` gives
 * `xn--bcher-kva.example`. A domain that has no ASCII form is kept as it is.
 */
export function domainOf(address: string): string {
  const domain = address.slice(address.lastIndexOf("@") + 1).toLowerCase();
  return domainToASCII(domain) || domain;
}
