import type { ResolvedConfig } from "../config/resolved.js";
import type { ProfileSink } from "../contract/sinks.js";
import {
  checkAllowlist,
  type GuardConfig,
  type GuardInput,
  type GuardReport,
  recordAdmitted,
  runGuards,
} from "../guards/index.js";
import type { StateStore } from "../store/types.js";
import type { GuardDecision } from "./inbound-pipeline.js";

/** Guard kinds whose refusals are robots (marked seen) rather than people (flagged for a human). */
const ROBOT_CODES = /^LOOP_/;

/**
 * The guard stage as the channel runs it: config -> GuardConfig, the store's rate counter, and the
 * CardDAV contacts as an extra allowlist source (a preloaded set, refreshed when profiles change).
 */
export class GuardStage {
  readonly #config: GuardConfig;
  readonly #store: StateStore;
  readonly #profiles: ProfileSink | undefined;
  readonly #allowContacts: boolean;
  #contacts = new Set<string>();
  readonly #reports = new WeakMap<GuardInput, GuardReport>();

  constructor(o: {
    config: ResolvedConfig;
    store: StateStore;
    ownAddresses: string[];
    ownDomains: string[];
    secret: Buffer;
    profiles?: ProfileSink;
  }) {
    this.#store = o.store;
    this.#profiles = o.profiles;
    this.#allowContacts = o.config.allowContacts;
    this.#config = {
      loop: { ownAddresses: o.ownAddresses, loopMarkers: o.ownAddresses },
      senderAuth: { authservIds: o.config.senderAuth.authservIds, policy: o.config.senderAuth.policy },
      allowlist: { allowed: o.config.allowedSenders },
      rateLimits: {
        perSender: o.config.rateLimits.perSender,
        perConversation: o.config.rateLimits.perConversation,
      },
    };
  }

  /** Reloads the contact addresses the allowlist admits (when allow_contacts is on). */
  async refreshContacts(): Promise<void> {
    if (!this.#allowContacts || !this.#profiles) return;
    const next = new Set<string>();
    for (const p of await this.#profiles.list())
      for (const e of p.emails) next.add(e.address.trim().toLowerCase());
    this.#contacts = next;
  }

  #contactAdmits = (address: string) =>
    this.#allowContacts && this.#contacts.has(address.trim().toLowerCase());

  /** Does the allowlist admit this address (used for Reply-To and reply-all recipients too)? */
  allows(address: string): boolean {
    return checkAllowlist(address, { allowed: this.#config.allowlist.allowed, contacts: this.#contactAdmits })
      .ok;
  }

  async decide(input: GuardInput): Promise<GuardDecision> {
    const report = runGuards(input, this.#config, {
      counter: this.#store.rates,
      contacts: this.#contactAdmits,
    });
    this.#reports.set(input, report);
    const verdicts = Object.fromEntries(
      Object.entries(report.verdicts).map(([name, v]) => [
        name,
        v.ok ? "pass" : { code: (v as { code: string }).code, reason: (v as { reason: string }).reason },
      ]),
    );
    return {
      ...(report.refusal ? { refusal: report.refusal } : {}),
      robot: report.refusal ? ROBOT_CODES.test(report.refusal.code) : false,
      verdicts,
      senderAuth: report.senderAuth,
    };
  }

  /** Counts an admitted message for the rate limits (once, after the decision). */
  recordAccepted(input: GuardInput): void {
    const report = this.#reports.get(input);
    if (report) recordAdmitted(input, report, this.#store.rates);
  }
}
