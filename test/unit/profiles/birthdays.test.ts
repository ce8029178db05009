/** birthdayReminders: next occurrence in the user's zone, stable ids, leap days, the day itself. */
import { describe, expect, it } from "vitest";
import type { UserProfile } from "../../../src/contract/sinks.js";
import { cardToProfile, parseCard } from "../../../src/dav/contacts/vcard/index.js";
import { ConfigError } from "../../../src/errors/index.js";
import { birthdayReminders } from "../../../src/profiles/index.js";
import { BOOK, hrefOf, readCard } from "./support/fixtures.js";

const profileOf = (name: string): UserProfile =>
  cardToProfile(parseCard(readCard(name)), { addressBookUrl: BOOK, href: hrefOf(name) });

const apple = profileOf("apple-contacts-3.0.vcf"); // 1975-11-05
const iphone = profileOf("apple-iphone-omit-year-3.0.vcf"); // --08-14
const google = profileOf("google-contacts-3.0.vcf"); // 1988-02-29
const olga = profileOf("thunderbird-4.0.vcf"); // 1990-03-12
const nokia = profileOf("nokia-2.1-no-fn.vcf"); // no birthday

const USER = "email:alice@example.test";
const run = (now: string, zone = "Europe/Berlin", atHour?: number) =>
  birthdayReminders([apple, iphone, google, olga, nokia], {
    userId: USER,
    now: new Date(now),
    userTimeZone: zone,
    ...(atHour !== undefined ? { atHour } : {}),
  });
const byName = (reminders: ReturnType<typeof run>) => new Map(reminders.map((r) => [r.title, r]));

describe("birthdayReminders", () => {
  // 12 March 2025, 08:00 in Berlin (CET, UTC+1).
  const reminders = run("2025-03-12T07:00:00.000Z");

  it("makes one reminder per contact with a birthday, with a stable id", () => {
    expect(reminders.map((r) => r.id)).toStrictEqual([
      `birthday:${apple.id}`,
      `birthday:${iphone.id}`,
      `birthday:${google.id}`,
      `birthday:${olga.id}`,
    ]);
    expect(run("2025-06-01T00:00:00.000Z").map((r) => r.id)).toStrictEqual(reminders.map((r) => r.id));
  });

  it("fires at 09:00 local on the next birthday, today's included", () => {
    const today = reminders.find((r) => r.id === `birthday:${olga.id}`)!;
    expect(today).toStrictEqual({
      id: `birthday:${olga.id}`,
      userId: USER,
      title: "Birthday: Ольга Иванова (35)",
      description: "Ольга Иванова was born on 1990-03-12.",
      fireAt: new Date("2025-03-12T08:00:00.000Z"),
      eventStart: new Date("2025-03-11T23:00:00.000Z"),
      eventEnd: new Date("2025-03-12T23:00:00.000Z"),
      allDay: true,
      source: {
        calendarUrl: BOOK,
        href: hrefOf("thunderbird-4.0.vcf"),
        uid: "0d5c6b2a-9f1e-4c3b-8a7d-2e6f5a4b3c21",
      },
    });
    const names = byName(reminders);
    // Summer time (CEST, UTC+2) in August, standard time in November.
    expect(names.get("Birthday: Sophie Lefèvre")?.fireAt).toStrictEqual(new Date("2025-08-14T07:00:00.000Z"));
    expect(names.get("Birthday: Sophie Lefèvre")?.description).toBe(
      "Sophie Lefèvre has a birthday on 08-14 (MM-DD).",
    );
    expect(names.get("Birthday: Dr. Hans-Jürgen Müller (50)")?.fireAt).toStrictEqual(
      new Date("2025-11-05T08:00:00.000Z"),
    );
  });

  it("keeps today's reminder after the hour has passed, and moves on once the day is over", () => {
    const lateToday = run("2025-03-12T20:00:00.000Z").find((r) => r.id === `birthday:${olga.id}`);
    expect(lateToday?.fireAt).toStrictEqual(new Date("2025-03-12T08:00:00.000Z"));
    // 23:30 UTC is already 13 March in Berlin.
    const nextDay = run("2025-03-12T23:30:00.000Z").find((r) => r.id === `birthday:${olga.id}`);
    expect(nextDay?.fireAt).toStrictEqual(new Date("2026-03-12T08:00:00.000Z"));
    expect(nextDay?.title).toBe("Birthday: Ольга Иванова (36)");
  });

  it("celebrates 29 February on 28 February in common years, on the day in leap years", () => {
    expect(byName(reminders).get("Birthday: Priya Raman (38)")?.fireAt).toStrictEqual(
      new Date("2026-02-28T08:00:00.000Z"),
    );
    const leap = byName(run("2027-12-01T12:00:00.000Z")).get("Birthday: Priya Raman (40)");
    expect(leap?.eventStart).toStrictEqual(new Date("2028-02-28T23:00:00.000Z"));
  });

  it("uses the user's zone and hour", () => {
    const ny = run("2025-03-12T07:00:00.000Z", "America/New_York", 7).find(
      (r) => r.id === `birthday:${olga.id}`,
    );
    // 07:00 UTC is 03:00 on 12 March in New York (EDT since 9 March): today's reminder at 07:00 EDT.
    expect(ny?.fireAt).toStrictEqual(new Date("2025-03-12T11:00:00.000Z"));
    expect(ny?.eventStart).toStrictEqual(new Date("2025-03-12T04:00:00.000Z"));
  });

  it("rejects an unknown zone and an impossible hour", () => {
    expect(() => run("2025-03-12T07:00:00.000Z", "Mars/Olympus")).toThrow(ConfigError);
    expect(() => run("2025-03-12T07:00:00.000Z", "Europe/Berlin", 24)).toThrow(/0-23/);
  });
});
