import { readFile } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError } from "../errors/index.js";
import { ENV_IGNORED, ENV_KEYS, parseEnvValue } from "./env.js";
import { interpolate } from "./interpolate.js";
import { formatIssues, resolveConfig } from "./resolve.js";
import type { ResolvedConfig } from "./resolved.js";
import { type FileConfig, fileSchema } from "./schema.js";

export interface LoadConfigOptions {
  /** YAML file path; default: env EMAIL_CHANNEL_CONFIG; none = environment only. */
  file?: string;
  /** YAML text instead of a file (tests, embedding). */
  yaml?: string;
  /** The environment; default process.env. Its values override the file. */
  env?: Record<string, string | undefined>;
}

type Issue = { path: string; message: string };
type Plain = Record<string, unknown>;

const PREFIX = "channels.email";

function setPath(target: Plain, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== "object" || Array.isArray(next)) node[key] = {};
    node = node[key] as Plain;
  }
  node[path[path.length - 1]!] = value;
}

/** Parses the YAML text; a syntax error names the line, never echoes its text (it may hold a secret). */
function parseYaml(text: string, source: string): Plain {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const where = e.linePos?.[0] ? ` at line ${e.linePos[0].line}, column ${e.linePos[0].col}` : "";
    throw new ConfigError(`${source} is not valid YAML${where} (${e.code})`, [
      { path: source, message: e.code },
    ]);
  }
  const root = (doc.toJS() ?? {}) as unknown;
  if (typeof root !== "object" || Array.isArray(root) || root === null) {
    throw new ConfigError(`${source}: expected a mapping at the top level`, [
      { path: source, message: "expected a mapping" },
    ]);
  }
  const channels = (root as Plain).channels;
  if (channels === undefined) return {};
  if (typeof channels !== "object" || channels === null || Array.isArray(channels)) {
    throw new ConfigError("invalid configuration: channels: expected a mapping", [
      { path: "channels", message: "expected a mapping" },
    ]);
  }
  const email = (channels as Plain).email;
  if (email === undefined || email === null) return {};
  if (typeof email !== "object" || Array.isArray(email)) {
    throw new ConfigError(`invalid configuration: ${PREFIX}: expected a mapping`, [
      { path: PREFIX, message: "expected a mapping" },
    ]);
  }
  return email as Plain;
}

/** Overlays EMAIL_* variables; returns which key paths came from which variable. */
function overlayEnv(
  target: Plain,
  env: Record<string, string | undefined>,
  issues: Issue[],
): Map<string, string> {
  const origin = new Map<string, string>();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("EMAIL_") || raw === undefined || ENV_IGNORED.has(name)) continue;
    const key = ENV_KEYS.get(name);
    if (!key) {
      issues.push({
        path: name,
        message: "unknown variable (see .env.example for the supported EMAIL_* names)",
      });
      continue;
    }
    // An empty value is "unset" except where CONTRACT.md gives empty a meaning (allowed senders = nobody).
    if (raw.trim() === "" && name !== "EMAIL_ALLOWED_SENDERS") continue;
    const parsed = parseEnvValue(raw, key.type);
    if ("error" in parsed) {
      issues.push({ path: `${PREFIX}.${key.path.join(".")} (${name})`, message: parsed.error });
      continue;
    }
    setPath(target, key.path, parsed.value);
    origin.set(key.path.join("."), name);
  }
  return origin;
}

function zodIssues(error: z.ZodError, origin: Map<string, string>, raw: Plain): Issue[] {
  return error.issues.map((issue) => {
    const keyPath = issue.path.map(String);
    // Point at the key the user wrote: for an unknown key zod reports the parent plus `keys`.
    const unknown = issue.code === "unrecognized_keys" ? (issue as { keys: string[] }).keys : undefined;
    const full = [PREFIX, ...keyPath].join(".");
    const env = origin.get(keyPath.join(".")) ?? origin.get(keyPath.slice(0, 1).join("."));
    const path = unknown ? unknown.map((k) => `${full}.${k}`).join(", ") : env ? `${full} (${env})` : full;
    const present = keyPath.reduce<unknown>(
      (node, k) => (node && typeof node === "object" ? (node as Plain)[k] : undefined),
      raw,
    );
    const missing = issue.code === "invalid_type" && present === undefined;
    const envName = [...ENV_KEYS].find(([, k]) => k.path.join(".") === keyPath.join("."))?.[0];
    const message = unknown
      ? "unknown key"
      : missing
        ? `required: set ${keyPath.join(".")} under channels.email${envName ? ` or ${envName}` : ""}`
        : issue.message;
    return { path, message };
  });
}

