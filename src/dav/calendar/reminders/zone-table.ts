/**
 * TZID -> Zone for one VCALENDAR, in this order:
 *   1. a VTIMEZONE with that TZID inside the calendar (RFC 5545 §3.2.19: the definition travels with the
 *      data and wins, also for Outlook's Windows names);
 *   2. a UTC alias ("UTC", "GMT", "Z");
 *   3. the TZID as an IANA name Intl knows ("Europe/Berlin" without VTIMEZONE, as Radicale stores objects
 *      some clients PUT, and as RFC 7809 allows);
 *   4. a Windows zone id from the CLDR table ("Eastern Standard Time");
 *   5. an IANA name embedded in a prefixed TZID ("/mozilla.org/20050126_1/Europe/Berlin");
 *   6. otherwise the user's zone, recorded as a problem (the time is read like a floating one).
 */
import type ICAL from "ical.js";
import { ianaZone } from "./iana-zone.js";
import { vtimezoneZone, type VTimezoneZone } from "./vtimezone-zone.js";
import { embeddedIanaCandidates, isUtcName, windowsZoneToIana } from "./windows-zones.js";
import { UTC_ZONE, type Zone } from "./zone-model.js";

export class ZoneTable {
  readonly userZone: Zone;
  private readonly calendar: ICAL.Component;
  private readonly problems: string[];
  private readonly resolved = new Map<string, Zone>();
  private readonly embedded: VTimezoneZone[] = [];

  constructor(calendar: ICAL.Component, userZone: Zone, problems: string[]) {
    this.calendar = calendar;
    this.userZone = userZone;
    this.problems = problems;
  }

  /** The zone a TZID parameter names. */
  forTzid(tzid: string): Zone {
    let zone = this.resolved.get(tzid);
    if (!zone) {
      zone = this.resolve(tzid);
      this.resolved.set(tzid, zone);
    }
    return zone;
  }

  /** Reports embedded zones whose expansion was cut at the cap; call once after computing. */
  reportTruncated(): void {
    for (const zone of this.embedded) {
      if (zone.truncated) {
        this.problems.push(
          `VTIMEZONE ${zone.id}: too many onsets, offsets after the last one kept are wrong`,
        );
      }
    }
  }

  private resolve(tzid: string): Zone {
    for (const comp of this.calendar.getAllSubcomponents("vtimezone")) {
      if (comp.getFirstPropertyValue("tzid") !== tzid) continue;
      const zone = vtimezoneZone(comp, tzid);
      if (zone) {
        this.embedded.push(zone);
        return zone;
      }
      this.problems.push(`VTIMEZONE ${tzid} has no usable STANDARD/DAYLIGHT; resolving the name instead`);
      break;
    }
    if (isUtcName(tzid)) return UTC_ZONE;
    const byName = ianaZone(tzid) ?? lookupWindows(tzid) ?? lookupEmbedded(tzid);
    if (byName) return byName;
    this.problems.push(`unknown TZID "${tzid}": read in the user's zone ${this.userZone.id}`);
    return this.userZone;
  }
}

function lookupWindows(tzid: string): Zone | undefined {
  const iana = windowsZoneToIana(tzid);
  return iana ? ianaZone(iana) : undefined;
}

function lookupEmbedded(tzid: string): Zone | undefined {
  for (const candidate of embeddedIanaCandidates(tzid)) {
    if (isUtcName(candidate)) return UTC_ZONE;
    const zone = ianaZone(candidate) ?? lookupWindows(candidate);
    if (zone) return zone;
  }
  return undefined;
}
