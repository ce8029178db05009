import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/index.js";
import { AuthError } from "../../../src/errors/index.js";
import { classifyImapError, createImapClient } from "../../../src/imap/connect.js";
import { imapLogin } from "../../../src/imap/login.js";
import { stackChannelEnv } from "../../support/channel.js";
import { rejectionOf } from "../../support/errors.js";
import { expireAccessTokens, oauthChannelEnv } from "../../support/oauth.js";
import { loadStackEnv } from "../../support/stack.js";

const stack = loadStackEnv();
const { hello } = stack.users;

describe.skipIf(!stack.oauth)("IMAP login with an access token (Dovecot, OAUTHBEARER)", () => {
  it("logs in with a current token; a refused one is named with the server's RFC 7628 reason and dropped", async () => {
    const config = await loadConfig({ env: { ...stackChannelEnv(stack), ...oauthChannelEnv(stack, hello) } });
    const account = config.accounts[0]!;
    const connect = async () => {
      const login = await imapLogin(account, config.tls);
      const client = createImapClient({ endpoint: config.imap, tls: config.tls, auth: login.auth });
      client.on("error", () => undefined);
      return { login, client, connected: client.connect() };
    };
    const first = await connect();
    await first.connected;
    expect(first.client.authenticated).toBeTruthy();
    await first.client.logout();

    await expireAccessTokens(stack.oauth!);
    const second = await connect();
    expect("accessToken" in second.login.auth && "accessToken" in first.login.auth).toBe(true);
    const refusal = await rejectionOf(second.connected);
    const error = classifyImapError(refusal, "stack");
    second.client.close();
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(/IMAP login refused at stack: .*\(OAuth 2\.0: status invalid_token\)/);
    second.login.failed(refusal);

    const third = await connect();
    await third.connected;
    expect(third.client.authenticated).toBeTruthy();
    await third.client.logout();
  });
});
