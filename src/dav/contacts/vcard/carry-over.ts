/**
 * What an update must not lose. The profile model holds names, emails, phones, addresses, ORG,
 * TITLE, BDAY, NOTE and CATEGORIES; a card also holds photos, instant-messaging handles, URLs,
 * related people, anniversaries and producer extensions. Rewriting a card from the model alone would
 * delete those from the user's address book, so `updateContact` carries every property the model
 * does not own over from the stored card, in vCard 4.0 syntax (inline binary excepted, see toVersion4).
 * Pure.
 */
import type { ContentLine } from "./content-lines.js";
import { cardLines } from "./parse-card.js";
import { param, transferDecoded } from "./values.js";

/** Properties the profile model owns: the writer emits them, the old ones are dropped. */
const OWNED = new Set([
  "VERSION",
  "PRODID",
  "REV",
  "UID",
  "FN",
  "N",
  "EMAIL",
  "TEL",
  "ADR",
  "LABEL",
  "ORG",
  "TITLE",
  "BDAY",
  "NOTE",
  "CATEGORIES",
]);

/** Group-label properties that belong to whatever else is in their group. */
const GROUP_LABELS = new Set(["X-ABLABEL", "X-ABADR"]);

/** RFC 6868 parameter value escaping, quoted when it holds a delimiter. */
function paramValue(value: string): string {
  const escaped = value.replace(/\^/g, "^^").replace(/\r?\n/g, "^n").replace(/"/g, "^'");
  return /[,;:]/.test(escaped) ? `"${escaped}"` : escaped;
}

function serialise(line: ContentLine, params: Map<string, string[]>, value: string): string {
  const head = line.group !== undefined ? `${line.group}.${line.name}` : line.name;
  const paramText = [...params]
    .filter(([, values]) => values.length > 0)
    .map(([name, values]) => `;${name}=${values.map(paramValue).join(",")}`)
    .join("");
  return `${head}${paramText}:${value}`;
}

/**
 * One stored content line in 4.0 syntax: quoted-printable decoded, CHARSET dropped, TYPE=pref as
 * PREF=1. Inline binary (PHOTO;ENCODING=b) keeps its 3.0 form, base64 unfolded: RFC 6350 §6.2.4 wants
 * a data: URI in 4.0, but Radicale (vobject) cuts a 4.0 data: URI at its comma and stores
 * `PHOTO:data:image/jpeg\;base64` without the picture (seen on the test stack's Radicale 3), while
 * the inline form the server stored in the first place comes back intact.
 */
function toVersion4(line: ContentLine): string {
  const params = new Map(line.params);
  const encoding = param(line, "ENCODING")?.toUpperCase();
  if (encoding === "B" || encoding === "BASE64") {
    params.set("ENCODING", ["b"]);
    params.delete("CHARSET");
    return serialise(line, params, line.value.replace(/\s+/g, ""));
  }
  const { raw } = transferDecoded(line);
  params.delete("ENCODING");
  params.delete("CHARSET");
  const types = params.get("TYPE");
  if (types?.some((t) => t.toLowerCase() === "pref")) {
    const kept = types.filter((t) => t.toLowerCase() !== "pref");
    if (kept.length > 0) params.set("TYPE", kept);
    else params.delete("TYPE");
    if (!params.has("PREF")) params.set("PREF", ["1"]);
  }
  return serialise(line, params, raw);
}

/**
 * The content lines of `existing` (any version) that the profile model does not own, as 4.0 lines
 * ready to go before END:VCARD. A group label goes with its group: dropped when the group holds an
 * owned property (`item1.EMAIL` + `item1.X-ABLabel`), kept otherwise (`item2.URL` + its label).
 */
export function carriedOverLines(existing: string): string[] {
  const lines = cardLines(existing);
  const ownedGroups = new Set(
    lines.filter((l) => l.group !== undefined && OWNED.has(l.name)).map((l) => l.group as string),
  );
  return lines
    .filter((line) => !OWNED.has(line.name))
    .filter(
      (line) => !(GROUP_LABELS.has(line.name) && line.group !== undefined && ownedGroups.has(line.group)),
    )
    .map(toVersion4);
}
