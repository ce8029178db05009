import { createHash } from "node:crypto";
import type { Reminder } from "../contract/sinks.js";

/** The email a fired reminder becomes (pure): its own conversation, an idempotency key per firing. */
export function reminderMail(
  r: Reminder,
  o: { late: boolean; timeZone: string },
): { conversationId: string; subject: string; body: string; key: string } {
  const when = (d: Date) =>
    new Intl.DateTimeFormat("en-GB", {
      timeZone: o.timeZone,
      dateStyle: r.allDay ? "full" : "full",
      ...(r.allDay ? {} : { timeStyle: "short" }),
    }).format(d);
  const lines = [
    `**${r.title}**`,
    "",
    `- When: ${when(r.eventStart)}${r.eventEnd && !r.allDay ? ` until ${when(r.eventEnd)}` : ""} (${o.timeZone})`,
    ...(r.location ? [`- Where: ${r.location}`] : []),
    ...(r.description ? ["", r.description] : []),
    ...(o.late ? ["", `_This reminder was due at ${when(r.fireAt)} and is sent late._`] : []),
  ];
  const digest = createHash("sha256").update(r.id).digest("hex");
  return {
    conversationId: `rem-${digest.slice(0, 16)}`,
    subject: `Reminder: ${r.title}`,
    body: lines.join("\n"),
    key: `reminder:${digest}:${r.fireAt.toISOString()}`,
  };
}
