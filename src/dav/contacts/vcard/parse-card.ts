/**
 * `parseCard`: one address object (RFC 6352 §5.1: exactly one vCard) of any version into the one
 * ParsedCard model. Pure. A card that cannot be read throws an InputError naming the reason; the
 * sync caller skips it and keeps the others.
 */
import { InputError } from "../../../errors/index.js";
import { type ContentLine, parseContentLine, preview, unfoldLines } from "./content-lines.js";
import { normalizeBirthday, normalizeTimestamp } from "./dates.js";
import type { CardAddress, CardTyped, ParsedCard, VCardVersion } from "./types.js";
import { listValue, param, prefOf, structuredValue, textValue, transferDecoded, typesOf } from "./values.js";

const VERSIONS = new Set<VCardVersion>(["2.1", "3.0", "4.0"]);

const invalid = (message: string, details?: Record<string, unknown>): InputError =>
  new InputError(message, { code: "VCARD_INVALID", stage: "carddav", ...(details ? { details } : {}) });

const isMarker = (line: ContentLine, name: "BEGIN" | "END"): boolean =>
  line.name === name && line.value.trim().toUpperCase() === "VCARD";

/** The content lines of the one card (BEGIN/END excluded), nested 2.1 AGENT cards left out. */
export function cardLines(data: string): ContentLine[] {
  const lines: ContentLine[] = [];
  let state: "before" | "inside" | "after" = "before";
  let depth = 0;
  for (const { text, line } of unfoldLines(data)) {
    if (state === "before") {
      const parsed = parseContentLine(text, line);
      if (!isMarker(parsed, "BEGIN"))
        throw invalid(`content before BEGIN:VCARD on line ${line}: ${preview(text)}`);
      state = "inside";
      continue;
    }
    if (state === "after") {
      const parsed = parseContentLine(text, line);
      if (isMarker(parsed, "BEGIN"))
        throw invalid("more than one vCard in one address object (RFC 6352 §5.1)");
      throw invalid(`content after END:VCARD on line ${line}: ${preview(text)}`);
    }
    const parsed = parseContentLine(text, line);
    if (isMarker(parsed, "BEGIN")) depth++;
    else if (isMarker(parsed, "END")) {
      if (depth === 0) state = "after";
      else depth--;
    } else if (depth === 0) lines.push(parsed);
  }
  if (state === "before") throw invalid("no BEGIN:VCARD");
  if (state === "inside") throw invalid("the vCard has no END:VCARD (truncated?)");
  return lines;
}

/** Apple's built-in labels are written `_$!<Work>!$_`; custom labels as the user typed them. */
function decodeLabel(raw: string): string | undefined {
  const text = textValue(raw);
  if (text === "") return undefined;
  const builtIn = /^_\$!<(.+)>!\$_$/.exec(text);
  return builtIn ? builtIn[1]!.toLowerCase() : text;
}

function typed(line: ContentLine, labels: Map<string, string>): CardTyped {
  const meta: CardTyped = { types: typesOf(line) };
  const pref = prefOf(line);
  if (pref !== undefined) meta.pref = pref;
  if (line.group !== undefined) {
    meta.group = line.group;
    const label = labels.get(line.group);
    if (label !== undefined) meta.label = label;
  }
  return meta;
}

const stripScheme = (value: string, scheme: string): string =>
  value.toLowerCase().startsWith(`${scheme}:`) ? value.slice(scheme.length + 1).trim() : value;

const significantTypes = (types: string[]): string =>
  types
    .filter((t) => t !== "pref")
    .sort()
    .join(",");

/** Gives each 3.0/2.1 LABEL property to its ADR: same group, else the same TYPE set (Outlook). */
function attachLabels(
  addresses: CardAddress[],
  labels: { group?: string; types: string[]; text: string }[],
): void {
  for (const label of labels) {
    const target =
      (label.group !== undefined ? addresses.find((a) => a.group === label.group) : undefined) ??
      addresses.find(
        (a) => a.formatted === undefined && significantTypes(a.types) === significantTypes(label.types),
      );
    if (target && target.formatted === undefined) target.formatted = label.text;
  }
}

