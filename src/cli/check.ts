import type { AccountConfig, ResolvedConfig } from "../config/resolved.js";
import { discoverAccount } from "../dav/index.js";
import { accountDavClient } from "../sync/dav-connection.js";
import { classifyImapError, createImapClient } from "../imap/connect.js";
import { type ImapLogin, imapLogin } from "../imap/login.js";
import { SmtpSender } from "../smtp/index.js";
import { smtpAuthFor } from "../smtp/account-auth.js";
import { explainFailure } from "./explain.js";

export interface CheckLine {
  ok: boolean;
  service: "imap" | "smtp" | "caldav" | "carddav";
  account: string;
  detail: string;
}

async function checkImap(config: ResolvedConfig, account: AccountConfig): Promise<CheckLine> {
  const base = { service: "imap" as const, account: account.address };
  let login: ImapLogin;
  try {
    login = await imapLogin(account, config.tls);
  } catch (error) {
    return { ...base, ok: false, detail: explainFailure(error, "IMAP") };
  }
  const client = createImapClient({
    endpoint: config.imap,
    tls: config.tls,
    auth: login.auth,
    disableIdle: true,
    connectionTimeoutMs: 10_000,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    const caps = client.capabilities;
    const boxes = await client.list();
    const missing = account.mailboxes.filter((m) => !boxes.some((b) => b.path === m));
    const tls =
      config.imap.tls === "implicit" ? "implicit TLS" : client.secureConnection ? "STARTTLS" : "no TLS";
    if (missing.length > 0)
      return {
        ...base,
        ok: false,
        detail: `logged in, but the monitored mailbox ${missing.join(", ")} does not exist`,
      };
    if (config.watch.idle && !caps.has("IDLE")) {
      return {
        ...base,
        ok: false,
        detail: `missing capability: the server does not offer IDLE (set idle: false to poll every ${config.watch.pollIntervalMs / 1000} s)`,
      };
    }
    return {
      ...base,
      ok: true,
      detail: `${config.imap.host}:${config.imap.port} ${tls}, ${account.oauth2 ? "OAuth 2.0, " : ""}${caps.has("IDLE") ? "IDLE" : "no IDLE (polling)"}, ${boxes.length} mailboxes`,
    };
  } catch (error) {
    return { ...base, ok: false, detail: explainFailure(classifyImapError(error, config.imap.host), "IMAP") };
  } finally {
    await client.logout().catch(() => client.close());
  }
}

async function checkSmtp(config: ResolvedConfig, account: AccountConfig): Promise<CheckLine> {
  const base = { service: "smtp" as const, account: account.address };
  const sender = new SmtpSender({
    host: config.smtp.host,
    port: config.smtp.port,
    secure: config.smtp.tls,
    auth: smtpAuthFor(account, config.tls),
    tls: {
      rejectUnauthorized: config.tls.rejectUnauthorized,
      ...(config.tls.ca ? { ca: config.tls.ca } : {}),
    },
    pool: false,
    connectionTimeout: 10_000,
  });
  try {
    await sender.verify();
    return {
      ...base,
      ok: true,
      detail: `${config.smtp.host}:${config.smtp.port} ${config.smtp.tls === "implicit" ? "implicit TLS" : config.smtp.tls === "starttls" ? "STARTTLS" : "opportunistic TLS"}, ${account.oauth2 ? "XOAUTH2" : "AUTH"} accepted`,
    };
  } catch (error) {
    return { ...base, ok: false, detail: explainFailure(error, "SMTP") };
  } finally {
    await sender.close().catch(() => undefined);
  }
}

async function checkDav(
  kind: "calendar" | "addressbook",
  url: string,
  account: AccountConfig,
  config: ResolvedConfig,
): Promise<CheckLine> {
  const service = kind === "calendar" ? "caldav" : "carddav";
  const base = { service: service as CheckLine["service"], account: account.address };
  try {
    const client = accountDavClient({ url, account, tls: config.tls, stage: service, timeoutMs: 10_000 });
    const found = await discoverAccount(client, kind);
    return {
      ...base,
      ok: true,
      detail: `${url} principal ${found.principalUrl}, ${found.collections.length} ${kind === "calendar" ? "calendars" : "address books"}${client.http.auth === "bearer" ? ", OAuth 2.0 bearer token accepted" : ""}`,
    };
  } catch (error) {
    return { ...base, ok: false, detail: explainFailure(error, service === "caldav" ? "CalDAV" : "CardDAV") };
  }
}

/** Connects to every configured service, one line each. Never throws for a failed service. */
export async function runChecks(config: ResolvedConfig): Promise<CheckLine[]> {
  const jobs: Promise<CheckLine>[] = [];
  for (const account of config.accounts) {
    jobs.push(checkImap(config, account), checkSmtp(config, account));
    if (config.caldavUrl) jobs.push(checkDav("calendar", config.caldavUrl, account, config));
    if (config.carddavUrl) jobs.push(checkDav("addressbook", config.carddavUrl, account, config));
  }
  return Promise.all(jobs);
}

export function formatCheckLine(line: CheckLine): string {
  return `${line.ok ? "ok  " : "FAIL"}  ${line.service.padEnd(7)} ${line.account.padEnd(28)} ${line.detail}`;
}
