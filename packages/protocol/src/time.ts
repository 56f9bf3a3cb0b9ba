/**
 * Protocol times (docs/protocol.md §1): RFC 3339 with seconds, `T` and `Z` or `±HH:MM`,
 * restricted to what PostgreSQL's timestamptz and JavaScript's Date both hold exactly, so a
 * time the collector accepts can always be stored and read back. zod's own ISO check lets
 * through year 0000 (PostgreSQL: 22008) and offsets up to ±23:59 (beyond ±15:59: 22009).
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;

/** Real zones run from −12:00 to +14:00. */
export const MAX_OFFSET_MINUTES = 14 * 60;

const FIRST_MS = (() => {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  return d.getTime();
})();
const LAST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(2000, month, 0)).getUTCDate() - (month === 2 && !(year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 1 : 0);
}

/**
 * The instant a protocol time names, in ms since the epoch, or null when it is not one: not
 * RFC 3339 with seconds, a date that does not exist (2026-02-30), a leap second (:60, which
 * JavaScript cannot represent), an offset beyond ±14:00, or an instant outside the years
 * 0001–9999 in UTC.
 */
export function parseProtocolTime(value: string): number | null {
  const m = RFC3339.exec(value);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offset = 0;
  if (m[8]) {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (om > 59) return null;
    offset = (oh * 60 + om) * (m[8] === '-' ? -1 : 1);
    if (Math.abs(offset) > MAX_OFFSET_MINUTES) return null;
  }
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0);
  const ms = d.getTime() - offset * 60_000;
  return ms >= FIRST_MS && ms <= LAST_MS ? ms : null;
}

/** An event's time is believed when it is no earlier than this … */
export const EARLIEST_EVENT_TIME_MS = Date.UTC(2000, 0, 1);
/** … and no more than this ahead of the collector's clock (docs/protocol.md §6, rule 8). */
export const MAX_CLOCK_AHEAD_MS = 24 * 3600_000;

/** Whether a device's time for an event is believable against the collector's clock `now`. */
export function isBelievableEventTime(ms: number, now: number): boolean {
  return ms >= EARLIEST_EVENT_TIME_MS && ms <= now + MAX_CLOCK_AHEAD_MS;
}