export function parseCard(data: string): ParsedCard {
  if (typeof data !== "string" || data.trim() === "") throw invalid("the address object is empty");
  const lines = cardLines(data);
  const warnings: string[] = [];
  const decoded = (line: ContentLine): string => {
    const { raw, warning } = transferDecoded(line);
    if (warning !== undefined) warnings.push(`${line.name} on line ${line.line}: ${warning}`);
    return raw;
  };

  const versionLine = lines.find((l) => l.name === "VERSION");
  const versionText = versionLine ? textValue(versionLine.value) : undefined;
  let version: VCardVersion = "3.0";
  if (versionText === undefined) warnings.push("no VERSION; read as 3.0");
  else if (VERSIONS.has(versionText as VCardVersion)) version = versionText as VCardVersion;
  else {
    throw new InputError(`unsupported vCard version ${preview(versionText)}`, {
      code: "VCARD_UNSUPPORTED_VERSION",
      stage: "carddav",
    });
  }

  const labels = new Map<string, string>();
  for (const line of lines) {
    if (line.name === "X-ABLABEL" && line.group !== undefined) {
      const label = decodeLabel(decoded(line));
      if (label !== undefined) labels.set(line.group, label);
    }
  }

  const card: ParsedCard = {
    version,
    nicknames: [],
    emails: [],
    phones: [],
    addresses: [],
    notes: [],
    categories: [],
    urls: [],
    warnings,
  };
  const addressLabels: { group?: string; types: string[]; text: string }[] = [];

  for (const line of lines) {
    switch (line.name) {
      case "FN": {
        const fn = textValue(decoded(line));
        if (fn !== "" && card.formattedName === undefined) card.formattedName = fn;
        break;
      }
      case "N": {
        if (card.name !== undefined) break;
        const [family = "", given = "", additional = "", prefix = "", suffix = ""] = structuredValue(
          decoded(line),
        );
        if ([family, given, additional, prefix, suffix].some((p) => p !== "")) {
          card.name = { family, given, additional, prefix, suffix };
        }
        break;
      }
      case "NICKNAME":
        card.nicknames.push(...listValue(decoded(line)));
        break;
      case "EMAIL": {
        const address = stripScheme(textValue(decoded(line)), "mailto");
        if (address !== "") card.emails.push({ address, ...typed(line, labels) });
        break;
      }
      case "TEL": {
        const number = stripScheme(textValue(decoded(line)), "tel");
        if (number !== "") card.phones.push({ number, ...typed(line, labels) });
        break;
      }
      case "ADR": {
        const [
          poBox = "",
          extended = "",
          street = "",
          locality = "",
          region = "",
          postalCode = "",
          country = "",
        ] = structuredValue(decoded(line));
        if ([poBox, extended, street, locality, region, postalCode, country].every((p) => p === "")) break;
        const address: CardAddress = {
          poBox,
          extended,
          street,
          locality,
          region,
          postalCode,
          country,
          ...typed(line, labels),
        };
        const formatted = param(line, "LABEL");
        // Some producers backslash-escape the line breaks of LABEL instead of RFC 6868's ^n.
        if (formatted !== undefined && formatted.trim() !== "") address.formatted = textValue(formatted);
        card.addresses.push(address);
        break;
      }
      case "LABEL": {
        const text = textValue(decoded(line));
        if (text === "") break;
        addressLabels.push({
          types: typesOf(line),
          text,
          ...(line.group !== undefined ? { group: line.group } : {}),
        });
        break;
      }
      case "ORG": {
        if (card.organization !== undefined) break;
        const [name = "", ...units] = structuredValue(decoded(line));
        const kept = units.filter((u) => u !== "");
        if (name !== "" || kept.length > 0) card.organization = { name, units: kept };
        break;
      }
      case "TITLE":
      case "ROLE": {
        const key = line.name === "TITLE" ? "title" : "role";
        const text = textValue(decoded(line));
        if (text !== "" && card[key] === undefined) card[key] = text;
        break;
      }
      case "BDAY": {
        if (card.birthday !== undefined) break;
        const text = textValue(decoded(line));
        const birthday = normalizeBirthday(text, param(line, "X-APPLE-OMIT-YEAR"));
        if (birthday !== undefined) card.birthday = birthday;
        else if (text !== "") warnings.push(`BDAY on line ${line.line} is not a day: ${preview(text)}`);
        break;
      }
      case "NOTE": {
        const text = textValue(decoded(line));
        if (text !== "") card.notes.push(text.replace(/\r\n?/g, "\n"));
        break;
      }
      case "CATEGORIES":
        for (const category of listValue(decoded(line))) {
          if (!card.categories.includes(category)) card.categories.push(category);
        }
        break;
      case "URL": {
        const url = textValue(decoded(line));
        if (url !== "") card.urls.push(url);
        break;
      }
      case "REV": {
        const text = textValue(decoded(line));
        const rev = normalizeTimestamp(text);
        if (rev !== undefined) card.rev = rev;
        else if (text !== "") warnings.push(`REV on line ${line.line} is not a timestamp: ${preview(text)}`);
        break;
      }
      case "UID": {
        const uid = textValue(decoded(line));
        if (uid !== "" && card.uid === undefined) card.uid = uid;
        break;
      }
      case "KIND":
      case "X-ADDRESSBOOKSERVER-KIND": {
        const kind = textValue(decoded(line)).toLowerCase();
        if (kind !== "") card.kind = kind;
        break;
      }
      case "PRODID": {
        const prodid = textValue(decoded(line));
        if (prodid !== "") card.prodid = prodid;
        break;
      }
      default:
        // PHOTO, LOGO, SOUND, KEY, X-* and the rest are not part of a profile; never decoded.
        break;
    }
  }
  attachLabels(card.addresses, addressLabels);
  return card;
}