/** Removes any secret value that might have found its way into a message (defence in depth). */
function scrub(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 3) out = out.split(s).join("[redacted]");
  return out;
}

function secretsOf(raw: Plain, env: Record<string, string | undefined>): string[] {
  const found: string[] = [];
  for (const [name, key] of ENV_KEYS) if (key.secret && env[name]) found.push(env[name]!);
  const walk = (v: unknown, k = ""): void => {
    if (typeof v === "string" && /pass|secret|token/i.test(k)) found.push(v);
    else if (Array.isArray(v)) for (const x of v) walk(x, k);
    else if (v && typeof v === "object") for (const [kk, vv] of Object.entries(v)) walk(vv, kk);
  };
  walk(raw);
  return found;
}

/**
 * Loads the configuration: YAML (`channels.email`, `${VAR}` interpolated), then the environment, which
 * wins; validates with one zod schema and resolves it. Throws ConfigError naming every bad key.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const { data, ca, secrets } = await loadFileConfig(options);
  try {
    return resolveConfig(data, ca);
  } catch (error) {
    if (error instanceof ConfigError) {
      const clean = error.issues.map((i) => ({ path: i.path, message: scrub(i.message, secrets) }));
      throw new ConfigError(scrub(error.message, secrets), clean);
    }
    throw error;
  }
}

/**
 * The validated configuration before it is resolved into accounts (what `email-channel oauth2-login`
 * reads: an account may not have its refresh token yet). `ca` is the CA file's contents.
 */
export async function loadFileConfig(
  options: LoadConfigOptions = {},
): Promise<{ data: FileConfig; ca?: string; secrets: string[] }> {
  const env = options.env ?? process.env;
  const file = options.file ?? env.EMAIL_CHANNEL_CONFIG;
  let text = options.yaml;
  if (text === undefined && file) {
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      throw new ConfigError(
        `cannot read the config file ${file}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
        [{ path: file, message: "cannot read" }],
        error,
      );
    }
  }
  const fromFile = text !== undefined ? parseYaml(text, file ?? "config") : {};
  const issues: Issue[] = [];
  const interpolated = interpolate(fromFile, env, [PREFIX]);
  for (const i of interpolated.issues) issues.push({ path: i.path.join("."), message: i.message });
  const merged = interpolated.value as Plain;
  const origin = overlayEnv(merged, env, issues);
  const secrets = secretsOf(merged, env);
  const parsed = fileSchema.safeParse(merged);
  if (!parsed.success) issues.push(...zodIssues(parsed.error, origin, merged));
  if (issues.length > 0 || !parsed.success) {
    const clean = issues.map((i) => ({ path: i.path, message: scrub(i.message, secrets) }));
    throw new ConfigError(scrub(formatIssues(clean), secrets), clean);
  }
  let ca: string | undefined;
  if (parsed.data.tls_ca_file) {
    const caPath = resolvePath(parsed.data.tls_ca_file);
    try {
      ca = await readFile(caPath, "utf8");
    } catch (error) {
      const env = origin.get("tls_ca_file");
      throw new ConfigError(
        `invalid configuration: ${PREFIX}.tls_ca_file${env ? ` (${env})` : ""}: cannot read ${caPath} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        [{ path: `${PREFIX}.tls_ca_file`, message: "cannot read the CA file" }],
        error,
      );
    }
    if (!ca.includes("-----BEGIN CERTIFICATE-----")) {
      throw new ConfigError(
        `invalid configuration: ${PREFIX}.tls_ca_file: expected a PEM file with a CERTIFICATE block`,
        [{ path: `${PREFIX}.tls_ca_file`, message: "expected PEM" }],
      );
    }
  }
  return { data: parsed.data, ...(ca !== undefined ? { ca } : {}), secrets };
}
