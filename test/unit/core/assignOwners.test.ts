import { describe, expect, it } from "vitest";
import { assignOwners, type SnoozePolicy } from "../../../src/core/assignOwners.js";
import type { BatchAccountInfo, Finding } from "../../../src/core/model.js";
import type { OwnerPolicy } from "../../../src/core/owners.js";

const SUB = "11111111-1111-4111-8111-111111111111";
const accountWith = (tags: Record<string, string>): BatchAccountInfo => ({
  id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct`,
  name: "acct",
  subscriptionId: SUB,
  resourceGroup: "rg",
  location: "westeurope",
  tags,
});
const finding = (acct: BatchAccountInfo): Finding => ({
  id: "f1",
  kind: "account-certificate",
  severity: "warning",
  resourceId: `${acct.id}/certificates/sha1-aa`,
  subscriptionId: SUB,
  resourceGroup: "rg",
  accountName: acct.name,
  accountId: acct.id,
  detail: "",
});
const owners: OwnerPolicy = { ownerTagKeys: ["owner"], fallbackContacts: [], allowedRecipientDomains: [] };
const snooze: SnoozePolicy = { tagKey: "batch-cert-audit-snooze", reasonTagKey: "batch-cert-audit-snooze-reason", maxDays: 90 };

function assign(snoozeValue: string, asOf: string): Finding {
  const acct = accountWith({ owner: "team@contoso.com", "batch-cert-audit-snooze": snoozeValue });
  const [out] = assignOwners([finding(acct)], { accounts: [acct], resourceGroups: [], subscriptions: [] }, { owners, snooze, asOf });
  if (!out) throw new Error("no finding");
  return out;
}

describe("assignOwners: snooze", () => {
  it("holds reminders until a snooze date within MAX_SNOOZE_DAYS", () => {
    const f = assign("2026-12-31", "2026-11-26");
    expect(f.snoozedUntil).toBe("2026-12-31");
    expect(f.ownerProblems).toEqual([]);
  });

  it("holds reminders until a snooze date exactly MAX_SNOOZE_DAYS ahead", () => {
    expect(assign("2027-02-24", "2026-11-26").snoozedUntil).toBe("2027-02-24");
  });

  it("refuses a snooze date further ahead than MAX_SNOOZE_DAYS, on every run, and says so", () => {
    for (const asOf of ["2026-11-26", "2027-01-01", "2027-06-01"]) {
      const f = assign("2099-01-01", asOf);
      expect(f.snoozedUntil, asOf).toBeUndefined();
      expect(f.ownerProblems).toEqual([
        'snooze tag "batch-cert-audit-snooze" (2099-01-01) is more than 90 days ahead; not applied — set a date within 90 days',
      ]);
    }
  });

  it("ignores a snooze date in the past and reports one that is not a date", () => {
    expect(assign("2026-01-01", "2026-11-26").snoozedUntil).toBeUndefined();
    const bad = assign("next week", "2026-11-26");
    expect(bad.snoozedUntil).toBeUndefined();
    expect(bad.ownerProblems?.[0]).toMatch(/is not a date/);
  });
});
