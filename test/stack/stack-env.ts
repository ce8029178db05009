/**
 * The stack's variables, typed: where they come from (test/stack/README.md, "stack.env") and what
 * they mean. Re-exported by test/support/stack.ts, which tests import.
 *
 * - `STACK` unset or `local`: the file `$STACK_DIR/stack.env` (default /tmp/email-channel-stack) that
 *   test/stack/up.sh writes.
 * - `STACK=external` or `STACK=stalwart`: the same `STACK_*` variables, from the file named by
 *   `STACK_ENV_FILE` when set (test/stack/stalwart/provision.sh writes one), overridden by any
 *   `STACK_*` variable of `process.env`.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const STACK_USER_NAMES = ["assistant", "hello", "support", "alice", "bob", "mallory"] as const;
export type StackUserName = (typeof STACK_USER_NAMES)[number];
export type StackKind = "local" | "external" | "stalwart";
export const STACK_SERVICES = [
  "oauth",
  "dovecot",
  "postfix",
  "radicale",
  "radicale-oauth",
  "xandikos",
] as const;
export type StackService = (typeof STACK_SERVICES)[number];
export type StackAction = "start" | "stop" | "restart" | "status";

export const DEFAULT_STACK_DIR = "/tmp/email-channel-stack";
export const STACK_SCRIPTS_DIR = fileURLToPath(new URL("./", import.meta.url));

export interface StackUser {
  name: StackUserName;
  /** Login name and mail address, e.g. "alice@example.test". */
  address: string;
  password: string;
  /** The user's OAuth 2.0 refresh token at the stack's authorization server (local stack only). */
  refreshToken?: string;
}

/** The stack's OAuth 2.0 authorization server (test/stack/oauth/server.py; local stack only). */
export interface StackOAuth {
  /** Base URL: token endpoint at `token`, test controls under `admin/`. */
  url: string;
  tokenUrl: string;
  /** The authorization endpoint (consent given at once for the stack user named by login_hint). */
  authUrl: string;
  clientId: string;
  clientSecret: string;
  /**
   * CalDAV/CardDAV for bearer tokens only (RFC 6750), as Google serves them: Radicale's collections
   * behind test/stack/oauth/dav_proxy.py, which checks each token here. Absent on an older stack.env.
   */
  davUrl?: string;
}

export interface StackEnv {
  kind: StackKind;
  /** True only for the local stack: ctl.sh can stop and start its daemons. */
  controllable: boolean;
  /** STACK_DIR of the local stack; undefined for an external one. */
  dir?: string;
  host: string;
  domain: string;
  /** Domain whose mail the MTA accepts and then bounces (local stack only). */
  bounceDomain?: string;
  /** An address the submission ports defer (450 at RCPT TO) while taking the others (local stack only). */
  deferredRecipient?: string;
  ports: { imap: number; imaps: number; submission: number; smtps: number; smtpInbound: number };
  radicaleUrl: string;
  xandikosUrl: string;
  /** JMAP session endpoint, when the server has one (Stalwart). */
  jmapUrl?: string;
  /** Xandikos serves one principal for everybody (local stack: "/user/"). */
  xandikosPrincipal?: string;
  /** PEM file of the CA that signed the servers' certificates; undefined when they are publicly trusted. */
  caFile?: string;
  master: { user: string; password: string; separator: string };
  /** Absent where the stack has no OAuth 2.0 server of ours (Stalwart, external). */
  oauth?: StackOAuth;
  users: Record<StackUserName, StackUser>;
  /** Every STACK_* variable as read, for handing to child processes. */
  vars: Record<string, string>;
}

const REQUIRED = [
  "STACK_HOST",
  "STACK_DOMAIN",
  "STACK_IMAP_PORT",
  "STACK_IMAPS_PORT",
  "STACK_SUBMISSION_PORT",
  "STACK_SMTPS_PORT",
  "STACK_SMTP_INBOUND_PORT",
  "STACK_RADICALE_URL",
  "STACK_XANDIKOS_URL",
  "STACK_MASTER_USER",
  "STACK_MASTER_PASSWORD",
  ...STACK_USER_NAMES.flatMap((n) => [`STACK_USER_${n.toUpperCase()}`, `STACK_PASS_${n.toUpperCase()}`]),
] as const;

export function stackKind(env: NodeJS.ProcessEnv = process.env): StackKind {
  const kind = env.STACK ?? "local";
  if (kind === "local" || kind === "external" || kind === "stalwart") return kind;
  throw new Error(`STACK=${kind} is not one of local, external, stalwart`);
}

export function stackDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.STACK_DIR || DEFAULT_STACK_DIR;
}

