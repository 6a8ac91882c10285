import { describe, expect, it } from "vitest";
import { historyKey, planDigests } from "../../../../src/core/digestPlan.js";
import type { Finding } from "../../../../src/core/model.js";
import { defaultReminderPolicy, type ReminderHistory } from "../../../../src/core/schedule.js";

const AS_OF = "2026-12-04";
const ACCOUNT = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct";
const POOL = `${ACCOUNT}/pools/render`;

function poolFinding(rule: string, deadline: string, severity: Finding["severity"] = "critical"): Finding {
  return {
    id: `${rule}:${POOL.toLowerCase()}`,
    kind: rule === "pool-certificate-reference" ? "pool-certificate-reference" : "pool",
    rule,
    deadline,
    severity,
    resourceId: POOL,
    subscriptionId: "s1",
    resourceGroup: "rg",
    accountName: "acct",
    accountId: ACCOUNT,
    poolName: "render",
    detail: "",
    owners: [{ address: "alice@contoso.com", source: 'account tag "owner"' }],
  };
}

const told = (on: string, milestone: string, overdue = 0): ReminderHistory => ({ firstNotifiedOn: "2026-10-01", lastNotifiedOn: on, lastMilestone: milestone, overdueRemindersSent: overdue });

describe("reminders per rule", () => {
  // One pool three rules find: the certificate retirement (past), Windows Server 2016 (39 days) and Dv2 (514 days).
  const findings = [poolFinding("d-ds-dv2-dsv2-ls", "2028-05-01", "warning"), poolFinding("windows-server-2016-image", "2027-01-12"), poolFinding("pool-certificate-reference", "2024-02-29")];
  // The certificate policy's deadline is the retirement date: each finding must count to its own instead.
  const policy = defaultReminderPolicy("2024-02-29");

  it("a pool three rules find is one digest with one item per rule, most urgent deadline first", () => {
    const plans = planDigests(findings, new Map(), AS_OF, policy, []);
    expect(plans).toHaveLength(1);
    expect(plans[0]?.items.map((i) => [i.finding.rule, i.decision.milestone, i.decision.daysToDeadline])).toEqual([
      ["pool-certificate-reference", "overdue-1", -1009],
      ["windows-server-2016-image", "T-60", 39],
      ["d-ds-dv2-dsv2-ls", "first-notice", 514],
    ]);
  });

  it("counts each finding down to its own deadline: the Windows Server 2016 item falls due at T-30, not on the overdue cadence", () => {
    const histories = new Map([
      [historyKey("alice@contoso.com", findings[0]!.id), told("2026-11-20", "first-notice")],
      [historyKey("alice@contoso.com", findings[1]!.id), told("2026-11-20", "T-60")],
      [historyKey("alice@contoso.com", findings[2]!.id), told("2026-12-01", "overdue-3", 3)],
    ]);
    // 2026-12-04: nothing new for any rule (T-60 already told; overdue told 3 days ago; Dv2 far off).
    expect(planDigests(findings, histories, AS_OF, policy, [])).toEqual([]);
    // 2026-12-14: 29 days before 2027-01-12 the Windows item crosses T-30; the overdue one is due again too (13 days).
    const [plan] = planDigests(findings, histories, "2026-12-14", policy, []);
    expect(plan?.dueItems.map((i) => [i.finding.rule, i.decision.milestone])).toEqual([
      ["pool-certificate-reference", "overdue-4"],
      ["windows-server-2016-image", "T-30"],
    ]);
  });
});
