import { describe, expect, it } from "vitest";
import { addDays, daysBetween, defaultReminderPolicy, evaluateReminder, recordReminder, type ReminderHistory } from "../../../src/core/schedule.js";

const DEADLINE = "2024-02-29";
const policy = defaultReminderPolicy(DEADLINE);

describe("daysBetween", () => {
  it("counts whole UTC days, positive when the second date is later", () => {
    expect(daysBetween("2024-02-28", "2024-03-01")).toBe(2); // leap day in between
    expect(daysBetween("2024-03-01", "2024-02-28")).toBe(-2);
    expect(daysBetween("2024-02-29", "2026-11-26")).toBe(1001);
  });

  it("uses only the date part of a full timestamp", () => {
    expect(daysBetween("2024-02-29T23:59:59Z", "2024-03-01T00:00:01Z")).toBe(1);
  });

  it("rejects impossible or malformed dates", () => {
    expect(() => daysBetween("2023-02-29", "2024-01-01")).toThrow(RangeError);
    expect(() => daysBetween("29/02/2024", "2024-01-01")).toThrow(RangeError);
  });

  it("adds days across month and year ends", () => {
    expect(addDays("2023-12-31", 60)).toBe("2024-02-29");
  });
});

describe("evaluateReminder before the deadline", () => {
  it("is due at once for a finding never notified, with the current milestone", () => {
    expect(evaluateReminder(undefined, "2024-01-15", policy)).toEqual({ due: true, milestone: "T-60", escalate: false, daysToDeadline: 45 });
  });

  it("calls a notice further out than the largest threshold a first notice", () => {
    expect(evaluateReminder(undefined, "2023-06-01", policy)).toMatchObject({ due: true, milestone: "first-notice" });
  });

  it("is not due again until the next threshold is crossed", () => {
    const h: ReminderHistory = { firstNotifiedOn: "2023-12-31", lastNotifiedOn: "2023-12-31", lastMilestone: "T-60", overdueRemindersSent: 0 };
    expect(evaluateReminder(h, "2024-01-15", policy).due).toBe(false);
    expect(evaluateReminder(h, "2024-01-30", policy)).toMatchObject({ due: true, milestone: "T-30" });
  });

  it("sends the most recent missed milestone once, not every missed one", () => {
    const h: ReminderHistory = { firstNotifiedOn: "2023-11-01", lastNotifiedOn: "2023-12-01", lastMilestone: "T-90", overdueRemindersSent: 0 };
    const d = evaluateReminder(h, "2024-02-20", policy); // 9 days left: crossed 60, 30 and 14
    expect(d).toMatchObject({ due: true, milestone: "T-14" });
  });

  it("is not due after a first notice until a threshold is reached", () => {
    const h: ReminderHistory = { firstNotifiedOn: "2023-06-01", lastNotifiedOn: "2023-06-01", lastMilestone: "first-notice", overdueRemindersSent: 0 };
    expect(evaluateReminder(h, "2023-08-01", policy).due).toBe(false);
    expect(evaluateReminder(h, "2023-12-01", policy)).toMatchObject({ due: true, milestone: "T-90" });
  });

  it("reminds on the deadline day itself as T-0", () => {
    const h: ReminderHistory = { firstNotifiedOn: "2023-12-01", lastNotifiedOn: "2024-02-28", lastMilestone: "T-1", overdueRemindersSent: 0 };
    expect(evaluateReminder(h, DEADLINE, policy)).toEqual({ due: true, milestone: "T-0", escalate: false, daysToDeadline: 0 });
  });

  it("is never due twice on the same day, even for a new milestone", () => {
    const h: ReminderHistory = { firstNotifiedOn: "2024-01-30", lastNotifiedOn: "2024-01-30", lastMilestone: "T-60", overdueRemindersSent: 0 };
    expect(evaluateReminder(h, "2024-01-30", policy).due).toBe(false);
  });

  it("honours custom thresholds in any order", () => {
    const custom = { ...policy, reminderDays: [5, 50] };
    expect(evaluateReminder(undefined, "2024-01-15", custom).milestone).toBe("T-50");
  });
});

