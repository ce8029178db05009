import type Database from "better-sqlite3";
import type { ProfileSink, Reminder, ReminderSink, UserProfile } from "../../contract/sinks.js";

type Row = Record<string, unknown>;

function reviveReminder(body: string): Reminder {
  const r = JSON.parse(body) as Reminder & { fireAt: string; eventStart: string; eventEnd?: string };
  return {
    ...r,
    fireAt: new Date(r.fireAt),
    eventStart: new Date(r.eventStart),
    ...(r.eventEnd ? { eventEnd: new Date(r.eventEnd) } : {}),
  };
}

/** The embedded ReminderSink, used when the host supplies none. */
export function reminderSink(db: Database.Database): ReminderSink {
  const put = db.prepare(
    `INSERT INTO reminders (id, user_id, fire_at, body) VALUES (?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id, fire_at = excluded.fire_at, body = excluded.body`,
  );
  const del = db.prepare("DELETE FROM reminders WHERE id = ?");
  const all = db.prepare("SELECT body FROM reminders ORDER BY fire_at, id");
  return {
    async upsert(reminders) {
      db.transaction(() => {
        for (const r of reminders) put.run(r.id, r.userId, r.fireAt.toISOString(), JSON.stringify(r));
      })();
    },
    async remove(ids) {
      db.transaction(() => {
        for (const id of ids) del.run(id);
      })();
    },
    async list() {
      return (all.all() as Row[]).map((r) => reviveReminder(String(r.body)));
    },
  };
}

/** The embedded ProfileSink, used when the host supplies none. */
export function profileSink(db: Database.Database): ProfileSink {
  const put = db.prepare(
    "INSERT INTO profiles (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body",
  );
  const del = db.prepare("DELETE FROM profiles WHERE id = ?");
  const delEmails = db.prepare("DELETE FROM profile_emails WHERE profile_id = ?");
  const putEmail = db.prepare(
    "INSERT INTO profile_emails (address, profile_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
  );
  const all = db.prepare("SELECT body FROM profiles ORDER BY id");
  const byEmail = db.prepare(
    `SELECT p.body FROM profile_emails e JOIN profiles p ON p.id = e.profile_id WHERE e.address = ? ORDER BY p.id LIMIT 1`,
  );
  return {
    async upsert(profiles) {
      db.transaction(() => {
        for (const p of profiles) {
          put.run(p.id, JSON.stringify(p));
          delEmails.run(p.id);
          for (const e of p.emails) putEmail.run(e.address.trim().toLowerCase(), p.id);
        }
      })();
    },
    async remove(ids) {
      db.transaction(() => {
        for (const id of ids) {
          delEmails.run(id);
          del.run(id);
        }
      })();
    },
    async list() {
      return (all.all() as Row[]).map((r) => JSON.parse(String(r.body)) as UserProfile);
    },
    async lookupByEmail(address) {
      const r = byEmail.get(address.trim().toLowerCase()) as Row | undefined;
      return r ? (JSON.parse(String(r.body)) as UserProfile) : undefined;
    },
  };
}
