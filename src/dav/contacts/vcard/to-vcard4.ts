/**
 * `profileToVCard4`: what the agent wants a contact to say, as a vCard 4.0 (RFC 6350) built with
 * vcard4, which owns the escaping. Pure (the clock is an option).
 */
import {
  AdrProperty,
  BdayProperty,
  CategoriesProperty,
  DateTimeType,
  EmailProperty,
  ExtendedProperty,
  FNProperty,
  Group,
  IntegerType,
  LabelParameter,
  NoteProperty,
  NProperty,
  OrgProperty,
  ParameterValueType,
  PrefParameter,
  ProdidProperty,
  RevProperty,
  SpecialValueType,
  TelProperty,
  TextListType,
  TextType,
  TitleProperty,
  TypeParameter,
  UIDProperty,
  URIType,
  VCARD,
} from "vcard4";
import type { UserProfile } from "../../../contract/sinks.js";
import { InputError } from "../../../errors/index.js";
import { carriedOverLines } from "./carry-over.js";
import { valueColon } from "./content-lines.js";
import { fold, unfold } from "./fold.js";

/** A contact as the agent writes it: the UserProfile fields it may set, plus the card's UID. */
export interface ContactInput {
  /** The card's UID; `createContact` generates `urn:uuid:<uuid>` when absent. */
  uid: string;
  /** FN. Required and not empty. */
  displayName: string;
  givenName?: string;
  familyName?: string;
  /** `type`: `work`/`home` become TYPE, anything else a label (Apple's `itemN.X-ABLabel`). */
  emails?: { address: string; type?: string; preferred?: boolean }[];
  /** `type`: comma-separated RFC 6350 words (`cell`, `work,fax`) become TYPE; anything else a label. */
  phones?: { number: string; type?: string; preferred?: boolean }[];
  /** Written as the ORG name, as one string. */
  organization?: string;
  title?: string;
  /** `YYYY-MM-DD`, or `--MM-DD` for a birthday without year. */
  birthday?: string;
  notes?: string;
  categories?: string[];
  addresses?: NonNullable<UserProfile["addresses"]>;
}

export interface VCard4Options {
  /** REV instant. Default: the current time. */
  now?: Date;
  /**
   * The card as it is stored now (any version). Properties the profile model does not own (PHOTO,
   * IMPP, URL, RELATED, X-*...) are carried over so an update does not delete them. Default: none.
   */
  existing?: string;
  /** PRODID. Default: `-//email-channel//vCard writer//EN`. */
  prodid?: string;
}

const TYPE_WORDS = /^(?:work|home|x-[a-z0-9-]+)$/;
const TEL_TYPE_WORDS = /^(?:work|home|text|voice|fax|cell|video|pager|textphone|main|x-[a-z0-9-]+)$/;

const invalid = (message: string): InputError =>
  new InputError(message, { code: "CONTACT_INVALID", stage: "carddav" });

/** Control characters are not allowed in vCard text (RFC 6350 §3.3 VALUE-CHAR); CRLF becomes LF. */
const clean = (value: string): string =>
  value
    .replace(/\r\n?/g, "\n")
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "")
    .trim();

const text = (value: string | undefined): TextType | undefined => {
  const cleaned = value === undefined ? "" : clean(value);
  return cleaned === "" ? undefined : new TextType(cleaned);
};

type Prop = ConstructorParameters<typeof VCARD>[0][number];
type Property = Exclude<Prop, Group>;
type Param = TypeParameter | PrefParameter;

/** Allocates `itemN` group names that the carried-over lines do not already use. */
function groupNamer(taken: Set<string>): () => string {
  let n = 0;
  return () => {
    let name: string;
    do name = `item${++n}`;
    while (taken.has(name));
    return name;
  };
}

/**
 * TYPE parameter when every word is an RFC 6350 type for this property, else undefined and the
 * caller writes the type as a group label instead (Apple reads that as a custom label; so do we).
 */
function typeParam(
  target: string,
  type: string | undefined,
  words: RegExp,
): TypeParameter | null | undefined {
  if (type === undefined || type.trim() === "") return null;
  const parts = type
    .split(",")
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== "");
  if (parts.length === 0) return null;
  if (!parts.every((w) => words.test(w))) return undefined;
  const values = parts.map((w) => new ParameterValueType(w));
  return new TypeParameter(target, values.length === 1 ? values[0]! : values);
}

/** One typed property, grouped with an X-ABLabel when its type is not an RFC 6350 word. */
function typedProp(
  build: (params: Param[]) => Property,
  target: string,
  type: string | undefined,
  preferred: boolean | undefined,
  words: RegExp,
  nextGroup: () => string,
): Prop {
  const params: Param[] = [];
  if (preferred) params.push(new PrefParameter(new IntegerType(1)));
  const typeParameter = typeParam(target, type, words);
  if (typeParameter) params.unshift(typeParameter);
  const prop = build(params);
  if (typeParameter !== undefined) return prop;
  return new Group(
    [prop, new ExtendedProperty("X-ABLABEL", [], new TextType(clean(type ?? "")))],
    nextGroup(),
  );
}

