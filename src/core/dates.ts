// Calendar arithmetic on UTC days (YYYY-MM-DD). The audit reasons in whole days; the clock is read elsewhere.

const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})(?:T.*)?$/;
const MS_PER_DAY = 86_400_000;

/**
 * Day number (days since 1970-01-01) of a `YYYY-MM-DD` date. A full ISO date-time is accepted and
 * only its date part used, because the ledger stores timestamps and the day is what matters.
 * Throws on anything else, including impossible dates such as 2023-02-29.
 */
export function dayNumber(iso: string): number {
  const m = ISO_DAY.exec(iso);
  if (!m) throw new RangeError(`not an ISO date (YYYY-MM-DD): ${JSON.stringify(iso.slice(0, 40))}`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) {
    throw new RangeError(`not a calendar date: ${JSON.stringify(iso.slice(0, 40))}`);
  }
  return Math.round(ms / MS_PER_DAY);
}

/** True for a real calendar day written as YYYY-MM-DD (and nothing after it). */
export function isIsoDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  try {
    dayNumber(value);
    return true;
  } catch {
    return false;
  }
}

export function toIsoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** Whole days from `a` to `b` (positive when `b` is later). */
export function daysBetween(a: string, b: string): number {
  return dayNumber(b) - dayNumber(a);
}

/** `YYYY-MM-DD` of the day `days` after `iso`. */
export function addDays(iso: string, days: number): string {
  return new Date((dayNumber(iso) + days) * MS_PER_DAY).toISOString().slice(0, 10);
}