/** Parses KEY=VALUE lines; blank lines and # comments are skipped, values are taken verbatim. */
export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === "" || line.trimStart().startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`malformed line in stack.env: ${JSON.stringify(line)}`);
    vars[line.slice(0, eq).trim()] = line.slice(eq + 1);
  }
  return vars;
}

/** Reads the stack's variables (see the module comment) and checks that none is missing. */
export function loadStackEnv(env: NodeJS.ProcessEnv = process.env): StackEnv {
  const kind = stackKind(env);
  let vars: Record<string, string>;
  if (kind === "local") {
    const file = `${stackDir(env)}/stack.env`;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (cause) {
      throw new Error(`cannot read ${file}: run "sudo bash test/stack/up.sh" first, or set STACK=external`, {
        cause,
      });
    }
    vars = parseEnvFile(text);
  } else {
    vars = {};
    if (env.STACK_ENV_FILE) {
      try {
        vars = parseEnvFile(readFileSync(env.STACK_ENV_FILE, "utf8"));
      } catch (cause) {
        throw new Error(`cannot read STACK_ENV_FILE=${env.STACK_ENV_FILE}`, { cause });
      }
    }
    for (const [key, value] of Object.entries(env)) {
      if (key.startsWith("STACK_") && key !== "STACK_ENV_FILE" && value !== undefined) vars[key] = value;
    }
  }
  const missing = REQUIRED.filter((key) => !vars[key]);
  if (missing.length > 0) {
    throw new Error(`stack (${kind}) is missing ${missing.join(", ")}`);
  }
  const get = (key: (typeof REQUIRED)[number]): string => vars[key]!;
  const port = (key: (typeof REQUIRED)[number]): number => {
    const value = Number(get(key));
    if (!Number.isInteger(value) || value <= 0 || value > 65535)
      throw new Error(`${key}=${get(key)} is not a port`);
    return value;
  };
  const users = Object.fromEntries(
    STACK_USER_NAMES.map((name) => {
      const upper = name.toUpperCase();
      const user: StackUser = {
        name,
        address: vars[`STACK_USER_${upper}`]!,
        password: vars[`STACK_PASS_${upper}`]!,
        ...(vars[`STACK_REFRESH_${upper}`] ? { refreshToken: vars[`STACK_REFRESH_${upper}`] } : {}),
      };
      return [name, user];
    }),
  ) as Record<StackUserName, StackUser>;
  return {
    kind,
    controllable: kind === "local",
    dir: kind === "local" ? (vars.STACK_DIR ?? stackDir(env)) : undefined,
    host: get("STACK_HOST"),
    domain: get("STACK_DOMAIN"),
    bounceDomain: vars.STACK_BOUNCE_DOMAIN || undefined,
    deferredRecipient: vars.STACK_DEFERRED_RECIPIENT || undefined,
    ports: {
      imap: port("STACK_IMAP_PORT"),
      imaps: port("STACK_IMAPS_PORT"),
      submission: port("STACK_SUBMISSION_PORT"),
      smtps: port("STACK_SMTPS_PORT"),
      smtpInbound: port("STACK_SMTP_INBOUND_PORT"),
    },
    radicaleUrl: get("STACK_RADICALE_URL"),
    xandikosUrl: get("STACK_XANDIKOS_URL"),
    jmapUrl: vars.STACK_JMAP_URL || undefined,
    xandikosPrincipal: vars.STACK_XANDIKOS_PRINCIPAL || undefined,
    ...(vars.STACK_OAUTH_URL && vars.STACK_OAUTH_CLIENT_ID && vars.STACK_OAUTH_CLIENT_SECRET
      ? {
          oauth: {
            url: vars.STACK_OAUTH_URL,
            tokenUrl: new URL("token", vars.STACK_OAUTH_URL).href,
            authUrl: new URL("authorize", vars.STACK_OAUTH_URL).href,
            clientId: vars.STACK_OAUTH_CLIENT_ID,
            clientSecret: vars.STACK_OAUTH_CLIENT_SECRET,
            ...(vars.STACK_RADICALE_OAUTH_URL ? { davUrl: vars.STACK_RADICALE_OAUTH_URL } : {}),
          },
        }
      : {}),
    caFile: vars.STACK_CA_FILE || undefined,
    master: {
      user: get("STACK_MASTER_USER"),
      password: get("STACK_MASTER_PASSWORD"),
      // Dovecot's auth_master_user_separator; Stalwart impersonation uses "%".
      separator: vars.STACK_MASTER_SEPARATOR || "*",
    },
    users,
    vars,
  };
}
