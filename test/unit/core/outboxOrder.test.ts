// The order the outbox drains in and what it says is left: owners never told before repeat reminders, then the
// longest-waiting; the admin summary first, carrying the backlog and when every owner will have been told.
import { describe, expect, it } from "vitest";
import { historyKey } from "../../../src/core/digestPlan.js";
import type { AuditReport, Finding } from "../../../src/core/model.js";
import { parseNcrontab } from "../../../src/core/ncrontab.js";
import type { FindingState } from "../../../src/core/ports.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { sendReminders, type AdminSummary, type MessageRenderer } from "../../../src/core/sendReminders.js";
import { MemoryLedger, ScriptedMailService } from "../../support/memoryPorts.js";
import { minimalReport } from "../../support/minimalReport.js";

const SUB = "11111111-1111-4111-8111-111111111111";
const ACCOUNT = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct`;
const ASOF = "2026-11-26";

const finding = (owner: string, severity: "critical" | "warning" = "warning"): Finding => ({
  id: `pool-certificate-reference:${ACCOUNT}/pools/${owner}`.toLowerCase(),
  kind: "pool-certificate-reference",
  severity,
  resourceId: `${ACCOUNT}/pools/${owner}`,
  subscriptionId: SUB,
  resourceGroup: "rg",
  accountName: "acct",
  accountId: ACCOUNT,
  references: [],
  detail: "",
  owners: [{ address: owner, source: 'account tag "owner"' }],
});

// New-since-10th and new-since-20th owners have never been told; the others were told on 15 October and 1 November
// and are due their next overdue reminder (the deadline is long past, OVERDUE_EVERY_DAYS 7).
const OWNERS = {
  newSince20th: "ann@contoso.com",
  newSince10th: "zed@contoso.com",
  toldNov1: "bob@contoso.com",
  toldOct15: "cat@contoso.com",
};

function setUp(): { ledger: MemoryLedger; report: AuditReport; states: FindingState[] } {
  const findings = [finding(OWNERS.newSince20th, "critical"), finding(OWNERS.newSince10th), finding(OWNERS.toldNov1, "critical"), finding(OWNERS.toldOct15)];
  const firstSeen: Record<string, string> = { [OWNERS.newSince20th]: "2026-11-20", [OWNERS.newSince10th]: "2026-11-10", [OWNERS.toldNov1]: "2026-09-01", [OWNERS.toldOct15]: "2026-09-01" };
  const states: FindingState[] = findings.map((f) => ({
    findingId: f.id,
    kind: f.kind,
    resourceId: f.resourceId,
    accountId: f.accountId,
    accountName: f.accountName,
    subscriptionId: f.subscriptionId,
    severity: f.severity,
    owners: (f.owners ?? []).map((o) => o.address),
    firstSeen: firstSeen[f.owners?.[0]?.address ?? ""] ?? ASOF,
    lastSeen: ASOF,
  }));
  const ledger = new MemoryLedger();
  ledger.states = states;
  for (const [owner, day] of [
    [OWNERS.toldNov1, "2026-11-01"],
    [OWNERS.toldOct15, "2026-10-15"],
  ] as const) {
    ledger.history.set(historyKey(owner, finding(owner).id), { firstNotifiedOn: "2026-09-01", lastNotifiedOn: day, lastMilestone: "overdue-1", overdueRemindersSent: 1, sent: [{ on: day, milestone: "overdue-1" }] });
  }
  const report: AuditReport = minimalReport(ASOF, findings, { critical: 2, warning: 2 });
  return { ledger, report, states };
}

function drain(perHour: number, adminSummaryTo: string[] = [], summaries: AdminSummary[] = []) {
  const { ledger, report, states } = setUp();
  const mail = new ScriptedMailService();
  let t = Date.parse(`${ASOF}T07:00:00Z`);
  const renderer: MessageRenderer = {
    digest: async (plan) => ({ subject: `digest ${plan.recipient}`, html: "<p>d</p>", text: "d" }),
    allClear: async (plan) => ({ subject: `all clear ${plan.recipient}`, html: "<p>c</p>", text: "c" }),
    adminSummary: async (summary) => (summaries.push(structuredClone(summary)), { subject: "summary", html: "<p>s</p>", text: "s" }),
  };
  const schedule = parseNcrontab("0 30 * * * *");
  return {
    mail,
    result: sendReminders(
      { ledger, sender: mail, renderer, hash: (s) => s, now: () => new Date(t), sleep: async (ms) => void (t += ms) },
      {
        report,
        findingStates: states,
        runId: "run-1",
        policy: defaultReminderPolicy("2024-02-29"),
        escalationContacts: [],
        adminSummaryTo,
        allowedRecipientDomains: [],
        mode: "live",
        limits: { perMinute: 30, perHour },
        drain: { nextRun: (after) => schedule.next(after), runMinutes: 25 },
      },
    ),
  };
}

describe("the outbox's order", () => {
  it("sends to owners never told first, longest-waiting first, then repeat reminders by how long ago the owner was last told", async () => {
    const { result } = drain(100);
    const sent = (await result).messages.filter((m) => m.outcome === "sent").map((m) => m.recipient);
    // Severity does not jump the queue: ann's critical finding waits behind zed, who has waited longer.
    expect(sent).toEqual([OWNERS.newSince10th, OWNERS.newSince20th, OWNERS.toldOct15, OWNERS.toldNov1]);
  });

  it("defers what does not fit the hour and says what is left, for whom, and when the sending runs will have sent it", async () => {
    const { result } = drain(2);
    const r = await result;
    expect(r.messages.filter((m) => m.outcome === "sent").map((m) => m.recipient)).toEqual([OWNERS.newSince10th, OWNERS.newSince20th]);
    expect(r.backlog).toMatchObject({ messages: 2, owners: 2, neverTold: 0, limits: { perMinute: 30, perHour: 2 } });
    // Both sends at 07:00: the 07:30 run finds the hour spent until 08:00, the 08:30 run sends the rest.
    expect(r.backlog?.eta).toMatch(/^2026-11-26T08:30/);
    expect(r.backlog?.runs).toBe(1);
  });

  it("sends the admin summary first, with the backlog as the run starts and when every owner will have been told", async () => {
    const summaries: AdminSummary[] = [];
    const { result } = drain(3, ["admins@contoso.com"], summaries);
    const r = await result;
    expect(r.messages[0]).toMatchObject({ kind: "admin-summary", outcome: "sent" });
    expect(summaries[0]?.backlog).toMatchObject({ messages: 4, owners: 4, neverTold: 2 });
    // The summary and two owners fit this hour; the other two go at 08:30.
    expect(summaries[0]?.backlog?.eta).toMatch(/^2026-11-26T08:30/);
    expect(r.backlog).toMatchObject({ messages: 2, owners: 2, neverTold: 0 });
  });
});
