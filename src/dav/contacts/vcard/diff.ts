/** `diffProfiles`: what a sync changed, by profile id. Pure. */
import type { UserProfile } from "../../../contract/sinks.js";

export interface ProfileDiff {
  /** In `next`, not in `prev`. */
  added: UserProfile[];
  /** In both with different content; the `next` version. */
  changed: UserProfile[];
  /** In `prev`, not in `next`; the `prev` version (its `id` is what a sink removes). */
  removed: UserProfile[];
}

/** JSON with object keys sorted and undefined members dropped, so equal content compares equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const byId = (profiles: UserProfile[]): Map<string, UserProfile> => {
  // A later profile with the same id replaces an earlier one (two hrefs with one UID: the last wins).
  const map = new Map<string, UserProfile>();
  for (const profile of profiles) map.set(profile.id, profile);
  return map;
};

/** Compares two snapshots by id and content (order of the inputs does not matter). */
export function diffProfiles(prev: UserProfile[], next: UserProfile[]): ProfileDiff {
  const before = byId(prev);
  const after = byId(next);
  const diff: ProfileDiff = { added: [], changed: [], removed: [] };
  for (const [id, profile] of after) {
    const old = before.get(id);
    if (old === undefined) diff.added.push(profile);
    else if (canonical(old) !== canonical(profile)) diff.changed.push(profile);
  }
  for (const [id, profile] of before) {
    if (!after.has(id)) diff.removed.push(profile);
  }
  return diff;
}

/** True when the diff holds nothing. */
export const isEmptyDiff = (diff: ProfileDiff): boolean =>
  diff.added.length === 0 && diff.changed.length === 0 && diff.removed.length === 0;
