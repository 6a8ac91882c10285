// The words and numbers every output shares: the report page, the digest and admin mails, and the CLI summary.
// Fixed en-US / UTC output, so the same audit reads the same everywhere and on every machine.
import { daysBetween } from "../core/dates.js";

const NUMBER = new Intl.NumberFormat("en-US");
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const ISO_DATE_PREFIX = /^(\d{4})-(\d{2})-(\d{2})/;

/** `1001` → `1,001`. */
export function formatNumber(n: number): string {
  return NUMBER.format(n);
}

/** `1 day`, `2 days`, `1,001 findings`; `many` for irregular plurals. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatNumber(n)} ${n === 1 ? one : many}`;
}

function dateParts(iso: string): { day: number; month: string; year: string } | undefined {
  const m = ISO_DATE_PREFIX.exec(iso);
  const month = m ? MONTHS[Number(m[2]) - 1] : undefined;
  return m?.[1] && month ? { day: Number(m[3]), month, year: m[1] } : undefined;
}

/** `2024-02-29` (or a date-time) → `29 February 2024`; anything unparseable is returned as given. */
export function longDate(iso: string): string {
  const p = dateParts(iso);
  return p ? `${p.day} ${p.month} ${p.year}` : iso;
}

/** `2024-02-29` → `29 Feb`, for chart axes; anything unparseable is returned as given. */
export function shortDate(iso: string): string {
  const p = dateParts(iso);
  return p ? `${p.day} ${p.month.slice(0, 3)}` : iso;
}

/** The `YYYY-MM-DD` part of a date or date-time; empty for undefined. */
export function isoDay(iso: string | undefined): string {
  return (iso ?? "").slice(0, 10);
}

/** `2024-02-29T10:15:00Z` → `2024-02-29 10:15 UTC`; anything else is returned as given. */
export function utcTimestamp(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return m ? `${m[1]} ${m[2]} UTC` : iso;
}

/** Whole days between the days of two dates or date-times; undefined when either is not a date (data from Azure may not be). */
export function daysFromTo(from: string, to: string): number | undefined {
  try {
    return daysBetween(isoDay(from), isoDay(to));
  } catch {
    return undefined;
  }
}

/** Days to a deadline as people say it: "1,001 days overdue", "due today", "14 days left". */
export function countdownPhrase(daysToDeadline: number): string {
  if (daysToDeadline < 0) return `${plural(-daysToDeadline, "day")} overdue`;
  if (daysToDeadline === 0) return "due today";
  return `${plural(daysToDeadline, "day")} left`;
}

/** "in 3 days", "in 1 day". */
export function inDays(days: number): string {
  return `in ${plural(days, "day")}`;
}

/** "3 days ago", "1 day ago". */
export function daysAgo(days: number): string {
  return `${plural(days, "day")} ago`;
}

/** What waits in the outbox, in one sentence (the report, the admin summary). */
export function backlogSentence(b: { messages: number; owners: number; neverTold: number; eta?: string; limits: { perMinute: number; perHour: number } }): string {
  if (b.messages === 0) return "Outbox empty: every planned message has been sent.";
  const what = `${plural(b.messages, "message")} for ${plural(b.owners, "owner")} (${formatNumber(b.neverTold)} never told) wait to be sent`;
  const limits = `${formatNumber(b.limits.perMinute)} a minute and ${formatNumber(b.limits.perHour)} an hour`;
  return b.eta
    ? `${what}; at ${limits}, every owner will have been told by ${utcTimestamp(b.eta)}.`
    : `${what}; at ${limits}, not within 60 days: ask for a higher Communication Services email quota.`;
}
