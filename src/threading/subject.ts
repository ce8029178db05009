/**
 * Reply subjects. RFC 5322 §3.6.5 suggests "Re: " for replies; clients localise it and some stack it
 * ("Re: AW: Re: x"), so a reply strips every known reply prefix and adds one "Re: ".
 */

/**
 * Reply prefixes clients write, matched case-insensitively and followed by ":" (or the full-width
 * "：" of CJK clients), optionally with a counter as in "Re[2]:" or "Re(2):":
 * Re (English, and most clients), AW (German "Antwort"), SV/Sv (Scandinavian "svar"), VS (Finnish
 * "vastaus"), Antw (Dutch), Odp (Polish), R and Rif (Italian), Réf (French), RES (Portuguese),
 * Ynt (Turkish "yanıt"), ΑΠ and ΣΧΕΤ (Greek), Atb (Latvian), Vá (Hungarian), 回复/答复/回覆 (Chinese).
 * Not "Ref": English business mail opens subjects with it ("Ref: Invoice 4411"), and no client
 * writes it as a reply prefix; stripping it would lose a word of the subject.
 */
export const REPLY_PREFIXES: readonly string[] = [
  "re",
  "aw",
  "sv",
  "vs",
  "antw",
  "odp",
  "r",
  "rif",
  "réf",
  "res",
  "ynt",
  "απ",
  "σχετ",
  "atb",
  "vá",
  "回复",
  "答复",
  "回覆",
];

/**
 * Forward prefixes, stripped only by `normaliseSubject` (a reply to "Fwd: x" stays "Re: Fwd: x", as
 * Gmail, Outlook and Apple Mail write it): Fwd/Fw (English), WG (German), TR (French), I (Italian),
 * RV (Spanish), ENC (Portuguese), PD (Polish), Doorst (Dutch), VB (Swedish/Danish "vidarebefordrat"),
 * VL (Finnish), İLT (Turkish), 转发/轉寄/转寄 (Chinese).
 */
export const FORWARD_PREFIXES: readonly string[] = [
  "fwd",
  "fw",
  "wg",
  "tr",
  "i",
  "rv",
  "enc",
  "pd",
  "doorst",
  "vb",
  "vl",
  "İlt",
  "ilt",
  "转发",
  "轉寄",
  "转寄",
];

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function prefixPattern(words: readonly string[]): RegExp {
  // Longest first so that "res" is not read as "re" + "s".
  const alternatives = [...words].sort((a, b) => b.length - a.length).map(escapeRegex);
  return new RegExp(`^\\s*(?:${alternatives.join("|")})\\s*(?:\\[\\d+\\]|\\(\\d+\\))?\\s*[:：]\\s*`, "iu");
}

const REPLY_RE = prefixPattern(REPLY_PREFIXES);
const ANY_RE = prefixPattern([...REPLY_PREFIXES, ...FORWARD_PREFIXES]);
/** A list tag such as "[skynet-help]" or "[list 123]", as mailing lists put before the subject. */
const LIST_TAG_RE = /^\s*\[[^\][]{1,64}\]\s*/u;

/** The subject without any leading reply prefixes ("Re: AW: Re: x" -> "x"). Forward prefixes stay. */
export function stripReplyPrefixes(subject: string): string {
  let s = subject ?? "";
  for (let i = 0; i < 50; i++) {
    const next = s.replace(REPLY_RE, "");
    if (next === s) break;
    s = next;
  }
  return s.trim();
}

/**
 * The subject of a reply: exactly one "Re: " before the subject stripped of reply prefixes.
 * An empty subject gives "Re: " followed by nothing, trimmed to "Re:"; clients do the same.
 */
export function replySubject(subject: string | undefined | null): string {
  const base = stripReplyPrefixes(subject ?? "");
  return base ? `Re: ${base}` : "Re:";
}

/**
 * A comparison key for subjects: Unicode NFKC, reply and forward prefixes and mailing-list tags
 * removed wherever they are stacked at the start ("[list] Re: Fwd: x" -> "x"), whitespace collapsed,
 * lower-cased. Two messages of one thread normally share this key; it is a hint, never an identity.
 */
export function normaliseSubject(subject: string | undefined | null): string {
  let s = (subject ?? "").normalize("NFKC");
  for (let i = 0; i < 50; i++) {
    const next = s.replace(ANY_RE, "").replace(LIST_TAG_RE, "");
    if (next === s) break;
    s = next;
  }
  return s.replace(/\s+/g, " ").trim().toLowerCase();
}
