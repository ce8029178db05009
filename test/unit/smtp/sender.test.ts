import { afterEach, describe, expect, it } from "vitest";
import { AbortedError, NetworkError } from "../../../src/errors/index.js";
import {
  GlobalRateLimiter,
  MemoryRateEventStore,
  RecipientRateLimiter,
  SmtpSender,
  abortableSleep,
  secureModeFromUseTls,
  toTransportOptions,
} from "../../../src/smtp/index.js";
import { openSqliteStore } from "../../../src/store/index.js";
import { closedPort } from "../../support/ports.js";

describe("secure modes", () => {
  it("follows CONTRACT.md for *_USE_TLS", () => {
    expect(secureModeFromUseTls(true, 465)).toBe("implicit");
    expect(secureModeFromUseTls(true, 587)).toBe("starttls");
    expect(secureModeFromUseTls(true, 25)).toBe("starttls");
    expect(secureModeFromUseTls(false, 587)).toBe("opportunistic");
  });

  it("translates each mode into nodemailer options", () => {
    const implicit = toTransportOptions({ host: "h", port: 465, secure: "implicit" });
    expect([implicit.secure, implicit.requireTLS, implicit.opportunisticTLS]).toEqual([true, false, false]);
    const starttls = toTransportOptions({ host: "h", port: 587, secure: "starttls" });
    expect([starttls.secure, starttls.requireTLS, starttls.opportunisticTLS]).toEqual([false, true, false]);
    const opportunistic = toTransportOptions({ host: "h", port: 587, secure: "opportunistic" });
    expect([opportunistic.secure, opportunistic.requireTLS, opportunistic.opportunisticTLS]).toEqual([
      false,
      false,
      true,
    ]);
    expect(toTransportOptions({ host: "h", port: 465 }).secure).toBe(true);
    expect(toTransportOptions({ host: "h", port: 587 }).requireTLS).toBe(true);
  });

  it("verifies certificates by default, adds the CA, pools 3 connections and never reads files or URLs", () => {
    const options = toTransportOptions({
      host: "h",
      port: 587,
      tls: { ca: "PEM" },
      auth: { user: "u", pass: "p" },
    });
    expect(options.tls?.rejectUnauthorized).toBe(true);
    expect(options.tls?.ca).toBe("PEM");
    expect(options.pool).toBe(true);
    expect(options.maxConnections).toBe(3);
    expect(options.disableFileAccess).toBe(true);
    expect(options.disableUrlAccess).toBe(true);
    expect(options.auth).toEqual({ user: "u", pass: "p" });
    const single = toTransportOptions({ host: "h", port: 587, pool: false });
    expect(single.pool).toBe(false);
    expect(single.maxConnections).toBeUndefined();
  });
});

describe("GlobalRateLimiter", () => {
  it("spaces sends evenly at the configured rate", () => {
    let now = 1_000;
    const limiter = new GlobalRateLimiter(4, () => now);
    expect([limiter.reserve(), limiter.reserve(), limiter.reserve()]).toEqual([0, 250, 500]);
    now += 1_000;
    expect(limiter.reserve()).toBe(0);
  });

  it("does nothing without a rate", () => {
    const limiter = new GlobalRateLimiter(0);
    expect([limiter.reserve(), limiter.reserve()]).toEqual([0, 0]);
  });

  it("waits are abortable", async () => {
    const controller = new AbortController();
    const wait = abortableSleep(10_000, controller.signal);
    controller.abort();
    await expect(wait).rejects.toBeInstanceOf(AbortedError);
  });
});

describe("RecipientRateLimiter", () => {
  it("allows max per window per address (case-insensitive), then refuses with retryAfter", () => {
    let now = 0;
    const limiter = new RecipientRateLimiter(
      { max: 2, windowSeconds: 60 },
      new MemoryRateEventStore(),
      () => now,
    );
    limiter.take(["alice@example.com"]);
    now = 10_000;
    limiter.take(["Alice@Example.com", "bob@example.com"]);
    now = 20_000;
    let error: unknown;
    try {
      limiter.take(["bob@example.com", "alice@example.com"]);
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: "SMTP_RATE_LIMITED", retryable: true, retryAfter: 40 });
    // Refused as a whole: bob was not counted.
    limiter.take(["bob@example.com"]);
    now = 60_001;
    limiter.take(["alice@example.com"]);
  });

  it("works on the state store's RateRepo (counts survive a restart)", () => {
    const store = openSqliteStore({ path: ":memory:" });
    try {
      let now = 5_000;
      const first = new RecipientRateLimiter({ max: 1, windowSeconds: 30 }, store.rates, () => now);
      first.take(["carol@example.com"]);
      const second = new RecipientRateLimiter({ max: 1, windowSeconds: 30 }, store.rates, () => now);
      expect(() => second.take(["carol@example.com"])).toThrow(/rate limit/);
      now = 36_000;
      second.take(["carol@example.com"]);
    } finally {
      store.close();
    }
  });
});

describe("SmtpSender without a server", () => {
  let sender: SmtpSender | undefined;
  afterEach(async () => {
    await sender?.close();
    sender = undefined;
  });

  const request = {
    raw: Buffer.from("Subject: x\r\n\r\nhi\r\n"),
    envelope: { from: "a@example.com", to: ["b@example.com"] },
  };

  it("reports a refused connection as a retryable NetworkError, for send and verify", async () => {
    sender = new SmtpSender({ host: "127.0.0.1", port: await closedPort(), secure: "starttls", pool: false });
    const error = await sender.send(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).retryable).toBe(true);
    await expect(sender.verify()).rejects.toBeInstanceOf(NetworkError);
  });

  it("refuses a per-recipient burst before connecting", async () => {
    sender = new SmtpSender({
      host: "127.0.0.1",
      port: await closedPort(),
      perRecipient: { max: 1, windowSeconds: 3600 },
    });
    await expect(sender.send(request)).rejects.toBeInstanceOf(NetworkError);
    await expect(sender.send(request)).rejects.toMatchObject({ code: "SMTP_RATE_LIMITED", retryable: true });
  });

  it("honours an aborted signal and refuses to send once closed (close is idempotent)", async () => {
    sender = new SmtpSender({ host: "127.0.0.1", port: await closedPort() });
    const controller = new AbortController();
    controller.abort();
    await expect(sender.send(request, controller.signal)).rejects.toBeInstanceOf(AbortedError);
    await sender.close();
    await sender.close();
    await expect(sender.send(request)).rejects.toMatchObject({ code: "SMTP_CLOSED" });
  });
});
