/**
 * `${VAR}` and `${VAR:-default}` in YAML string values, replaced from the environment. A reference to
 * an unset variable without a default is an error naming the key and the variable (not its value).
 * `$${` escapes a literal `${`.
 */
export interface InterpolationIssue {
  path: string[];
  message: string;
}

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(
  value: unknown,
  env: Record<string, string | undefined>,
  path: string[] = [],
  issues: InterpolationIssue[] = [],
): { value: unknown; issues: InterpolationIssue[] } {
  if (typeof value === "string") {
    const out = value.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === "$${") return "${";
      const found = env[name!];
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      issues.push({ path, message: `refers to \${${name}}, which is not set in the environment` });
      return "";
    });
    return { value: out, issues };
  }
  if (Array.isArray(value)) {
    return { value: value.map((v, i) => interpolate(v, env, [...path, String(i)], issues).value), issues };
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, [...path, k], issues).value;
    return { value: out, issues };
  }
  return { value, issues };
}
