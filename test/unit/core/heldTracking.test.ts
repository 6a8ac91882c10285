// The daily job holds its findings deflated from the audit's end (holdReportFindings): tracking reads them a page at a
// time and never through the report's key (which inflates them all at once), writes the same states as from the
// findings as objects, and the report it answers (a copy, where it adds scopes no longer visible) holds them still,
// with the page's orders.
import { describe, expect, it } from "vitest";
import { heldList } from "../../../src/core/deflatedJson.js";
import type { AccountCoverage, AuditReport, Finding } from "../../../src/core/model.js";
import type { FindingState } from "../../../src/core/ports.js";
import { trackFindings } from "../../../src/core/trackFindings.js";
import { holdReportFindings, pageFindings } from "../../../src/render/report/pageFindings.js";
import { MemoryLedger } from "../../support/memoryPorts.js";
import { minimalReport } from "../../support/minimalReport.js";

const account = (i: number) => `/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a${i}`;

/** `count` findings over 40 accounts and 9 owners, every seventh unowned. */
function findings(count: number): Finding[] {
  return Array.from({ length: count }, (_, i) => {
    const accountId = account(i % 40);
    const resourceId = `${accountId}/pools/p${i}`;
    return {
      id: `pool-certificate-reference:${resourceId.toLowerCase()}`,
      kind: "pool-certificate-reference",
      severity: i % 3 === 0 ? "warning" : "critical",
      subscriptionId: "s1",
      resourceGroup: "rg",
      accountId,
      accountName: `a${i % 40}`,
      resourceId,
      poolName: `p${i}`,
      references: [],
      detail: "references certificates",
      owners: i % 7 === 0 ? [] : [{ address: `owner${i % 9}@contoso.com`, source: 'account tag "owner"' }],
    } as Finding;
  });
}

const audited = (i: number): AccountCoverage => ({ id: account(i), name: `a${i}`, subscriptionId: "s1", status: "audited", certificates: 0, pools: "batch-api" });

function report(made: Finding[]): AuditReport {
  const plain = minimalReport("2026-12-03", made);
  return { ...plain, coverage: { ...plain.coverage, subscriptions: [{ id: "s1", status: "audited" }], accounts: Array.from({ length: 40 }, (_, i) => audited(i)) } };
}

/** A state the ledger holds open for an account this run did not see: tracking adds it to the coverage as not read. */
const elsewhere: FindingState = {
  findingId: "pool-certificate-reference:/subscriptions/s2/resourcegroups/rg/providers/microsoft.batch/batchaccounts/gone/pools/p",
  kind: "pool-certificate-reference",
  resourceId: "/subscriptions/s2/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/gone/pools/p",
  accountId: "/subscriptions/s2/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/gone",
  accountName: "gone",
  subscriptionId: "s2",
  severity: "critical",
  owners: ["owner1@contoso.com"],
  firstSeen: "2026-11-01",
  lastSeen: "2026-12-01",
};

/**
 * The report held as the job holds it, its whole reads counted at the held list (whichever report reads it through its
 * key: a copy's key reads the same list).
 */
function held(made: Finding[]): { report: AuditReport; reads: { count: number } } {
  const r = report(made);
  holdReportFindings(r);
  const list = heldList<Finding>(r, "findings");
  if (!list) throw new Error("not held");
  const read = list.read.bind(list);
  const reads = { count: 0 };
  list.read = () => (reads.count++, read());
  return { report: r, reads };
}

describe("tracking findings held deflated", () => {
  it("writes the states the findings as objects give, reading them a page at a time, never whole", async () => {
    const made = findings(500);
    const plainLedger = new MemoryLedger();
    const heldLedger = new MemoryLedger();
    // Yesterday's run saw the first 420; today's sees 400 of them again and 80 new: 20 resolved.
    const yesterday = report(made.slice(0, 420));
    await trackFindings(plainLedger, { ...yesterday, asOf: "2026-12-02" });
    await trackFindings(heldLedger, { ...yesterday, asOf: "2026-12-02" });
    const plain = await trackFindings(plainLedger, report(made.slice(20)));
    const { report: heldReport, reads } = held(made.slice(20));
    const progress = await trackFindings(heldLedger, heldReport);
    expect(reads.count).toBe(0);
    expect(progress.newFindings).toBe(plain.newFindings);
    expect(progress.resolved.map((s) => s.findingId)).toStrictEqual(plain.resolved.map((s) => s.findingId));
    expect(progress.resolved).toHaveLength(20);
    expect(progress.written).toBe(plain.written);
    expect(await heldLedger.findingStates()).toStrictEqual(await plainLedger.findingStates());
    // Nothing added to the coverage: the report answered is the one given.
    expect(progress.report).toBe(heldReport);
  });

  it("answers a report that still holds them, the page's orders too, where it adds the scopes no longer visible", async () => {
    const ledger = new MemoryLedger();
    await ledger.saveFindingStates([elsewhere], "2026-12-01");
    const { report: heldReport, reads } = held(findings(300));
    const list = heldList(heldReport, "findings");
    const page = pageFindings(heldReport);
    const progress = await trackFindings(ledger, heldReport);
    // (Compared by identity alone: `not.toBe` compares two objects deeply for its message, reading every key.)
    expect(progress.report === heldReport).toBe(false);
    expect(progress.report.coverage.complete).toBe(false);
    expect(progress.report.coverage.accounts.map((a) => a.name)).toContain("gone");
    expect(progress.report.summary.accountsFailed).toBe(1);
    expect(heldList(progress.report, "findings")).toBe(list);
    expect(pageFindings(progress.report)).toBe(page);
    expect(reads.count).toBe(0);
    // The keys in the order the audit gave them; read through the copy's key, the findings are all there.
    expect(Object.keys(progress.report)).toStrictEqual(Object.keys(heldReport));
    expect(progress.report.findings).toHaveLength(300);
    expect(reads.count).toBe(1);
  });
});
