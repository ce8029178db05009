import type { AccountConfig, TlsSettings } from "../config/resolved.js";
import { ConfigError } from "../errors/index.js";
import type { Logger } from "../log/index.js";
import { accessTokensFor } from "../oauth2/index.js";
import type { SmtpAuth } from "./options.js";

/**
 * How an account logs in to SMTP: its OAuth 2.0 grant (XOAUTH2, tokens shared with its IMAP
 * connections) when it has one, else its SMTP password.
 */
export function smtpAuthFor(account: AccountConfig, tls: TlsSettings, logger?: Logger): SmtpAuth {
  const user = account.smtp.username;
  if (account.oauth2) {
    const tokens = accessTokensFor(account.oauth2, tls, logger);
    let offered: string | undefined;
    return {
      user,
      accessToken: async (renew) => {
        // nodemailer renews after the server refused the token it was given: that one is done for.
        if (renew && offered) tokens.invalidate(offered);
        const token = await tokens.get();
        offered = token.value;
        return token;
      },
    };
  }
  const password = account.smtp.password;
  if (!password) {
    throw new ConfigError(`no SMTP password for ${account.address}`, [
      { path: "channels.email.smtp_password", message: "no SMTP password and no OAuth 2.0 grant" },
    ]);
  }
  return { user, pass: password.reveal() };
}
