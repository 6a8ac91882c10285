// An open finding a run could not check is carried into the report as last seen, counted, and reminded, saying so.
import { describe, expect, it } from "vitest";
import { planDigests } from "../../../src/core/digestPlan.js";
import type { AccountCoverage, AuditReport } from "../../../src/core/model.js";
import type { FindingState } from "../../../src/core/ports.js";
import { BUILT_IN_RULES } from "../../../src/core/rules/catalogue.js";
import { reportRules, selectRules } from "../../../src/core/rules/ruleSet.js";
import { defaultReminderPolicy } from "../../../src/core/schedule.js";
import { trackFindings } from "../../../src/core/trackFindings.js";
import { accountPlan } from "../../../src/render/accountPlan.js";
import { renderDigest } from "../../../src/render/digestEmail.js";
import { MemoryLedger } from "../../support/memoryPorts.js";
import { minimalReport } from "../../support/minimalReport.js";

const ACCOUNT = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct";
const POOL = `${ACCOUNT}/pools/p`;
const CERT = `${ACCOUNT}/certificates/sha1-0a0e4f50d51beadeac1d35afc5116098e7902e6e`;
const AS_OF = "2026-12-04";

const state = (findingId: string, kind: string, resourceId: string, extra: Partial<FindingState> = {}): FindingState => ({
  findingId,
  kind,
  resourceId,
  accountId: ACCOUNT,
  accountName: "acct",
  subscriptionId: "s1",
  severity: "critical",
  owners: ["alice@contoso.com"],
  firstSeen: "2026-11-01",
  lastSeen: "2026-12-03",
  ...extra,
});
const poolState = (rule: string, extra: Partial<FindingState> = {}) => state(`${rule}:${POOL.toLowerCase()}`, rule === "pool-certificate-reference" ? rule : "pool", POOL, extra);
const certState = (extra: Partial<FindingState> = {}) => state(`account-certificate:${CERT.toLowerCase()}`, "account-certificate", CERT, { severity: "warning", ...extra });

function reportWith(account: Partial<AccountCoverage>, coverage: Partial<AuditReport["coverage"]> = {}, rules = BUILT_IN_RULES): AuditReport {
  return {
    ...minimalReport(AS_OF, []),
    coverage: {
      complete: account.status === "audited",
      subscriptions: [{ id: "s1", status: "audited" }],
      accounts: [{ id: ACCOUNT, name: "acct", subscriptionId: "s1", status: "audited", certificates: 0, pools: "batch-api", ...account }],
      problems: [],
      ...coverage,
    },
    summary: { ...minimalReport(AS_OF, []).summary, byRule: Object.fromEntries(rules.map((r) => [r.id, 0])) },
    rules: reportRules(rules),
  };
}

