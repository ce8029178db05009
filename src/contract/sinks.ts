/** Host-supplied stores for what CalDAV and CardDAV feed (../shared/CONTRACT.md). */

export interface Reminder {
  /** Stable: calendar + UID + recurrence id + alarm index. */
  id: string;
  /** `"email:<monitored account>"`. */
  userId: string;
  title: string;
  description?: string;
  location?: string;
  /** The instant the alarm goes off. */
  fireAt: Date;
  eventStart: Date;
  eventEnd?: Date;
  allDay?: boolean;
  /** VEVENT or VTODO. */
  component?: "VEVENT" | "VTODO";
  source: { calendarUrl: string; href: string; uid: string; recurrenceId?: string };
}

export interface ReminderSink {
  upsert(reminders: Reminder[]): Promise<void>;
  remove(ids: string[]): Promise<void>;
  list(): Promise<Reminder[]>;
}

export interface UserProfile {
  /** Stable: address book + UID. */
  id: string;
  /** `"email:<address>"` for every address, lower-cased. */
  userIds: string[];
  displayName: string;
  givenName?: string;
  familyName?: string;
  emails: { address: string; type?: string; preferred?: boolean }[];
  phones: { number: string; type?: string }[];
  organization?: string;
  title?: string;
  birthday?: string;
  addresses?: {
    label?: string;
    street?: string;
    locality?: string;
    region?: string;
    postalCode?: string;
    country?: string;
    type?: string;
  }[];
  notes?: string;
  categories?: string[];
  updatedAt?: string;
  source: { addressBookUrl: string; href: string; uid: string };
}

export interface ProfileSink {
  upsert(profiles: UserProfile[]): Promise<void>;
  remove(ids: string[]): Promise<void>;
  list(): Promise<UserProfile[]>;
  lookupByEmail(address: string): Promise<UserProfile | undefined>;
}
