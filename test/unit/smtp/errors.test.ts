/**
 * The mapping from nodemailer's errors to ours. The inputs have the shape nodemailer 10 gives its
 * errors (smtp-connection _formatError: code, response, responseCode, permanent, command,
 * originalCode); the integration tests produce the same errors from a real Postfix.
 */
import { describe, expect, it } from "vitest";
import {
  AbortedError,
  AuthError,
  ConfigError,
  EmailChannelError,
  InputError,
  NetworkError,
  ServerError,
  TlsError,
} from "../../../src/errors/index.js";
import { mapSmtpError, mayHaveBeenAccepted } from "../../../src/smtp/index.js";

function nodemailerError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

describe("mapSmtpError", () => {
  it("maps a 5xx reply to a permanent ServerError with the server's words", () => {
    const mapped = mapSmtpError(
      nodemailerError(
        "Can't send mail - all recipients were rejected: 550 5.1.1 <nobody@example.test>: Recipient address rejected",
        {
          code: "EENVELOPE",
          response:
            "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in local recipient table",
          responseCode: 550,
          permanent: true,
          command: "RCPT TO",
        },
      ),
    );
    expect(mapped).toBeInstanceOf(ServerError);
    expect(mapped.code).toBe("SMTP_REJECTED");
    expect(mapped.retryable).toBe(false);
    expect((mapped as ServerError).status).toBe(550);
    expect((mapped as ServerError).response).toContain("User unknown in local recipient table");
    expect(mapped.stage).toBe("smtp");
  });

  it("maps a 4xx reply to a retryable ServerError", () => {
    const mapped = mapSmtpError(
      nodemailerError("Message failed: 451 4.3.0 Error: queue file write error", {
        code: "EMESSAGE",
        response: "451 4.3.0 Error: queue file write error",
        responseCode: 451,
        permanent: false,
        command: "DATA",
      }),
    );
    expect(mapped).toBeInstanceOf(ServerError);
    expect(mapped.code).toBe("SMTP_DEFERRED");
    expect(mapped.retryable).toBe(true);
  });

  it("treats 503 as transient when nodemailer says so", () => {
    const mapped = mapSmtpError(
      nodemailerError("503 5.5.1 Error: nested MAIL command", {
        code: "EENVELOPE",
        response: "503 5.5.1 Error: nested MAIL command",
        responseCode: 503,
        permanent: false,
        command: "MAIL FROM",
      }),
    );
    expect(mapped.retryable).toBe(true);
    expect((mapped as ServerError).status).toBe(503);
  });

  it("maps 535 on AUTH and EAUTH to AuthError", () => {
    const mapped = mapSmtpError(
      nodemailerError("Invalid login: 535 5.7.8 Error: authentication failed: authentication failure", {
        code: "EAUTH",
        response: "535 5.7.8 Error: authentication failed: authentication failure",
        responseCode: 535,
        permanent: true,
        command: "AUTH PLAIN",
      }),
    );
    expect(mapped).toBeInstanceOf(AuthError);
    expect(mapped.code).toBe("SMTP_AUTH_FAILED");
    expect(mapped.retryable).toBe(false);
    expect(
      mapSmtpError(nodemailerError('Missing credentials for "PLAIN"', { code: "EAUTH", command: "API" })),
    ).toBeInstanceOf(AuthError);
  });

  it("keeps a temporary authentication failure (454) retryable", () => {
    const mapped = mapSmtpError(
      nodemailerError("Invalid login: 454 4.7.0 Temporary authentication failure", {
        code: "EAUTH",
        response: "454 4.7.0 Temporary authentication failure",
        responseCode: 454,
        permanent: false,
        command: "AUTH PLAIN",
      }),
    );
    expect(mapped).toBeInstanceOf(ServerError);
    expect(mapped.retryable).toBe(true);
  });

  it("maps certificate failures to TlsError", () => {
    const selfSigned = nodemailerError("self-signed certificate in certificate chain", {
      code: "ESOCKET",
      originalCode: "SELF_SIGNED_CERT_IN_CHAIN",
      command: "CONN",
    });
    expect(mapSmtpError(selfSigned)).toBeInstanceOf(TlsError);
    const starttls = nodemailerError("Error initiating TLS - unable to verify the first certificate", {
      code: "ETLS",
      command: "STARTTLS",
    });
    expect(mapSmtpError(starttls)).toBeInstanceOf(TlsError);
    expect(mapSmtpError(starttls).retryable).toBe(false);
  });

  it.each(["ECONNECTION", "ETIMEDOUT", "ESOCKET", "EDNS", "EPROTOCOL"])(
    "maps %s to a retryable NetworkError",
    (code) => {
      const mapped = mapSmtpError(
        nodemailerError("Connection closed unexpectedly", { code, command: "CONN" }),
      );
      expect(mapped).toBeInstanceOf(NetworkError);
      expect(mapped.retryable).toBe(true);
    },
  );

  it("maps plain Node socket errors to NetworkError", () => {
    const refused = nodemailerError("connect ECONNREFUSED 127.0.0.1:1", { code: "ECONNREFUSED" });
    expect(mapSmtpError(refused)).toBeInstanceOf(NetworkError);
    expect(mapSmtpError(nodemailerError("read ECONNRESET", { code: "ECONNRESET" }))).toBeInstanceOf(
      NetworkError,
    );
  });

  it("maps EABORT to AbortedError", () => {
    const err = nodemailerError("Message sending aborted", { code: "EABORT", name: "AbortError" });
    expect(mapSmtpError(err)).toBeInstanceOf(AbortedError);
  });

  it("maps ECONFIG to ConfigError and envelope problems without a reply to InputError", () => {
    expect(mapSmtpError(nodemailerError("bad", { code: "ECONFIG" }))).toBeInstanceOf(ConfigError);
    const noRcpt = mapSmtpError(
      nodemailerError("No recipients defined", { code: "EENVELOPE", command: "API" }),
    );
    expect(noRcpt).toBeInstanceOf(InputError);
    expect(noRcpt.retryable).toBe(false);
  });

  it("treats unknown failures as transient and passes library errors through", () => {
    const unknown = mapSmtpError(new Error("something odd"));
    expect(unknown.code).toBe("SMTP_UNKNOWN");
    expect(unknown.retryable).toBe(true);
    const ours = new ServerError("x", { code: "X", stage: "smtp", status: 550 });
    expect(mapSmtpError(ours)).toBe(ours);
    expect(mapSmtpError("a string")).toBeInstanceOf(EmailChannelError);
  });

  it("says whether the server may have taken the message: not after a reply or a connection never made", () => {
    const maybe = (fields: Record<string, unknown>, message = "failed") =>
      mayHaveBeenAccepted(mapSmtpError(nodemailerError(message, fields)));
    // A connection lost while it was up: possibly after the end of DATA, before the "250".
    expect(maybe({ code: "ECONNECTION", command: "CONN" }, "Connection closed unexpectedly")).toBe(true);
    expect(maybe({ code: "ESOCKET", originalCode: "ECONNRESET", command: "CONN" })).toBe(true);
    expect(maybe({ code: "ETIMEDOUT", timeoutType: "SOCKET_TIMEOUT", command: "CONN" })).toBe(true);
    expect(maybe({ code: "EPROTOCOL", command: "CONN" }, "Unexpected Response")).toBe(true);
    // Never connected: refused, unreachable, DNS, a set-up timeout.
    expect(maybe({ code: "ESOCKET", originalCode: "ECONNREFUSED", command: "CONN" })).toBe(false);
    expect(maybe({ code: "ESOCKET", originalCode: "EHOSTUNREACH", command: "CONN" })).toBe(false);
    expect(maybe({ code: "EDNS", command: "CONN" })).toBe(false);
    expect(maybe({ code: "ETIMEDOUT", timeoutType: "CONNECT_TIMEOUT", command: "CONN" })).toBe(false);
    expect(maybe({ code: "ETIMEDOUT", timeoutType: "GREETING_TIMEOUT", command: "CONN" })).toBe(false);
    // A reply is the server's answer: it did not take the message.
    expect(maybe({ code: "EMESSAGE", response: "451 4.3.0 try later", responseCode: 451 })).toBe(false);
    expect(maybe({ code: "EENVELOPE", response: "550 5.1.1 no", responseCode: 550 })).toBe(false);
    expect(mayHaveBeenAccepted(new Error("plain"))).toBe(false);
  });
});
