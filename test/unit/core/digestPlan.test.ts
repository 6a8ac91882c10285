import { describe, expect, it } from "vitest";
import type { Finding } from "../../../src/core/model.js";
import { allClearOperationId, digestOperationId, historyKey, planAllClear, planDigests } from "../../../src/core/digestPlan.js";
import { defaultReminderPolicy, type ReminderHistory } from "../../../src/core/schedule.js";

const policy = defaultReminderPolicy("2024-02-29");
const AS_OF = "2026-11-26";

function finding(id: string, over: Partial<Finding> = {}): Finding {
  const sub = over.subscriptionId ?? "sub-a";
  const acct = over.accountName ?? "acct1";
  const accountId = `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/${acct}`;
  return {
    id,
    kind: "pool-certificate-reference",
    severity: "warning",
    resourceId: `${accountId}/pools/${id}`,
    subscriptionId: sub,
    resourceGroup: "rg",
    accountName: acct,
    accountId,
    poolName: id,
    detail: "",
    owners: [{ address: "alice@contoso.com", source: 'account tag "owner"' }],
    ...over,
  };
}

const sentRecently = (on: string, n = 1): ReminderHistory => ({ firstNotifiedOn: "2024-01-01", lastNotifiedOn: on, lastMilestone: `overdue-${n}`, overdueRemindersSent: n });

describe("planDigests", () => {
  it("plans one digest per owner address, never a shared To list", () => {
    const f = finding("p1", { owners: [{ address: "alice@contoso.com", source: "x" }, { address: "bob@contoso.com", source: "x" }] });
    const plans = planDigests([f], new Map(), AS_OF, policy, []);
    expect(plans.map((p) => p.recipient)).toEqual(["alice@contoso.com", "bob@contoso.com"]);
    expect(plans.every((p) => p.kind === "owner" && p.items.length === 1)).toBe(true);
  });

  it("sends nothing to an owner with no due finding", () => {
    const f = finding("p1");
    const histories = new Map([[historyKey("alice@contoso.com", "p1"), sentRecently("2026-11-25")]]);
    expect(planDigests([f], histories, AS_OF, policy, [])).toEqual([]);
  });

  it("includes the owner's not-due findings alongside the due one", () => {
    const due = finding("p-due");
    const notDue = finding("p-quiet");
    const histories = new Map([[historyKey("ALICE@contoso.com", "p-quiet"), sentRecently("2026-11-25")]]);
    const [plan] = planDigests([due, notDue], histories, AS_OF, policy, []);
    expect(plan?.items.map((i) => [i.finding.id, i.decision.due])).toEqual([
      ["p-due", true],
      ["p-quiet", false],
    ]);
    expect(plan?.dueItems.map((i) => i.finding.id)).toEqual(["p-due"]);
  });

  it("looks histories up by lower-cased address", () => {
    const f = finding("p1", { owners: [{ address: "Alice@Contoso.com", source: "x" }] });
    const histories = new Map([[historyKey("alice@contoso.com", "p1"), sentRecently("2026-11-25")]]);
    expect(planDigests([f], histories, AS_OF, policy, [])).toEqual([]);
  });

  it("leaves out snoozed findings until the snooze date has passed", () => {
    const snoozed = finding("p1", { snoozedUntil: "2026-12-31" });
    expect(planDigests([snoozed], new Map(), AS_OF, policy, [])).toEqual([]);
    const expired = finding("p1", { snoozedUntil: AS_OF });
    expect(planDigests([expired], new Map(), AS_OF, policy, [])).toHaveLength(1);
  });

  it("puts critical findings first, then the most overdue", () => {
    const w = finding("w", { severity: "warning" });
    const c = finding("c", { severity: "critical" });
    const longIgnored = finding("old", { severity: "warning" });
    const histories = new Map([[historyKey("alice@contoso.com", "old"), sentRecently("2026-11-01", 6)]]);
    const [plan] = planDigests([w, longIgnored, c], histories, AS_OF, policy, []);
    expect(plan?.items.map((i) => i.finding.id)).toEqual(["c", "old", "w"]);
  });

  it("groups items by subscription then account, in urgency order", () => {
    const a = finding("a", { subscriptionId: "sub-a", accountName: "one" });
    const b = finding("b", { subscriptionId: "sub-b", accountName: "two", severity: "critical" });
    const c = finding("c", { subscriptionId: "sub-a", accountName: "three" });
    const [plan] = planDigests([a, b, c], new Map(), AS_OF, policy, []);
    expect(plan?.groups.map((g) => [g.subscriptionId, g.accounts.map((x) => x.accountName)])).toEqual([
      ["sub-b", ["two"]],
      ["sub-a", ["one", "three"]],
    ]);
  });

  it("gives each escalation contact its own copy when a reminder escalates", () => {
    const f = finding("p1");
    const histories = new Map([[historyKey("alice@contoso.com", "p1"), sentRecently("2026-11-01", 4)]]);
    const plans = planDigests([f], histories, AS_OF, policy, ["lead@contoso.com", "LEAD@contoso.com", "cto@contoso.com", "not an address"]);
    expect(plans.map((p) => [p.recipient, p.kind, p.ownerAddress])).toEqual([
      ["alice@contoso.com", "owner", "alice@contoso.com"],
      ["lead@contoso.com", "escalation", "alice@contoso.com"],
      ["cto@contoso.com", "escalation", "alice@contoso.com"],
    ]);
    expect(plans.every((p) => p.escalate)).toBe(true);
    expect(plans[0]?.overdueRemindersSent).toBe(4);
  });

  it("does not escalate before escalateAfterReminders overdue reminders were sent", () => {
    const histories = new Map([[historyKey("alice@contoso.com", "p1"), sentRecently("2026-11-01", 3)]]);
    const plans = planDigests([finding("p1")], histories, AS_OF, policy, ["lead@contoso.com"]);
    expect(plans.map((p) => p.recipient)).toEqual(["alice@contoso.com"]);
  });

  it("does not send an escalation copy to the owner themself", () => {
    const histories = new Map([[historyKey("alice@contoso.com", "p1"), sentRecently("2026-11-01", 9)]]);
    const plans = planDigests([finding("p1")], histories, AS_OF, policy, ["Alice@contoso.com"]);
    expect(plans).toHaveLength(1);
  });

  it("counts a finding listed twice for the same owner once", () => {
    const f = finding("p1", { owners: [{ address: "alice@contoso.com", source: "x" }, { address: "ALICE@contoso.com", source: "y" }] });
    const [plan] = planDigests([f, f], new Map(), AS_OF, policy, []);
    expect(plan?.items).toHaveLength(1);
  });
});

