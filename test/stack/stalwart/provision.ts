/**
 * The JMAP half of test/stack/stalwart/provision.sh: configures a Stalwart v0.16 server through its
 * management API (POST /api, capability urn:stalwart:jmap, object types prefixed "x:") and writes
 * $STACK_DIR/stack.env. Inputs come from the environment provision.sh sets up.
 *
 * NOT exercised by this repository's CI (no Docker engine there). Every call follows the object
 * reference at https://stalw.art/docs/ref/ (Bootstrap, Domain, Account, Certificate, SystemSettings,
 * MtaStageRcpt); where the documentation leaves a shape open, the comment says what was assumed.
 */
import { readFileSync, writeFileSync } from "node:fs";

type Invocation = [name: string, args: Record<string, unknown>, callId: string];

const DOMAIN = "example.test";
const HOSTNAME = "mail.example.test";
const USERS = ["assistant", "hello", "support", "alice", "bob", "mallory"] as const;
const MASTER = "master";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run test/stack/stalwart/provision.sh)`);
  return value;
}

const baseUrl = required("STALWART_URL");
const stackDir = required("STACK_DIR");
// The recovery administrator: honoured during bootstrap and, per the v0.16 recovery-mode page, while
// the server runs normally too.
const authorization = `Basic ${Buffer.from(`admin:${required("STALWART_ADMIN_PASSWORD")}`).toString("base64")}`;

async function jmap(calls: Invocation[]): Promise<Invocation[]> {
  const response = await fetch(new URL("/api", baseUrl), {
    method: "POST",
    headers: { Authorization: authorization, "Content-Type": "application/json" },
    body: JSON.stringify({ using: ["urn:ietf:params:jmap:core", "urn:stalwart:jmap"], methodCalls: calls }),
  });
  if (!response.ok) throw new Error(`POST /api: HTTP ${response.status} ${await response.text()}`);
  const body = (await response.json()) as { methodResponses: Invocation[] };
  for (const [name, args, id] of body.methodResponses) {
    if (name === "error") throw new Error(`${id}: ${JSON.stringify(args)}`);
    // RFC 8620 §5.3: a /set reports per-object failures beside the successes.
    for (const key of ["notCreated", "notUpdated", "notDestroyed"]) {
      const failed = args[key] as Record<string, unknown> | null | undefined;
      if (failed && Object.keys(failed).length > 0)
        throw new Error(`${id} ${key}: ${JSON.stringify(failed)}`);
    }
  }
  return body.methodResponses;
}

async function list(type: string, properties: string[]): Promise<Record<string, unknown>[]> {
  const [[, args]] = (await jmap([[`x:${type}/get`, { ids: null, properties }, "list"]])) as [Invocation];
  return (args.list as Record<string, unknown>[]) ?? [];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** First start: the server only knows the Bootstrap object until the setup has been submitted. */
async function bootstrapIfNeeded(): Promise<void> {
  const inBootstrap = await jmap([["x:Bootstrap/get", { ids: ["singleton"] }, "b"]]).then(
    () => true,
    () => false,
  );
  if (!inBootstrap) return;
  console.error("[stalwart] bootstrap: hostname, default domain, no ACME, no DKIM");
  await jmap([
    [
      "x:Bootstrap/set",
      {
        update: {
          singleton: {
            serverHostname: HOSTNAME,
            defaultDomain: DOMAIN,
            // A loopback test server: no Let's Encrypt; the stack CA's certificate is installed below.
            requestTlsCertificate: false,
            generateDkimKeys: false,
          },
        },
      },
      "b",
    ],
  ]);
  // The server writes config.json and restarts into normal operation.
  for (let i = 0; i < 120; i++) {
    await sleep(1000);
    if (
      await list("Domain", ["name"]).then(
        () => true,
        () => false,
      )
    ) {
      return;
    }
  }
  throw new Error("Stalwart did not leave bootstrap mode within 2 minutes");
}

async function domainId(): Promise<string> {
  const found = (await list("Domain", ["name"])).find((d) => d.name === DOMAIN);
  if (found) return String(found.id);
  const [[, args]] = (await jmap([["x:Domain/set", { create: { d: { name: DOMAIN } } }, "d"]])) as [
    Invocation,
  ];
  return String((args.created as Record<string, { id: string }>).d!.id);
}

function secret(name: string): string {
  return required(name === MASTER ? "STACK_MASTER_PASSWORD" : `STACK_PASS_${name.toUpperCase()}`);
}

async function ensureAccounts(domain: string): Promise<void> {
  const existing = new Map(
    (await list("Account", ["name", "domainId"]))
      .filter((a) => a.domainId === domain)
      .map((a) => [String(a.name), String(a.id)]),
  );
  const create: Record<string, unknown> = {};
  const update: Record<string, unknown> = {};
  for (const name of [...USERS, MASTER]) {
    const credentials = [{ "@type": "Password", secret: secret(name) }];
    // Impersonation ("<target>%<impersonator>" logins) is the "impersonate" permission; the list form
    // of enabledPermissions is an assumption from the permissions page.
    const permissions =
      name === MASTER ? { "@type": "Merge", enabledPermissions: ["impersonate"] } : { "@type": "Inherit" };
    const id = existing.get(name);
    if (id) {
      update[id] = { credentials, permissions };
    } else {
      create[name] = {
        "@type": "User",
        name,
        domainId: domain,
        credentials,
        roles: { "@type": "User" },
        permissions,
        encryptionAtRest: { "@type": "Disabled" },
      };
    }
  }
  await jmap([["x:Account/set", { create, update }, "a"]]);
}

/** The stack CA's server certificate becomes the default (clients connect to 127.0.0.1, without SNI). */
async function installCertificate(): Promise<void> {
  const certificate = readFileSync(`${stackDir}/tls/server.crt`, "utf8");
  const privateKey = readFileSync(`${stackDir}/tls/server.key`, "utf8");
  const ours = (await list("Certificate", ["issuer"])).find((c) =>
    String(c.issuer).includes("email-channel test CA"),
  );
  const value = {
    certificate: { "@type": "Text", value: certificate },
    privateKey: { "@type": "Text", secret: privateKey },
  };
  const calls: Invocation[] = ours
    ? [["x:Certificate/set", { update: { [String(ours.id)]: value } }, "c"]]
    : [["x:Certificate/set", { create: { cert: value } }, "c"]];
  calls.push([
    "x:SystemSettings/set",
    { update: { singleton: { defaultCertificateId: ours ? String(ours.id) : "#cert" } } },
    "s",
  ]);
  await jmap(calls);
}

/** Nothing leaves the machine: no relaying, not even for authenticated users; no tarpit on errors. */
async function refuseRelaying(): Promise<void> {
  await jmap([
    [
      "x:MtaStageRcpt/set",
      { update: { singleton: { allowRelaying: { else: "false" }, waitOnFail: { else: "0s" } } } },
      "r",
    ],
  ]);
}

function writeStackEnv(): void {
  const port = (name: string, fallback: string) => process.env[name] || fallback;
  const url = `${baseUrl}/dav/`;
  const lines = [
    "# Written by test/stack/stalwart/provision.sh. Use with STACK=stalwart STACK_ENV_FILE=<this file>.",
    "STACK_KIND=stalwart",
    `STACK_DIR=${stackDir}`,
    "STACK_HOST=127.0.0.1",
    `STACK_DOMAIN=${DOMAIN}`,
    `STACK_MAIL_HOSTNAME=${HOSTNAME}`,
    `STACK_IMAP_PORT=${port("STALWART_IMAP_PORT", "4143")}`,
    `STACK_IMAPS_PORT=${port("STALWART_IMAPS_PORT", "4993")}`,
    `STACK_SUBMISSION_PORT=${port("STALWART_SUBMISSION_PORT", "4587")}`,
    `STACK_SMTPS_PORT=${port("STALWART_SMTPS_PORT", "4465")}`,
    `STACK_SMTP_INBOUND_PORT=${port("STALWART_SMTP_PORT", "4025")}`,
    // One DAV server plays both parts: the suites written for Radicale and Xandikos discover
    // principals and calendars, so they run unchanged.
    `STACK_RADICALE_URL=${url}`,
    `STACK_XANDIKOS_URL=${url}`,
    `STACK_JMAP_URL=${baseUrl}/jmap`,
    `STACK_CA_FILE=${stackDir}/tls/ca.crt`,
    `STACK_MASTER_USER=${MASTER}@${DOMAIN}`,
    `STACK_MASTER_PASSWORD=${secret(MASTER)}`,
    // Stalwart's impersonation login is "<target>%<impersonator>".
    "STACK_MASTER_SEPARATOR=%",
    ...USERS.flatMap((name) => [
      `STACK_USER_${name.toUpperCase()}=${name}@${DOMAIN}`,
      `STACK_PASS_${name.toUpperCase()}=${secret(name)}`,
    ]),
  ];
  writeFileSync(`${stackDir}/stack.env`, `${lines.join("\n")}\n`, { mode: 0o644 });
}

await bootstrapIfNeeded();
const domain = await domainId();
await ensureAccounts(domain);
await installCertificate();
await refuseRelaying();
writeStackEnv();
console.error(`[stalwart] provisioned ${DOMAIN}: ${[...USERS, MASTER].join(", ")}`);
