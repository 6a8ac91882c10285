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

describe("a rule that could not judge the account's pools", () => {
  it("resolves none of that rule's findings in that account: a pool it could not judge is not a fixed pool", async () => {
    const ledger = new MemoryLedger();
    const OTHER = ACCOUNT.replace("/acct", "/other");
    ledger.states = [
      state("classic-node-communication"),
      state("windows-server-2016-image"),
      { ...state("classic-node-communication"), findingId: `classic-node-communication:${OTHER.toLowerCase()}/pools/p`, resourceId: `${OTHER}/pools/p`, accountId: OTHER, accountName: "other" },
    ];
    const audited = (id: string, name: string) => ({ id, name, subscriptionId: "s1", status: "audited" as const, certificates: 0, pools: "resource-graph" as const });
    const report = {
      ...minimalReport("2026-12-04", []),
      coverage: {
        complete: true,
        subscriptions: [{ id: "s1", status: "audited" as const }],
        accounts: [audited(ACCOUNT, "acct"), audited(OTHER, "other")],
        problems: [],
        // The account id in other casing, as Azure may give it.
        unjudged: [{ rule: "classic-node-communication", accountId: ACCOUNT.toUpperCase(), pools: 1, missing: ["nodeCommunicationMode"], reason: "not carried" }],
      },
      rules: reportRules(BUILT_IN_RULES),
    };
    const progress = await trackFindings(ledger, report);
    // The other rule in the same account, and the same rule in an account it could judge, resolve as before.
    expect(progress.resolved.map((s) => s.findingId).sort()).toEqual([`classic-node-communication:${OTHER.toLowerCase()}/pools/p`, `windows-server-2016-image:${ACCOUNT.toLowerCase()}/pools/p`]);
    expect(progress.states.find((s) => s.findingId === `classic-node-communication:${ACCOUNT.toLowerCase()}/pools/p`)?.resolvedOn).toBeUndefined();
  });
});
