// When an owner is reminded about a finding. Pure functions over calendar days (UTC): the caller
// passes `asOf`, so a run can be replayed for any day and tests need no fake clock.
import { addDays, dayNumber, daysBetween } from "./dates.js";

export interface ReminderPolicy {
  /** YYYY-MM-DD the countdown runs towards. */
  deadline: string;
  /** Days-left thresholds at which a reminder falls due, e.g. 90, 60, 30, 14, 7, 3, 1, 0. */
  reminderDays: number[];
  /** After the deadline, days between reminders, counted from the last one sent. */
  overdueEveryDays: number;
  /** Overdue reminders an owner may ignore before the next one is escalated. */
  escalateAfterReminders: number;
}

/** What the ledger keeps per (owner address, finding). */
export interface ReminderHistory {
  firstNotifiedOn?: string;
  lastNotifiedOn?: string;
  lastMilestone?: string;
  overdueRemindersSent: number;
  /**
   * The reminders sent, oldest first (the last MAX_SENT_KEPT). With it a run counts only what was sent on or before
   * its own day, so one run dated in the future (a wrong clock, `--now 2030-06-01`) neither silences later runs nor
   * moves escalation closer. Histories written before it existed have none.
   */
  sent?: SentReminder[];
}

export interface SentReminder {
  on: string;
  milestone: string;
}

/** Enough for years of weekly reminders; older entries only matter through the counts kept beside them. */
export const MAX_SENT_KEPT = 100;

export interface ReminderDecision {
  due: boolean;
  /** `first-notice`, `T-<days>` or `overdue-<n>`. */
  milestone: string;
  /** True only when a reminder is due and it is the (escalateAfterReminders + 1)th overdue one or later. */
  escalate: boolean;
  /** Positive before the deadline, 0 on it, negative after it. */
  daysToDeadline: number;
}

export const DEFAULT_REMINDER_DAYS: readonly number[] = [90, 60, 30, 14, 7, 3, 1, 0];
export const DEFAULT_OVERDUE_EVERY_DAYS = 7;
export const DEFAULT_ESCALATE_AFTER_REMINDERS = 4;
export const FIRST_NOTICE = "first-notice";

export function defaultReminderPolicy(deadline: string): ReminderPolicy {
  return {
    deadline,
    reminderDays: [...DEFAULT_REMINDER_DAYS],
    overdueEveryDays: DEFAULT_OVERDUE_EVERY_DAYS,
    escalateAfterReminders: DEFAULT_ESCALATE_AFTER_REMINDERS,
  };
}

// Re-exported: callers of the schedule reason in the same calendar days.
export { addDays, dayNumber, daysBetween };

function validatePolicy(policy: ReminderPolicy): number[] {
  dayNumber(policy.deadline);
  for (const d of policy.reminderDays) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`reminderDays must be non-negative integers, got ${d}`);
  }
  if (!Number.isInteger(policy.overdueEveryDays) || policy.overdueEveryDays < 1) {
    throw new RangeError(`overdueEveryDays must be a positive integer, got ${policy.overdueEveryDays}`);
  }
  if (!Number.isInteger(policy.escalateAfterReminders) || policy.escalateAfterReminders < 0) {
    throw new RangeError(`escalateAfterReminders must be a non-negative integer, got ${policy.escalateAfterReminders}`);
  }
  return [...new Set(policy.reminderDays)].sort((a, b) => a - b);
}

/** The milestone the countdown is at on `daysToDeadline` (>= 0): the smallest threshold not below it. */
function countdownMilestone(daysToDeadline: number, ascending: readonly number[]): string {
  const crossed = ascending.find((t) => t >= daysToDeadline);
  return crossed === undefined ? FIRST_NOTICE : `T-${crossed}`;
}

/**
 * The history as it stood on `asOf`: reminders dated after it do not count as sent. Without a `sent` list (an older
 * history) only the last reminder's day is known, so a last one after `asOf` leaves the first one standing.
 */
