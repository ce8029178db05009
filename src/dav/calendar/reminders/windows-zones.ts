/**
 * TZID names that are not IANA names but that real producers write, mapped to IANA zones.
 *
 * Outlook and Exchange name zones by their Windows ids ("W. Europe Standard Time"); they usually embed
 * a VTIMEZONE, which wins, but Exchange-backed CalDAV bridges and some exports (and invitations forwarded
 * through other clients) carry the bare name. The table is the common part of the Unicode CLDR
 * windowsZones mapping, territory "001" (the zone Windows means by default): the zones of Europe, the
 * Americas, Asia and Oceania that cover most users. A Windows name not listed here is reported as a
 * problem and read in the user's zone.
 */
export const WINDOWS_TO_IANA: Readonly<Record<string, string>> = {
  "Dateline Standard Time": "Etc/GMT+12",
  "UTC-11": "Etc/GMT+11",
  "Hawaiian Standard Time": "Pacific/Honolulu",
  "Alaskan Standard Time": "America/Anchorage",
  "Pacific Standard Time": "America/Los_Angeles",
  "Pacific Standard Time (Mexico)": "America/Tijuana",
  "US Mountain Standard Time": "America/Phoenix",
  "Mountain Standard Time": "America/Denver",
  "Mountain Standard Time (Mexico)": "America/Mazatlan",
  "Central America Standard Time": "America/Guatemala",
  "Central Standard Time": "America/Chicago",
  "Central Standard Time (Mexico)": "America/Mexico_City",
  "Canada Central Standard Time": "America/Regina",
  "SA Pacific Standard Time": "America/Bogota",
  "Eastern Standard Time": "America/New_York",
  "Eastern Standard Time (Mexico)": "America/Cancun",
  "US Eastern Standard Time": "America/Indianapolis",
  "Venezuela Standard Time": "America/Caracas",
  "Atlantic Standard Time": "America/Halifax",
  "SA Western Standard Time": "America/La_Paz",
  "Pacific SA Standard Time": "America/Santiago",
  "Newfoundland Standard Time": "America/St_Johns",
  "E. South America Standard Time": "America/Sao_Paulo",
  "Argentina Standard Time": "America/Buenos_Aires",
  "SA Eastern Standard Time": "America/Cayenne",
  "Montevideo Standard Time": "America/Montevideo",
  "UTC-02": "Etc/GMT+2",
  "Azores Standard Time": "Atlantic/Azores",
  "Cape Verde Standard Time": "Atlantic/Cape_Verde",
  UTC: "Etc/UTC",
  "GMT Standard Time": "Europe/London",
  "Greenwich Standard Time": "Atlantic/Reykjavik",
  "Morocco Standard Time": "Africa/Casablanca",
  "W. Europe Standard Time": "Europe/Berlin",
  "Central Europe Standard Time": "Europe/Budapest",
  "Romance Standard Time": "Europe/Paris",
  "Central European Standard Time": "Europe/Warsaw",
  "W. Central Africa Standard Time": "Africa/Lagos",
  "GTB Standard Time": "Europe/Bucharest",
  "Middle East Standard Time": "Asia/Beirut",
  "Egypt Standard Time": "Africa/Cairo",
  "E. Europe Standard Time": "Europe/Chisinau",
  "South Africa Standard Time": "Africa/Johannesburg",
  "FLE Standard Time": "Europe/Kiev",
  "Israel Standard Time": "Asia/Jerusalem",
  "Jordan Standard Time": "Asia/Amman",
  "Arabic Standard Time": "Asia/Baghdad",
  "Turkey Standard Time": "Europe/Istanbul",
  "Arab Standard Time": "Asia/Riyadh",
  "Belarus Standard Time": "Europe/Minsk",
  "Russian Standard Time": "Europe/Moscow",
  "E. Africa Standard Time": "Africa/Nairobi",
  "Iran Standard Time": "Asia/Tehran",
  "Arabian Standard Time": "Asia/Dubai",
  "Azerbaijan Standard Time": "Asia/Baku",
  "Georgian Standard Time": "Asia/Tbilisi",
  "Afghanistan Standard Time": "Asia/Kabul",
  "West Asia Standard Time": "Asia/Tashkent",
  "Pakistan Standard Time": "Asia/Karachi",
  "India Standard Time": "Asia/Calcutta",
  "Sri Lanka Standard Time": "Asia/Colombo",
  "Nepal Standard Time": "Asia/Katmandu",
  "Central Asia Standard Time": "Asia/Almaty",
  "Bangladesh Standard Time": "Asia/Dhaka",
  "Myanmar Standard Time": "Asia/Rangoon",
  "SE Asia Standard Time": "Asia/Bangkok",
  "China Standard Time": "Asia/Shanghai",
  "Singapore Standard Time": "Asia/Singapore",
  "Taipei Standard Time": "Asia/Taipei",
  "W. Australia Standard Time": "Australia/Perth",
  "Tokyo Standard Time": "Asia/Tokyo",
  "Korea Standard Time": "Asia/Seoul",
  "Cen. Australia Standard Time": "Australia/Adelaide",
  "AUS Central Standard Time": "Australia/Darwin",
  "E. Australia Standard Time": "Australia/Brisbane",
  "AUS Eastern Standard Time": "Australia/Sydney",
  "Tasmania Standard Time": "Australia/Hobart",
  "New Zealand Standard Time": "Pacific/Auckland",
  "Fiji Standard Time": "Pacific/Fiji",
  "Tonga Standard Time": "Pacific/Tongatapu",
};

/** Names meaning UTC that some producers write as a TZID. */
const UTC_NAMES = new Set(["utc", "gmt", "z", "etc/utc", "etc/gmt", "universal", "zulu"]);

/** The IANA name a Windows zone id stands for, if it is one of the mapped ones. */
export function windowsZoneToIana(name: string): string | undefined {
  return WINDOWS_TO_IANA[name.trim()];
}

/** Is this TZID a way of saying UTC? */
export function isUtcName(name: string): boolean {
  return UTC_NAMES.has(name.trim().toLowerCase());
}

/**
 * Candidate IANA names inside a TZID that is not one itself: Lightning's old prefixed form
 * "/mozilla.org/20050126_1/Europe/Berlin", Citadel's "/citadel.org/20190914_1/Europe/Berlin", and quoted
 * names. Tried in order after the TZID itself and the Windows table.
 */
export function embeddedIanaCandidates(tzid: string): string[] {
  const unquoted = tzid.trim().replace(/^"(.*)"$/, "$1");
  const candidates: string[] = [];
  if (unquoted !== tzid) candidates.push(unquoted);
  const parts = unquoted.split("/").filter((p) => p.length > 0);
  // Longest suffix first: "America/Argentina/Buenos_Aires" before "Argentina/Buenos_Aires".
  for (let take = Math.min(3, parts.length); take >= 2; take--) {
    candidates.push(parts.slice(parts.length - take).join("/"));
  }
  return candidates;
}
