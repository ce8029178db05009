/**
 * One model for a vCard of any version (2.1, 3.0, 4.0): what `parseCard` returns and what
 * `cardToProfile` reads. Everything is already unescaped and decoded; nothing is a raw value.
 */

export type VCardVersion = "2.1" | "3.0" | "4.0";

/** What typed, repeatable properties (EMAIL, TEL, ADR) share. */
export interface CardTyped {
  /** Lower-cased TYPE values as written, `pref` included (`["internet", "work", "pref"]`). */
  types: string[];
  /** Preference, lower is more preferred: 4.0 PREF=1..100; 3.0/2.1 TYPE=pref reads as 1. */
  pref?: number;
  /**
   * The label of the property's group (Apple's `item1.X-ABLabel`), with Apple's built-in labels
   * decoded: `_$!<Work>!$_` -> `work`, a custom label (`Uni`) as written.
   */
  label?: string;
  /** Lower-cased group name, when the property had one. */
  group?: string;
}

export interface CardEmail extends CardTyped {
  address: string;
}

export interface CardPhone extends CardTyped {
  /** As written, minus a 4.0 `tel:` URI prefix. */
  number: string;
}

/** ADR (RFC 6350 §6.3.1): the seven components, empty strings when absent. */
export interface CardAddress extends CardTyped {
  poBox: string;
  extended: string;
  street: string;
  locality: string;
  region: string;
  postalCode: string;
  country: string;
  /** The delivery label: 4.0 LABEL parameter, or a 3.0/2.1 LABEL property that belongs to this ADR. */
  formatted?: string;
}

/** N (RFC 6350 §6.2.2), components as written (comma sub-lists kept as one string). */
export interface CardName {
  family: string;
  given: string;
  additional: string;
  prefix: string;
  suffix: string;
}

export interface ParsedCard {
  version: VCardVersion;
  /** UID as written (4.0 may write `urn:uuid:...`; kept verbatim, it is an identifier). */
  uid?: string;
  /** KIND (4.0) or Apple's X-ADDRESSBOOKSERVER-KIND (3.0), lower-cased; absent means an individual. */
  kind?: string;
  /** FN, when present and not empty. */
  formattedName?: string;
  name?: CardName;
  nicknames: string[];
  emails: CardEmail[];
  phones: CardPhone[];
  addresses: CardAddress[];
  organization?: { name: string; units: string[] };
  title?: string;
  role?: string;
  /** `YYYY-MM-DD`, or `--MM-DD` when the year is unknown (Apple's X-APPLE-OMIT-YEAR included). */
  birthday?: string;
  /** Every NOTE, in order. */
  notes: string[];
  /** CATEGORIES of every CATEGORIES property, trimmed and deduplicated, in order. */
  categories: string[];
  urls: string[];
  /** REV as an ISO 8601 UTC instant. */
  rev?: string;
  prodid?: string;
  /** Things that were read with a fallback or left out (unknown charset, unreadable BDAY...). */
  warnings: string[];
}
