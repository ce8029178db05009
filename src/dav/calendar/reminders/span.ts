/**
 * How long one instance of a component lasts, so that each occurrence gets its end (and RELATED=END /
 * DUE alarms their anchor). RFC 5545 §3.8.5.3: with DTEND (or DUE) every instance has the same *exact*
 * duration; with DURATION the same *nominal* duration. All-day (DATE) spans are whole days, applied
 * nominally, so a one-day event ends at the next local midnight even on a 23-hour day.
 */
import ICAL from "ical.js";
import { type ZonedTime, addDuration, readTime } from "./time-values.js";
import type { ZoneTable } from "./zone-table.js";
import { DAY_MS, toInstant } from "./zone-model.js";

export type Span =
  | { kind: "exact"; ms: number }
  | { kind: "days"; days: number }
  | { kind: "nominal"; duration: ICAL.Duration }
  | { kind: "none" };

/** The span of a VEVENT (DTEND or DURATION) or a VTODO (DUE or DURATION), measured from `start`. */
export function readSpan(comp: ICAL.Component, start: ZonedTime, zones: ZoneTable): Span {
  const endName = comp.name === "vtodo" ? "due" : "dtend";
  const end = readTime(comp, endName, zones);
  if (end) {
    if (start.isDate && end.isDate)
      return { kind: "days", days: Math.round((end.wall - start.wall) / DAY_MS) };
    return { kind: "exact", ms: end.instant - start.instant };
  }
  const duration = comp.getFirstPropertyValue("duration");
  if (duration instanceof ICAL.Duration) return { kind: "nominal", duration };
  // RFC 5545 §3.6.1: an all-day event without DTEND lasts one day; a timed one ends when it starts.
  if (comp.name === "vevent" && start.isDate) return { kind: "days", days: 1 };
  return { kind: "none" };
}

/** The end instant of an instance starting at `start`. */
export function endOf(span: Span, start: ZonedTime): number {
  switch (span.kind) {
    case "exact":
      return start.instant + span.ms;
    case "days":
      return toInstant(start.zone, start.wall + span.days * DAY_MS);
    case "nominal":
      return addDuration(start.instant, start.zone, span.duration);
    case "none":
      return start.instant;
  }
}

/** Roughly how long the span is, for widening search ranges (not for fire times). */
export function approxSpanMs(span: Span): number {
  switch (span.kind) {
    case "exact":
      return span.ms;
    case "days":
      return span.days * DAY_MS;
    case "nominal":
      return span.duration.toSeconds() * 1000;
    case "none":
      return 0;
  }
}
