import { describe, expect, it } from "vitest";
import type { FindingState } from "../../../../src/core/ports.js";
import { BUILT_IN_RULES } from "../../../../src/core/rules/catalogue.js";
import { reportRules, selectRules } from "../../../../src/core/rules/ruleSet.js";
import { trackFindings } from "../../../../src/core/trackFindings.js";
import { MemoryLedger } from "../../../support/memoryPorts.js";
import { minimalReport } from "../../../support/minimalReport.js";

const ACCOUNT = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct";
const state = (rule: string): FindingState => ({
  findingId: `${rule}:${ACCOUNT.toLowerCase()}/pools/p`,
  kind: rule === "pool-certificate-reference" ? rule : "pool",
  resourceId: `${ACCOUNT}/pools/p`,
  accountId: ACCOUNT,
  accountName: "acct",
  subscriptionId: "s1",
  severity: "critical",
  owners: ["alice@contoso.com"],
  firstSeen: "2026-11-01",
  lastSeen: "2026-12-03",
});

describe("a rule the run did not run", () => {
  it("resolves none of its findings: only the rules that ran can say a pool is fixed", async () => {
    const ledger = new MemoryLedger();
    ledger.states = [state("windows-server-2016-image"), state("pool-certificate-reference")];
    const report = {
      ...minimalReport("2026-12-04", []),
      coverage: { complete: true, subscriptions: [{ id: "s1", status: "audited" as const }], accounts: [{ id: ACCOUNT, name: "acct", subscriptionId: "s1", status: "audited" as const, certificates: 0, pools: "batch-api" as const }], problems: [] },
      rules: reportRules(selectRules(BUILT_IN_RULES, ["pool-certificate-reference"])),
    };
    const progress = await trackFindings(ledger, report);
    expect(progress.resolved.map((s) => s.findingId)).toEqual([`pool-certificate-reference:${ACCOUNT.toLowerCase()}/pools/p`]);
  });
});