describe("evaluateReminder after the deadline", () => {
  it("starts counting overdue reminders from one for a finding never notified", () => {
    expect(evaluateReminder(undefined, "2026-11-26", policy)).toEqual({ due: true, milestone: "overdue-1", escalate: false, daysToDeadline: -1001 });
  });

  it("is due every overdueEveryDays days counted from the last reminder", () => {
    const h: ReminderHistory = { firstNotifiedOn: "2024-01-01", lastNotifiedOn: "2024-03-10", lastMilestone: "overdue-1", overdueRemindersSent: 1 };
    expect(evaluateReminder(h, "2024-03-16", policy).due).toBe(false);
    expect(evaluateReminder(h, "2024-03-17", policy)).toMatchObject({ due: true, milestone: "overdue-2" });
  });

  it("waits a full interval after the T-0 reminder before the first overdue one", () => {
    const h: ReminderHistory = { firstNotifiedOn: "2024-01-01", lastNotifiedOn: DEADLINE, lastMilestone: "T-0", overdueRemindersSent: 0 };
    expect(evaluateReminder(h, "2024-03-01", policy).due).toBe(false);
    expect(evaluateReminder(h, "2024-03-07", policy)).toMatchObject({ due: true, milestone: "overdue-1" });
  });

  it("does not resend a milestone the ledger already recorded as sent", () => {
    // The send went out but the counter was not incremented (crash between the two writes).
    const h: ReminderHistory = { firstNotifiedOn: "2024-01-01", lastNotifiedOn: "2024-03-10", lastMilestone: "overdue-2", overdueRemindersSent: 1 };
    expect(evaluateReminder(h, "2024-04-30", policy).due).toBe(false);
  });

  it("escalates the reminder after escalateAfterReminders overdue ones were ignored", () => {
    const base = { firstNotifiedOn: "2024-01-01", lastNotifiedOn: "2024-04-01" };
    expect(evaluateReminder({ ...base, lastMilestone: "overdue-4", overdueRemindersSent: 3 }, "2024-05-01", policy)).toMatchObject({ milestone: "overdue-4", escalate: false });
    expect(evaluateReminder({ ...base, lastMilestone: "overdue-4", overdueRemindersSent: 4 }, "2024-05-01", policy)).toMatchObject({ milestone: "overdue-5", escalate: true });
  });

  it("does not flag escalation when nothing is due", () => {
    const h: ReminderHistory = { firstNotifiedOn: "2024-01-01", lastNotifiedOn: "2024-05-01", lastMilestone: "overdue-9", overdueRemindersSent: 9 };
    expect(evaluateReminder(h, "2024-05-02", policy)).toMatchObject({ due: false, escalate: false });
  });
});

describe("recordReminder", () => {
  it("keeps the first date, moves the last date and counts only overdue reminders", () => {
    const h1 = recordReminder(undefined, evaluateReminder(undefined, "2024-01-15", policy), "2024-01-15");
    expect(h1).toEqual({ firstNotifiedOn: "2024-01-15", lastNotifiedOn: "2024-01-15", lastMilestone: "T-60", overdueRemindersSent: 0, sent: [{ on: "2024-01-15", milestone: "T-60" }] });
    const h2 = recordReminder(h1, evaluateReminder(h1, "2024-03-20", policy), "2024-03-20");
    expect(h2).toMatchObject({ firstNotifiedOn: "2024-01-15", lastNotifiedOn: "2024-03-20", lastMilestone: "overdue-1", overdueRemindersSent: 1 });
  });

  it("yields exactly one reminder per milestone when run daily through the whole schedule", () => {
    let h: ReminderHistory | undefined;
    const sent: string[] = [];
    for (let day = "2023-11-01"; day <= "2024-04-15"; day = addDays(day, 1)) {
      const d = evaluateReminder(h, day, policy);
      if (!d.due) continue;
      sent.push(d.milestone);
      h = recordReminder(h, d, day);
    }
    expect(sent).toEqual(["first-notice", "T-90", "T-60", "T-30", "T-14", "T-7", "T-3", "T-1", "T-0", "overdue-1", "overdue-2", "overdue-3", "overdue-4", "overdue-5", "overdue-6"]);
  });
});

describe("policy validation", () => {
  it("rejects a zero overdue interval and negative thresholds", () => {
    expect(() => evaluateReminder(undefined, "2024-01-01", { ...policy, overdueEveryDays: 0 })).toThrow(RangeError);
    expect(() => evaluateReminder(undefined, "2024-01-01", { ...policy, reminderDays: [-1] })).toThrow(RangeError);
  });
});