export function historyAsOf(history: ReminderHistory | undefined, asOf: string): ReminderHistory | undefined {
  if (!history) return undefined;
  const day = dayNumber(asOf);
  const last = history.lastNotifiedOn ?? history.firstNotifiedOn;
  if (last === undefined || dayNumber(last) <= day) return history;
  const sent = history.sent ?? [{ on: last, milestone: history.lastMilestone ?? "" }];
  const kept = sent.filter((s) => dayNumber(s.on) <= day);
  const future = sent.filter((s) => dayNumber(s.on) > day);
  const overdueRemindersSent = Math.max(0, history.overdueRemindersSent - future.filter((s) => s.milestone.startsWith("overdue-")).length);
  const latest = kept[kept.length - 1];
  if (latest) {
    return { firstNotifiedOn: history.firstNotifiedOn ?? latest.on, lastNotifiedOn: latest.on, lastMilestone: latest.milestone, overdueRemindersSent, sent: kept };
  }
  if (history.firstNotifiedOn === undefined || dayNumber(history.firstNotifiedOn) > day) return undefined;
  return { firstNotifiedOn: history.firstNotifiedOn, lastNotifiedOn: history.firstNotifiedOn, overdueRemindersSent, sent: [] };
}

/** How many reminders of this history are dated after `asOf` (and so were not counted for it). */
export function remindersAfter(history: ReminderHistory | undefined, asOf: string): number {
  if (!history) return 0;
  const day = dayNumber(asOf);
  const last = history.lastNotifiedOn ?? history.firstNotifiedOn;
  if (last === undefined || dayNumber(last) <= day) return 0;
  return history.sent ? history.sent.filter((s) => dayNumber(s.on) > day).length : 1;
}

/** Whether this reminder (milestone, day) is already in the history: recording an outcome twice changes nothing. */
export function isRecorded(history: ReminderHistory | undefined, milestone: string, on: string): boolean {
  if (!history) return false;
  if (history.sent) return history.sent.some((s) => s.on === on && s.milestone === milestone);
  return history.lastNotifiedOn === on && history.lastMilestone === milestone;
}

/**
 * `openSince`: the day the finding was last found open after having been resolved (or first found). A reminder sent
 * before that day was about its earlier life: the finding is due at once, as a new one is.
 */
export function evaluateReminder(stored: ReminderHistory | undefined, asOf: string, policy: ReminderPolicy, openSince?: string): ReminderDecision {
  const ascending = validatePolicy(policy);
  const history = historyAsOf(stored, asOf);
  const daysToDeadline = daysBetween(asOf, policy.deadline);
  const sent = Math.max(0, Math.floor(history?.overdueRemindersSent ?? 0));
  const overdue = daysToDeadline < 0;
  const milestone = overdue ? `overdue-${sent + 1}` : countdownMilestone(daysToDeadline, ascending);
  const decide = (due: boolean): ReminderDecision => ({
    due,
    milestone,
    escalate: due && overdue && sent + 1 > policy.escalateAfterReminders,
    daysToDeadline,
  });

  const last = history?.lastNotifiedOn ?? history?.firstNotifiedOn;
  // Never notified: tell them now, whatever the countdown says.
  if (last === undefined) return decide(true);
  // Once a day at most (reminders dated after asOf were dropped above: they do not count).
  if (daysBetween(last, asOf) <= 0) return decide(false);
  // Back after a resolution: the owner's last word was an all-clear, so this is news.
  if (openSince !== undefined && dayNumber(last) < dayNumber(openSince) && dayNumber(openSince) <= dayNumber(asOf)) return decide(true);
  if (history?.lastMilestone === milestone) return decide(false);
  if (overdue) return decide(daysBetween(last, asOf) >= policy.overdueEveryDays);
  // Already notified and no threshold crossed yet: nothing new to say.
  if (milestone === FIRST_NOTICE) return decide(false);
  return decide(true);
}

/** The history after a reminder with `decision` went out on `asOf`; the ledger stores this. */
export function recordReminder(history: ReminderHistory | undefined, decision: Pick<ReminderDecision, "milestone">, asOf: string): ReminderHistory {
  const earlier = history?.sent ?? (history?.lastNotifiedOn ? [{ on: history.lastNotifiedOn, milestone: history.lastMilestone ?? "" }] : []);
  // Kept in day order: a run for an earlier day than one already recorded (a replay, or after a wrong clock) slots in.
  const sent = [...earlier, { on: asOf, milestone: decision.milestone }].sort((a, b) => dayNumber(a.on) - dayNumber(b.on)).slice(-MAX_SENT_KEPT);
  const latest = sent[sent.length - 1] ?? { on: asOf, milestone: decision.milestone };
  const first = history?.firstNotifiedOn;
  return {
    firstNotifiedOn: first !== undefined && dayNumber(first) <= dayNumber(asOf) ? first : asOf,
    lastNotifiedOn: latest.on,
    lastMilestone: latest.milestone,
    overdueRemindersSent: (history?.overdueRemindersSent ?? 0) + (decision.milestone.startsWith("overdue-") ? 1 : 0),
    sent,
  };
}