function birthdayValue(birthday: string): DateTimeType {
  const full = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birthday);
  const partial = /^--(\d{2})-?(\d{2})$/.exec(birthday);
  const value = full
    ? `${full[1]}${full[2]}${full[3]}`
    : partial
      ? `--${partial[1]}${partial[2]}`
      : undefined;
  if (value === undefined)
    throw invalid(`birthday must be YYYY-MM-DD or --MM-DD, got ${JSON.stringify(birthday)}`);
  try {
    return new DateTimeType("dateandortime", value);
  } catch {
    throw invalid(`birthday ${JSON.stringify(birthday)} is not a day of the calendar`);
  }
}

const uidValue = (uid: string): URIType | TextType =>
  /^[a-z][a-z0-9+.-]*:/i.test(uid) && URL.canParse(uid) ? new URIType(uid) : new TextType(uid);

const revValue = (now: Date): DateTimeType =>
  new DateTimeType(
    "timestamp",
    now
      .toISOString()
      .replace(/\.\d{3}Z$/, "Z")
      .replace(/[-:]/g, ""),
  );

export function profileToVCard4(input: ContactInput, options: VCard4Options = {}): string {
  const fn = text(input.displayName);
  if (fn === undefined) throw invalid("a contact needs a display name");
  const uid = clean(input.uid ?? "");
  if (uid === "") throw invalid("a contact needs a UID");

  const carried = options.existing === undefined ? [] : carriedOverLines(options.existing);
  const taken = new Set(
    carried.map((l) => /^([A-Za-z0-9-]+)\./.exec(l)?.[1]?.toLowerCase()).filter((g) => g),
  );
  const nextGroup = groupNamer(taken as Set<string>);

  const props: Prop[] = [
    new ProdidProperty([], new TextType(options.prodid ?? "-//email-channel//vCard writer//EN")),
    new UIDProperty([], uidValue(uid)),
    new FNProperty([], fn),
  ];
  const family = text(input.familyName);
  const given = text(input.givenName);
  if (family || given) {
    props.push(
      new NProperty([], new SpecialValueType("NProperty", [family, given, undefined, undefined, undefined])),
    );
  }
  for (const email of input.emails ?? []) {
    const address = clean(email.address);
    if (!/^[^\s@]+@[^\s@]+$/.test(address))
      throw invalid(`not an email address: ${JSON.stringify(email.address)}`);
    props.push(
      typedProp(
        (params) => new EmailProperty(params, new TextType(address)),
        "EmailProperty",
        email.type,
        email.preferred,
        TYPE_WORDS,
        nextGroup,
      ),
    );
  }
  for (const phone of input.phones ?? []) {
    const value = text(phone.number);
    if (value === undefined) throw invalid("a phone number is empty");
    props.push(
      typedProp(
        (params) => new TelProperty(params, value),
        "TelProperty",
        phone.type,
        phone.preferred,
        TEL_TYPE_WORDS,
        nextGroup,
      ),
    );
  }
  for (const adr of input.addresses ?? []) {
    const parts = [adr.street, adr.locality, adr.region, adr.postalCode, adr.country].map(text);
    if (parts.every((p) => p === undefined)) continue;
    const [street, locality, region, postalCode, country] = parts;
    const value = new SpecialValueType("AdrProperty", [
      undefined,
      undefined,
      street,
      locality,
      region,
      postalCode,
      country,
    ]);
    // vcard4 writes '"' in parameter values as ^’ (not RFC 6868's ^'); a label never needs one.
    const label = adr.label === undefined ? "" : clean(adr.label).replace(/"/g, "'");
    props.push(
      typedProp(
        (params) =>
          new AdrProperty(
            label === "" ? params : [...params, new LabelParameter(new ParameterValueType(label))],
            value,
          ),
        "AdrProperty",
        adr.type,
        undefined,
        TYPE_WORDS,
        nextGroup,
      ),
    );
  }
  const org = text(input.organization);
  if (org) props.push(new OrgProperty([], new SpecialValueType("OrgProperty", [org])));
  const title = text(input.title);
  if (title) props.push(new TitleProperty([], title));
  if (input.birthday !== undefined && input.birthday.trim() !== "") {
    props.push(new BdayProperty([], birthdayValue(input.birthday.trim())));
  }
  const notes = text(input.notes);
  if (notes) props.push(new NoteProperty([], notes));
  const categories = [...new Set((input.categories ?? []).map((c) => clean(c)).filter((c) => c !== ""))];
  if (categories.length > 0) {
    props.push(new CategoriesProperty([], new TextListType(categories.map((c) => new TextType(c)))));
  }
  props.push(new RevProperty([], revValue(options.now ?? new Date())));

  const written = new VCARD(props).repr();
  const withCarried =
    carried.length === 0
      ? written
      : written.replace(/END:VCARD\r\n$/, `${carried.join("\r\n")}\r\nEND:VCARD\r\n`);
  return fold(unfold(withCarried).map(withoutColonEscapes));
}

/**
 * vcard4 escapes ':' in text as `\:`, which RFC 6350 §3.4 does not define; Radicale (vobject) keeps
 * the backslash as data and stores `10\\:30` for "10:30". A colon needs no escape in a value, so the
 * escape is removed (an escaped backslash followed by a colon, `\\:`, stays as it is).
 */
function withoutColonEscapes(line: string): string {
  const colon = valueColon(line);
  if (colon < 0) return line;
  const value = line.slice(colon + 1).replace(/\\([\s\S])/g, (pair, c: string) => (c === ":" ? ":" : pair));
  return line.slice(0, colon + 1) + value;
}
