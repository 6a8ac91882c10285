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
}

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

export function evaluateReminder(history: ReminderHistory | undefined, asOf: string, policy: ReminderPolicy): ReminderDecision {
  const ascending = validatePolicy(policy);
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
  // Once a day at most; a last-sent date after asOf (a replay of an earlier day) also counts as sent.
  if (daysBetween(last, asOf) <= 0) return decide(false);
  if (history?.lastMilestone === milestone) return decide(false);
  if (overdue) return decide(daysBetween(last, asOf) >= policy.overdueEveryDays);
  // Already notified and no threshold crossed yet: nothing new to say.
  if (milestone === FIRST_NOTICE) return decide(false);
  return decide(true);
}

/** The history after a reminder with `decision` went out on `asOf`; the ledger stores this. */
export function recordReminder(history: ReminderHistory | undefined, decision: Pick<ReminderDecision, "milestone">, asOf: string): ReminderHistory {
  return {
    firstNotifiedOn: history?.firstNotifiedOn ?? asOf,
    lastNotifiedOn: asOf,
    lastMilestone: decision.milestone,
    overdueRemindersSent: (history?.overdueRemindersSent ?? 0) + (decision.milestone.startsWith("overdue-") ? 1 : 0),
  };
}