describe("digestOperationId", () => {
  it("is the same for the same plan on the same day and changes with the day, recipient or due set", () => {
    const f1 = finding("p1");
    const f2 = finding("p2");
    const id = (fs: Finding[], asOf = AS_OF) => planDigests(fs, new Map(), asOf, policy, []).map((p) => digestOperationId(p));
    expect(id([f1, f2])).toEqual(id([f2, f1]));
    expect(id([f1, f2])).not.toEqual(id([f1, f2], "2026-11-27"));
    expect(id([f1])).not.toEqual(id([f1, f2]));
    const bob = finding("p1", { owners: [{ address: "bob@contoso.com", source: "x" }] });
    expect(id([f1])).not.toEqual(id([bob]));
  });

  it("passes the canonical key through the adapter's hash when one is given", () => {
    const [plan] = planDigests([finding("p1")], new Map(), AS_OF, policy, []);
    if (!plan) throw new Error("expected a plan");
    expect(digestOperationId(plan, (s) => `h(${s.length})`)).toBe(`h(${digestOperationId(plan).length})`);
  });

  it("differs between an owner's digest and an escalation copy of it", () => {
    const histories = new Map([[historyKey("alice@contoso.com", "p1"), sentRecently("2026-11-01", 5)]]);
    const plans = planDigests([finding("p1")], histories, AS_OF, policy, ["lead@contoso.com"]);
    expect(new Set(plans.map((p) => digestOperationId(p))).size).toBe(2);
  });
});

describe("planAllClear", () => {
  it("tells an owner whose last open finding was resolved, once, listing what was resolved", () => {
    const resolved = [finding("p1"), finding("p2")];
    const plans = planAllClear(resolved, [], AS_OF);
    expect(plans).toHaveLength(1);
    expect(plans[0]?.recipient).toBe("alice@contoso.com");
    expect(plans[0]?.resolved.map((f) => f.id)).toEqual(["p1", "p2"]);
  });

  it("says nothing to an owner who still has an open finding", () => {
    // The caller names the owners of every open finding, snoozed ones too, in whatever case they were written.
    expect(planAllClear([finding("p1")], ["ALICE@contoso.com"], AS_OF)).toEqual([]);
    expect(planAllClear([finding("p1")], ["bob@contoso.com"], AS_OF)).toHaveLength(1);
  });

  it("has a stable operation id", () => {
    const a = planAllClear([finding("p1"), finding("p2")], [], AS_OF)[0];
    const b = planAllClear([finding("p2"), finding("p1")], [], AS_OF)[0];
    if (!a || !b) throw new Error("expected plans");
    expect(allClearOperationId(a)).toBe(allClearOperationId(b));
  });
});
