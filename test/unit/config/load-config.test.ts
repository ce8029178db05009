import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { ConfigError } from "../../../src/errors/index.js";

const FIXTURE = new URL("../../fixtures/config/contract.yaml", import.meta.url).pathname;
const SECRET = "s3cr3t-Pa55word!";

/** The minimal valid environment-only configuration. */
const baseEnv = {
  EMAIL_IMAP_SERVER: "imap.example.test:993",
  EMAIL_SMTP_SERVER: "smtp.example.test:587",
  EMAIL_IMAP_USERNAME: "hello@example.test",
  EMAIL_IMAP_PASSWORD: SECRET,
  EMAIL_MONITORED_ACCOUNTS: "hello@example.test",
};

async function rejection(options: Parameters<typeof loadConfig>[0]): Promise<ConfigError> {
  try {
    await loadConfig(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected the configuration to be rejected");
}

describe("loadConfig: CONTRACT.md keys", () => {
  it("reads every environment key of the contract verbatim", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ec-cfg-"));
    const caFile = join(dir, "ca.pem");
    writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    const cfg = await loadConfig({
      env: {
        EMAIL_IMAP_SERVER: "localhost:993",
        EMAIL_SMTP_SERVER: "localhost:587",
        EMAIL_IMAP_USERNAME: "hello@x.test",
        EMAIL_IMAP_PASSWORD: SECRET,
        EMAIL_SMTP_USERNAME: "smtp-user",
        EMAIL_SMTP_PASSWORD: "smtp-secret-1",
        EMAIL_IMAP_USE_TLS: "true",
        EMAIL_SMTP_USE_TLS: "true",
        EMAIL_CALDAV_URL: "http://localhost:8008/dav/cal/",
        EMAIL_CARDDAV_URL: "http://localhost:8008/dav/card/",
        EMAIL_MONITORED_ACCOUNTS: "Hello@X.test",
        EMAIL_POLL_INTERVAL: "45",
        EMAIL_ALLOWED_SENDERS: "alice@x.test, *@example.org",
        EMAIL_STATE_DIR: "/var/lib/ec",
        EMAIL_TLS_CA_FILE: caFile,
        EMAIL_TLS_REJECT_UNAUTHORIZED: "true",
        EMAIL_TIMEZONE: "Europe/Berlin",
      },
    });
    expect(cfg.imap).toEqual({ host: "localhost", port: 993, tls: "implicit" });
    expect(cfg.smtp).toMatchObject({ host: "localhost", port: 587, tls: "starttls" });
    expect(cfg.accounts).toHaveLength(1);
    const [acct] = cfg.accounts;
    expect(acct!.address).toBe("hello@x.test");
    expect(acct!.imap.username).toBe("hello@x.test");
    expect(acct!.imap.password?.reveal()).toBe(SECRET);
    expect(acct!.smtp.username).toBe("smtp-user");
    expect(acct!.smtp.password?.reveal()).toBe("smtp-secret-1");
    expect(cfg.caldavUrl).toBe("http://localhost:8008/dav/cal/");
    expect(cfg.carddavUrl).toBe("http://localhost:8008/dav/card/");
    expect(cfg.watch.pollIntervalMs).toBe(45_000);
    expect(cfg.allowedSenders).toEqual(["alice@x.test", "*@example.org"]);
    expect(cfg.stateDir).toBe("/var/lib/ec");
    expect(cfg.tls.ca).toContain("BEGIN CERTIFICATE");
    expect(cfg.tls.rejectUnauthorized).toBe(true);
    expect(cfg.timezone).toBe("Europe/Berlin");
    // Secrets never print.
    expect(JSON.stringify(cfg)).not.toContain(SECRET);
    expect(inspect(cfg, { depth: 10 })).not.toContain(SECRET);
  });

  it("reads the contract's config.yaml shape, with a master-user login template", async () => {
    const cfg = await loadConfig({ file: FIXTURE, env: { MASTER_PASS: SECRET } });
    expect(cfg.enabled).toBe(true);
    expect(cfg.imap).toEqual({ host: "localhost", port: 993, tls: "implicit" });
    expect(cfg.smtp).toMatchObject({ port: 587, tls: "starttls" });
    expect(cfg.accounts.map((a) => a.imap.username)).toEqual([
      "hello@cassey.ai*master",
      "alice@cassey.ai*master",
    ]);
    expect(cfg.accounts.every((a) => a.imap.password?.reveal() === SECRET)).toBe(true);
    expect(cfg.caldavUrl).toBe("http://localhost:8008");
    expect(cfg.watch.pollIntervalMs).toBe(30_000);
    // Defaults of the library's own keys.
    expect(cfg.allowedSenders).toEqual([]);
    expect(cfg.stateDir).toBe("./.email-channel");
    expect(cfg.tls.rejectUnauthorized).toBe(true);
    expect(cfg.senderAuth.policy).toBe("off");
    expect(cfg.watch.initialSync).toBe("unseen");
  });

  it("lets the environment win over the file", async () => {
    const cfg = await loadConfig({
      file: FIXTURE,
      env: {
        MASTER_PASS: SECRET,
        EMAIL_IMAP_SERVER: "mail.example.test:143",
        EMAIL_POLL_INTERVAL: "5",
        EMAIL_IMAP_USE_TLS: "false",
      },
    });
    expect(cfg.imap).toEqual({ host: "mail.example.test", port: 143, tls: "opportunistic" });
    expect(cfg.watch.pollIntervalMs).toBe(5000);
    expect(cfg.smtp.port).toBe(587);
  });

  it("maps *_USE_TLS to implicit TLS on 993/465 and required STARTTLS elsewhere", async () => {
    const a = await loadConfig({ env: { ...baseEnv, EMAIL_SMTP_SERVER: "smtp.example.test:465" } });
    expect(a.smtp.tls).toBe("implicit");
    const b = await loadConfig({ env: { ...baseEnv, EMAIL_IMAP_SERVER: "imap.example.test:3143" } });
    expect(b.imap.tls).toBe("starttls");
    const c = await loadConfig({ env: { ...baseEnv, EMAIL_IMAP_USE_TLS: "false", EMAIL_SMTP_USE_TLS: "0" } });
    expect([c.imap.tls, c.smtp.tls]).toEqual(["opportunistic", "opportunistic"]);
  });

  it("interpolates ${VAR} and ${VAR:-default}, and $${ escapes", async () => {
    const cfg = await loadConfig({
      yaml: [
        "channels:",
        "  email:",
        '    imap_server: "${IMAP_HOST}:${IMAP_PORT:-3993}"',
        '    smtp_server: "${SMTP:-localhost:3587}"',
        "    monitored_accounts:",
        "      - address: hello@example.test",
        '        name: "Cost $${not-a-var}"',
        '        username: "${USER_NAME}"',
        '        password: "${USER_PASS}"',
      ].join("\n"),
      env: { IMAP_HOST: "127.0.0.1", USER_NAME: "hello", USER_PASS: SECRET },
    });
    expect(cfg.imap).toMatchObject({ host: "127.0.0.1", port: 3993 });
    expect(cfg.smtp).toMatchObject({ host: "localhost", port: 3587 });
    expect(cfg.accounts[0]!.name).toBe("Cost ${not-a-var}");
    expect(cfg.accounts[0]!.imap.username).toBe("hello");
    expect(cfg.accounts[0]!.smtp.password?.reveal()).toBe(SECRET);
  });

  it("keeps per-account credentials apart", async () => {
    const cfg = await loadConfig({
      yaml: `channels:
  email:
    imap_server: imap.example.test:993
    smtp_server: smtp.example.test:465
    monitored_accounts:
      - { address: hello@example.test, username: hello, password: pw-hello-1 }
      - { address: support@example.test, username: support, password: pw-support-1, smtp_username: s2, smtp_password: pw-s2-1, mailboxes: [INBOX, Tickets] }
`,
      env: {},
    });
    expect(cfg.accounts.map((a) => [a.imap.username, a.smtp.username, a.mailboxes])).toEqual([
      ["hello", "hello", ["INBOX"]],
      ["support", "s2", ["INBOX", "Tickets"]],
    ]);
    expect(cfg.accounts[1]!.smtp.password?.reveal()).toBe("pw-s2-1");
  });

  it("pairs each account's SMTP password with its SMTP user name", async () => {
    const relay = "    smtp_username: relay\n    smtp_password: pw-relay-1\n";
    const yaml = (accounts: string, extra = "") => `channels:
  email:
    imap_server: imap.example.test:993
    smtp_server: smtp.example.test:465
${extra}    monitored_accounts:
${accounts}`;
    const smtpOf = (cfg: Awaited<ReturnType<typeof loadConfig>>) =>
      cfg.accounts.map((a) => [a.smtp.username, a.smtp.password?.reveal()]);
    // Several accounts with the top-level login (CONTRACT.md's EMAIL_SMTP_USERNAME / _PASSWORD): a
    // relay login every account without its own sends through, user name and password together.
    const twoAccounts = `      - { address: hello@example.test, username: hello, password: pw-hello-1 }
      - { address: support@example.test, username: support, password: pw-support-1, smtp_username: s2, smtp_password: pw-s2-1 }
`;
    expect(smtpOf(await loadConfig({ yaml: yaml(twoAccounts, relay), env: {} }))).toEqual([
      ["relay", "pw-relay-1"],
      ["s2", "pw-s2-1"],
    ]);
    // Half of it is nobody's in particular: refused, naming the key, never the secret.
    const half = await rejection({ yaml: yaml(twoAccounts, "    smtp_password: pw-relay-1\n"), env: {} });
    expect(half.message).toMatch(
      /smtp_password: with several accounts, give smtp_username and smtp_password together/,
    );
    expect(half.message).not.toContain("pw-relay-1");
    // Without it, each account's SMTP login is its IMAP login (or its own), user name and password together.
    const own = await loadConfig({ yaml: yaml(twoAccounts), env: {} });
    expect(smtpOf(own)).toEqual([
      ["hello", "pw-hello-1"],
      ["s2", "pw-s2-1"],
    ]);
    // A master-user login: the templated user name goes with the master password.
    const master = await loadConfig({
      yaml: yaml(
        "      - hello@example.test\n      - support@example.test\n",
        '    login_template: "%u*master"\n    imap_password: pw-master-1\n',
      ),
      env: {},
    });
    expect(smtpOf(master)).toEqual([
      ["hello@example.test*master", "pw-master-1"],
      ["support@example.test*master", "pw-master-1"],
    ]);
    // An account's own smtp_username needs its own password, never the master user's.
    const error = await rejection({
      yaml: yaml(
        "      - hello@example.test\n      - { address: support@example.test, smtp_username: s2 }\n",
        '    login_template: "%u*master"\n    imap_password: pw-master-1\n',
      ),
      env: {},
    });
    expect(error.message).toMatch(
      /monitored_accounts\.1\.smtp_password.*no SMTP password for this smtp_username/,
    );
  });

  it("refuses a port outside 1-65535, naming the key", async () => {
    for (const server of ["localhost:0", "localhost:65536", "localhost:99999"]) {
      const error = await rejection({ env: { ...baseEnv, EMAIL_SMTP_SERVER: server } });
      expect(error.message).toMatch(/smtp_server \(EMAIL_SMTP_SERVER\): expected a port from 1 to 65535/);
    }
    const edge = await loadConfig({
      env: { ...baseEnv, EMAIL_IMAP_SERVER: "[::1]:1", EMAIL_SMTP_SERVER: "localhost:65535" },
    });
    expect([edge.imap.port, edge.smtp.port]).toEqual([1, 65535]);
  });

  it("refuses a timer duration Node cannot wait for (over 2^31-1 ms), naming the key", async () => {
    const keys = ["agent_timeout", "poll_interval", "sweep_interval", "dav_poll_interval"];
    for (const key of keys) {
      const yaml = `channels:\n  email:\n    ${key}: 3000000\n`;
      const error = await rejection({ yaml, env: baseEnv });
      expect(error.message).toMatch(new RegExp(`${key}.*expected at most 2147483 seconds`));
    }
    const max = await loadConfig({ env: { ...baseEnv, EMAIL_POLL_INTERVAL: "2147483" } });
    expect(max.watch.pollIntervalMs).toBe(2_147_483_000);
  });

  it("reads rate-limit windows from the environment", async () => {
    const cfg = await loadConfig({
      env: {
        ...baseEnv,
        EMAIL_RATE_LIMITS_PER_SENDER: "5/60, 50/3600",
        EMAIL_RATE_LIMITS_PER_CONVERSATION: "",
      },
    });
    expect(cfg.rateLimits.perSender).toEqual([
      { max: 5, windowSeconds: 60 },
      { max: 50, windowSeconds: 3600 },
    ]);
    expect(cfg.rateLimits.perConversation).toEqual([{ max: 20, windowSeconds: 600 }]);
    const error = await rejection({ env: { ...baseEnv, EMAIL_RATE_LIMITS_PER_SENDER: "ten per minute" } });
    expect(error.message).toMatch(
      /rate_limits\.per_sender \(EMAIL_RATE_LIMITS_PER_SENDER\): expected windows/,
    );
  });

  it("reads idle_listener_max_mailboxes (default 4, 0 turns the listener off)", async () => {
    expect((await loadConfig({ env: baseEnv })).watch.idleListenerMaxMailboxes).toBe(4);
    const off = await loadConfig({ env: { ...baseEnv, EMAIL_IDLE_LISTENER_MAX_MAILBOXES: "0" } });
    expect(off.watch.idleListenerMaxMailboxes).toBe(0);
    const yaml = "channels:\n  email:\n    idle_listener_max_mailboxes: 2\n";
    expect((await loadConfig({ yaml, env: baseEnv })).watch.idleListenerMaxMailboxes).toBe(2);
    const error = await rejection({ env: { ...baseEnv, EMAIL_IDLE_LISTENER_MAX_MAILBOXES: "-1" } });
    expect(error.message).toMatch(/idle_listener_max_mailboxes \(EMAIL_IDLE_LISTENER_MAX_MAILBOXES\)/);
  });

  it('treats EMAIL_ALLOWED_SENDERS="" as nobody and "*" as everybody', async () => {
    expect((await loadConfig({ env: { ...baseEnv, EMAIL_ALLOWED_SENDERS: "" } })).allowedSenders).toEqual([]);
    expect((await loadConfig({ env: { ...baseEnv, EMAIL_ALLOWED_SENDERS: "*" } })).allowedSenders).toEqual([
      "*",
    ]);
  });
});

describe("loadConfig: invalid configurations name the key and never the secret", () => {
  const cases: { name: string; options: Parameters<typeof loadConfig>[0]; key: RegExp }[] = [
    {
      name: "missing imap_server",
      options: { env: { ...baseEnv, EMAIL_IMAP_SERVER: undefined } },
      key: /channels\.email\.imap_server: required: set imap_server under channels\.email or EMAIL_IMAP_SERVER/,
    },
    {
      name: "imap_server not host:port",
      options: { env: { ...baseEnv, EMAIL_IMAP_SERVER: "imap://x:993/" } },
      key: /imap_server \(EMAIL_IMAP_SERVER\): expected "host:port"/,
    },
    {
      name: "poll interval not a number",
      options: { env: { ...baseEnv, EMAIL_POLL_INTERVAL: "soon" } },
      key: /poll_interval \(EMAIL_POLL_INTERVAL\): expected a number/,
    },
    {
      name: "negative poll interval",
      options: { env: { ...baseEnv, EMAIL_POLL_INTERVAL: "-5" } },
      key: /poll_interval.*> 0/,
    },
    {
      name: "use_tls not a boolean",
      options: { env: { ...baseEnv, EMAIL_IMAP_USE_TLS: "maybe" } },
      key: /imap_use_tls \(EMAIL_IMAP_USE_TLS\): expected true or false/,
    },
    {
      name: "bad monitored address",
      options: { env: { ...baseEnv, EMAIL_MONITORED_ACCOUNTS: "not-an-address" } },
      key: /monitored_accounts\.0.*email address/,
    },
    {
      name: "no monitored accounts",
      options: { env: { ...baseEnv, EMAIL_MONITORED_ACCOUNTS: undefined } },
      key: /monitored_accounts/,
    },
    {
      name: "caldav url not a URL",
      options: { env: { ...baseEnv, EMAIL_CALDAV_URL: "localhost 8008" } },
      key: /caldav_url \(EMAIL_CALDAV_URL\)/,
    },
    {
      name: "unknown timezone",
      options: { env: { ...baseEnv, EMAIL_TIMEZONE: "Mars/Olympus" } },
      key: /timezone.*IANA/,
    },
    {
      name: "unknown EMAIL_ variable",
      options: { env: { ...baseEnv, EMAIL_IMAP_SEVER: "x:1" } },
      key: /EMAIL_IMAP_SEVER: unknown variable/,
    },
    {
      name: "missing password",
      options: { env: { ...baseEnv, EMAIL_IMAP_PASSWORD: undefined } },
      key: /monitored_accounts\.0\.password/,
    },
    {
      name: "shared username for several accounts",
      options: { env: { ...baseEnv, EMAIL_MONITORED_ACCOUNTS: "a@x.test,b@x.test" } },
      key: /monitored_accounts\.1\.username: several accounts/,
    },
    {
      name: "unreadable CA file",
      options: { env: { ...baseEnv, EMAIL_TLS_CA_FILE: "/nonexistent/ca.pem" } },
      key: /tls_ca_file \(EMAIL_TLS_CA_FILE\): cannot read/,
    },
    {
      name: "bad initial_sync",
      options: { env: { ...baseEnv, EMAIL_INITIAL_SYNC: "yesterday" } },
      key: /initial_sync/,
    },
    {
      name: "unknown key in the file",
      options: { yaml: "channels:\n  email:\n    imap_sever: x:1\n", env: baseEnv },
      key: /channels\.email\.imap_sever: unknown key/,
    },
    {
      name: "wrong type in the file, with a secret next to it",
      options: {
        yaml: `channels:\n  email:\n    imap_password: "${SECRET}"\n    poll_interval: "${SECRET}"\n`,
        env: { ...baseEnv, EMAIL_IMAP_PASSWORD: undefined },
      },
      key: /channels\.email\.poll_interval: expected a number/,
    },
    {
      name: "unset interpolation variable",
      options: {
        yaml: 'channels:\n  email:\n    imap_password: "${NOT_SET_ANYWHERE}"\n',
        env: { ...baseEnv, EMAIL_IMAP_PASSWORD: undefined },
      },
      key: /channels\.email\.imap_password: refers to \$\{NOT_SET_ANYWHERE\}/,
    },
    {
      name: "broken YAML whose line holds a secret",
      options: { yaml: `channels:\n  email:\n    imap_password: "${SECRET}\n  bad: [\n`, env: baseEnv },
      key: /not valid YAML at line \d+/,
    },
    {
      name: "bad rate limit window",
      options: {
        yaml: "channels:\n  email:\n    rate_limits:\n      per_sender: [{ max: 0, window_seconds: 60 }]\n",
        env: baseEnv,
      },
      key: /rate_limits\.per_sender\.0\.max/,
    },
  ];

  for (const c of cases) {
    it(`rejects: ${c.name}`, async () => {
      const error = await rejection(c.options);
      expect(error.message).toMatch(c.key);
      expect(error.code).toBe("CONFIG_INVALID");
      expect(error.retryable).toBe(false);
      expect(error.message).not.toContain(SECRET);
      expect(JSON.stringify(error.issues)).not.toContain(SECRET);
      expect(inspect(error)).not.toContain(SECRET);
    });
  }

  it("reports every problem at once", async () => {
    const error = await rejection({
      env: { ...baseEnv, EMAIL_POLL_INTERVAL: "x", EMAIL_IMAP_USE_TLS: "perhaps" },
    });
    expect(error.issues.map((i) => i.path)).toEqual(
      expect.arrayContaining([
        expect.stringContaining("poll_interval"),
        expect.stringContaining("imap_use_tls"),
      ]),
    );
  });
});
