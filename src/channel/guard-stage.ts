import type { ResolvedConfig } from "../config/resolved.js";
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
 * CardDAV contacts (the in-memory ProfileIndex, kept current by each sync) as an extra allowlist source.
 */
export class GuardStage {
  readonly #config: GuardConfig;
  readonly #store: StateStore;
  readonly #allowContacts: boolean;
  readonly #contacts: ((address: string) => boolean) | undefined;
  readonly #reports = new WeakMap<GuardInput, GuardReport>();

  constructor(o: {
    config: ResolvedConfig;
    store: StateStore;
    ownAddresses: string[];
    contacts?: (address: string) => boolean;
  }) {
    this.#store = o.store;
    this.#contacts = o.contacts;
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

  /** Contacts admit only when allow_contacts is on (the ProfileIndex answers synchronously). */
  #contactAdmits = (address: string) => this.#allowContacts && (this.#contacts?.(address) ?? false);

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
    if (report) recordAdmitted(input, report, this.#store.rates, this.#config.rateLimits);
  }
}
