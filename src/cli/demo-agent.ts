import type { Agent } from "../contract/types.js";
import type { ProfileSink, ReminderSink } from "../contract/sinks.js";

/**
 * The built-in demo agent of `email-channel run`: echoes what it was told and knows a few commands
 * (the first word of the message): help, agenda (upcoming reminders), whoami (the sender's profile).
 */
export function demoAgent(deps: {
  reminders?: () => ReminderSink | undefined;
  profiles?: () => ProfileSink | undefined;
  now?: () => Date;
}): Agent {
  const now = deps.now ?? (() => new Date());
  return async (message) => {
    const command = message.content.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
    const from = (message.metadata.from as { address?: string } | undefined)?.address ?? message.userId;
    switch (command) {
      case "help":
        return [
          "I am the email-channel demo agent. Write to me and I answer. Commands (first word of your mail):",
          "",
          "- **help**: this list",
          "- **agenda**: your upcoming reminders from the calendar",
          "- **whoami**: what your contact card says about you",
          "- anything else: I echo it back",
        ].join("\n");
      case "agenda": {
        const sink = deps.reminders?.();
        const upcoming = sink ? (await sink.list()).filter((r) => r.fireAt >= now()).slice(0, 10) : [];
        if (upcoming.length === 0) return "No upcoming reminders.";
        return [
          "Upcoming reminders:",
          "",
          ...upcoming.map(
            (r) => `- ${r.eventStart.toISOString()} **${r.title}**${r.location ? ` (${r.location})` : ""}`,
          ),
        ].join("\n");
      }
      case "whoami": {
        const profile = await deps.profiles?.()?.lookupByEmail(from);
        if (!profile) return `I know you as ${from}; there is no contact card for this address.`;
        return [
          `You are **${profile.displayName}**`,
          profile.organization ? `of ${profile.organization}` : "",
          `(${profile.emails.map((e) => e.address).join(", ")})`,
        ]
          .filter(Boolean)
          .join(" ");
      }
      default: {
        const subject = String(message.metadata.subject ?? "");
        return [
          `You wrote${subject ? ` (subject "${subject}")` : ""}:`,
          "",
          ...message.content.split("\n").map((l) => `> ${l}`),
          "",
          "Write **help** to see what I can do.",
        ].join("\n");
      }
    }
  };
}