describe("an open finding the run could not check", () => {
  it("is carried into the report as last seen, with why, its recorded owners and deadline, and counted; its state stands", async () => {
    const ledger = new MemoryLedger();
    ledger.states = [poolState("pool-certificate-reference", { deadline: "2024-02-29" }), certState()];
    const report = reportWith({ status: "failed", reason: "403 AuthorizationFailed: the client has no access", certificates: "unknown", pools: "failed" });

    const progress = await trackFindings(ledger, report);

    expect(progress.resolved).toEqual([]);
    const carried = progress.report.findings;
    expect(carried.map((f) => f.id)).toEqual([`pool-certificate-reference:${POOL.toLowerCase()}`, `account-certificate:${CERT.toLowerCase()}`]);
    expect(carried[0]).toMatchObject({
      kind: "pool-certificate-reference",
      rule: "pool-certificate-reference",
      poolName: "p",
      resourceGroup: "rg",
      deadline: "2024-02-29",
      daysLeft: -1009,
      severity: "critical",
      owners: [{ address: "alice@contoso.com", source: "recorded when last seen (2026-12-03)" }],
      notRechecked: { lastSeen: "2026-12-03", reason: "its account was not read (403 AuthorizationFailed: the client has no access)" },
    });
    expect(carried[0]?.detail).toMatch(/^Not rechecked this run: its account was not read \(403 AuthorizationFailed.*\)\. Last seen 2026-12-03; it stays open until a run can check it\.$/);
    // Its state without a recorded deadline: its rule's.
    expect(carried[1]).toMatchObject({ kind: "account-certificate", severity: "warning", deadline: "2024-02-29", certificate: { name: "sha1-0a0e4f50d51beadeac1d35afc5116098e7902e6e", referencedByPools: [] } });
    expect(progress.report.summary).toMatchObject({ findings: 2, critical: 1, warning: 1, poolsWithCertificates: 1, accountCertificates: 1, notRechecked: 2 });
    expect(progress.report.summary.byRule).toMatchObject({ "pool-certificate-reference": 1, "account-certificate": 1 });
    // Nothing written for them: last seen stays the last run that saw them.
    expect(ledger.states.map((s) => [s.lastSeen, s.resolvedOn])).toEqual([
      ["2026-12-03", undefined],
      ["2026-12-03", undefined],
    ]);
  });

  it("says which check failed: the subscription, or the rule that could not judge the pools", async () => {
    const cases: [AuditReport, RegExp][] = [
      [reportWith({}, { subscriptions: [{ id: "S1", status: "failed", reason: "429 after retries" }] }), /^its subscription was not read \(429 after retries\)$/],
      [
        reportWith({}, { unjudged: [{ rule: "classic-node-communication", accountId: ACCOUNT.toUpperCase(), pools: 1, missing: ["nodeCommunicationMode"], reason: "not carried by the reads" }] }),
        /^its rule could not judge the account's pools \(not carried by the reads\)$/,
      ],
    ];
    for (const [report, reason] of cases) {
      const ledger = new MemoryLedger();
      ledger.states = [poolState("classic-node-communication")];
      const progress = await trackFindings(ledger, report);
      expect(progress.resolved).toEqual([]);
      expect(progress.report.findings.map((f) => f.notRechecked?.reason)).toEqual([expect.stringMatching(reason)]);
      // A pool rule's finding: kind "pool", no certificate references.
      expect(progress.report.findings[0]).toMatchObject({ kind: "pool", poolName: "p" });
      expect(progress.report.findings[0]?.references).toBeUndefined();
    }
  });

  it("is resolved, not carried, once its account is read and its rule judged every pool", async () => {
    const ledger = new MemoryLedger();
    ledger.states = [poolState("classic-node-communication")];
    const progress = await trackFindings(ledger, reportWith({}));
    expect(progress.report.findings).toEqual([]);
    expect(progress.report.summary.notRechecked).toBeUndefined();
    expect(progress.resolved.map((s) => s.findingId)).toEqual([`classic-node-communication:${POOL.toLowerCase()}`]);
  });

  it.each([
    ["of a rule the run did not run (a switched-off rule reminds nobody)", reportWith({ status: "failed", reason: "403" }, {}, selectRules(BUILT_IN_RULES, ["pool-certificate-reference"]))],
    ["of an account not in this run's results (out of scope, access removed, or deleted: no longer visible)", reportWith({ id: ACCOUNT.replace("/acct", "/other"), name: "other" })],
    ["of an account that was read, when only a tenant-wide query problem stops its resolution", reportWith({}, { problems: ["the pools query was truncated"] })],
  ])("is neither carried nor resolved: %s", async (_name, report) => {
    const ledger = new MemoryLedger();
    ledger.states = [poolState("windows-server-2016-image")];
    const progress = await trackFindings(ledger, report);
    expect(progress.report.findings).toEqual([]);
    expect(progress.resolved).toEqual([]);
    expect(ledger.states[0]?.resolvedOn).toBeUndefined();
  });

  it("reaches its owner on schedule, the digest saying it was not rechecked, and hands over no delete for a certificate nobody read", async () => {
    const ledger = new MemoryLedger();
    ledger.states = [poolState("pool-certificate-reference"), certState()];
    const progress = await trackFindings(ledger, reportWith({ status: "failed", reason: "403 AuthorizationFailed", certificates: "unknown", pools: "failed" }));

    const [digest, ...others] = planDigests(progress.report.findings, new Map(), AS_OF, defaultReminderPolicy("2024-02-29"), []);
    expect(others).toEqual([]);
    expect(digest?.ownerAddress).toBe("alice@contoso.com");
    expect(digest?.dueItems.map((i) => i.finding.id).sort()).toEqual(progress.report.findings.map((f) => f.id).sort());

    const email = await renderDigest(digest!, { asOf: AS_OF, deadline: "2024-02-29", retirementDate: "2024-02-29", rules: progress.report.rules ?? [] });
    expect(email.text).toMatch(/Pool p · not rechecked on 4 December 2026 \(its account was not read \(403 AuthorizationFailed\)\); last seen 3 December 2026/);
    expect(email.text).toMatch(/Certificate sha1-0a0e4f50d51beadeac1d35afc5116098e7902e6e · not rechecked on 4 December 2026/);
    expect(email.text).not.toMatch(/--method delete/);
    expect(accountPlan(progress.report.findings).flatMap((s) => s.commands ?? []).join("\n")).not.toMatch(/--method delete/);
  });
});
