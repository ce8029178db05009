/**
 * Header hygiene. Everything the agent writes (subject, names, attachment filenames) and every id the
 * threading stage passes through ends up in a header field; none of it may add a field. Free text is
 * cleaned (control characters, CR and LF become spaces: a multi-line subject is a mistake, not an
 * attack we need to report), structured values (addresses, message ids, extra fields) are validated
 * and rejected with InputError.
 */
import { InputError } from "../errors/index.js";
import type { Addr } from "./types.js";

/** RFC 5322 §2.1.1: a line is at most 998 characters; a header value longer than that is no text. */
export const MAX_HEADER_TEXT = 998;
/** Display names longer than this are cut; no real name is that long. */
const MAX_NAME = 200;

// C0 controls (CR, LF, TAB included), DEL, C1 controls, and the Unicode line/paragraph separators,
// which some clients render as line breaks.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

function fail(code: string, message: string, details?: Record<string, unknown>): never {
  throw new InputError(message, { code, stage: "mime", ...(details ? { details } : {}) });
}

/** Free header text: control characters become spaces, runs of spaces collapse, ends are trimmed. */
export function cleanHeaderText(value: string, max = MAX_HEADER_TEXT): string {
  const cleaned = value.replace(CONTROL, " ").replace(/ {2,}/g, " ").trim();
  return cleaned.length > max ? `${cleaned.slice(0, max - 1).trimEnd()}…` : cleaned;
}

const LOCAL_ATOM = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+$/u;
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;

/**
 * A conservative addr-spec (RFC 5322 §3.4.1 dot-atom local part, RFC 6531 UTF-8 allowed): no quoted
 * local parts, no domain literals, no comments. Returns the address trimmed; throws InputError
 * `ADDRESS_INVALID` otherwise.
 */
export function validateAddress(address: string, field = "address"): string {
  const value = typeof address === "string" ? address.trim() : "";
  const at = value.lastIndexOf("@");
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  const ok =
    at > 0 &&
    value.length <= 254 &&
    local.length <= 64 &&
    local.split(".").every((part) => LOCAL_ATOM.test(part)) &&
    domain.length > 0 &&
    domain.split(".").every((label) => DOMAIN_LABEL.test(label));
  if (!ok)
    fail("ADDRESS_INVALID", `${field}: not a valid email address`, { field, address: value.slice(0, 100) });
  return value;
}

/** Validates the address and cleans the display name (absent or empty name -> no name). */
export function validateMailbox(mailbox: Addr, field: string): Addr {
  if (!mailbox || typeof mailbox !== "object")
    fail("ADDRESS_INVALID", `${field}: expected { address, name? }`);
  const address = validateAddress(mailbox.address, field);
  const name = typeof mailbox.name === "string" ? cleanHeaderText(mailbox.name, MAX_NAME) : "";
  return name ? { address, name } : { address };
}

// RFC 5322 §3.6.4 msg-id, read liberally the way ids occur in the wild: printable ASCII without
// spaces and without angle brackets. Anything else could not be written back without changing it.
const MSG_ID = /^[\x21-\x3b\x3d\x3f-\x7e]{1,250}$/;

/** Strips one pair of angle brackets; returns undefined when the id is not a usable msg-id. */
export function parseMessageId(value: string): string | undefined {
  if (typeof value !== "string") return undefined;
  const trimmed = value.trim();
  const bare = trimmed.startsWith("<") && trimmed.endsWith(">") ? trimmed.slice(1, -1) : trimmed;
  return MSG_ID.test(bare) ? bare : undefined;
}

/** Is this a msg-id the composer can write (the threading stage may use it to filter)? */
export function isValidMessageId(value: string): boolean {
  return parseMessageId(value) !== undefined;
}

/** `<id>` for a valid msg-id; InputError `MESSAGE_ID_INVALID` naming the field otherwise. */
export function formatMessageId(value: string, field: string, requireAt = false): string {
  const bare = parseMessageId(value);
  if (bare === undefined || (requireAt && !/^[^@]+@[^@]+$/.test(bare))) {
    fail("MESSAGE_ID_INVALID", `${field}: not a valid Message-ID`, { field });
  }
  return `<${bare}>`;
}

// Fields the composer writes itself: an extra header may not replace or duplicate them.
const OWNED_FIELDS = new Set([
  "from",
  "sender",
  "to",
  "cc",
  "bcc",
  "reply-to",
  "subject",
  "date",
  "message-id",
  "in-reply-to",
  "references",
  "mime-version",
  "auto-submitted",
  "x-auto-response-suppress",
  "return-path",
  "received",
  "dkim-signature",
]);

// RFC 5322 §3.6.8: field-name = 1*ftext, printable ASCII except ":".
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]{1,76}$/;

/**
 * Extra header fields: the name must be an RFC 5322 field name the composer does not own (and not
 * Content-*), the value must be single-line printable text (InputError `HEADER_INVALID` otherwise:
 * these come from code, not from the agent, so a bad one is a bug to surface, not to clean).
 */
export function validateExtraHeaders(headers: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!FIELD_NAME.test(name))
      fail("HEADER_INVALID", "extra header: invalid field name", { name: name.slice(0, 80) });
    if (OWNED_FIELDS.has(lower) || lower.startsWith("content-")) {
      fail("HEADER_INVALID", `extra header ${name}: the composer writes this field itself`, { name });
    }
    if (typeof value !== "string" || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
      fail("HEADER_INVALID", `extra header ${name}: value must be single-line text`, { name });
    }
    if (value.length > MAX_HEADER_TEXT)
      fail("HEADER_INVALID", `extra header ${name}: value too long`, { name });
    out[name] = value.trim();
  }
  return out;
}
