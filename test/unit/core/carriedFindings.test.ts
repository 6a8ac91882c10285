// An open finding a run could not check is carried into the report as last seen, counted, and reminded, saying so;
// one the run could check, or whose account may be gone, is not.
import { describe, expect, it } from "vitest";
import { planDigests } from "../../../src/core/digestPlan.js";
import type { AccountCoverage, BatchAccountInfo } from "../../../src/core/model.js";
import type { FindingState } from "../../../src/core/ports.js";
import { carriedFindings, type CarryContext } from "../../../src/core/ruleReads.js";
import { BUILT_IN_RULES } from "../../../src/core/rules/catalogue.js";
import { reportRules, selectRules } from "../../../src/core/rules/ruleSet.js";
import { addMigrationKits } from "../../../src/core/migrationKit.js";
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
const ALICE = "alice@contoso.com";

const state = (findingId: string, kind: string, resourceId: string, extra: Partial<FindingState> = {}): FindingState => ({
  findingId,
  kind,
  resourceId,
  accountId: ACCOUNT,
  accountName: "acct",
  subscriptionId: "s1",
  severity: "critical",
  owners: [ALICE],
  firstSeen: "2026-11-01",
  lastSeen: "2026-12-03",
  ...extra,
});
const poolState = (rule: string) => state(`${rule}:${POOL.toLowerCase()}`, rule === "pool-certificate-reference" ? rule : "pool", POOL);
const certState = () => state(`account-certificate:${CERT.toLowerCase()}`, "account-certificate", CERT, { severity: "warning" });
const STATES = [poolState("pool-certificate-reference"), poolState("classic-node-communication"), certState()];

const account: BatchAccountInfo = { id: ACCOUNT, name: "acct", subscriptionId: "s1", resourceGroup: "rg", location: "westeurope", tags: {} };
const row = (extra: Partial<AccountCoverage> = {}): AccountCoverage => ({ id: ACCOUNT, name: "acct", subscriptionId: "s1", status: "audited", certificates: 1, pools: "batch-api", ...extra });

function run(coverage: AccountCoverage | undefined, extra: Partial<CarryContext> = {}): CarryContext {
  return {
    // The account id in other casing, as Azure may give it.
    coverageOf: (id) => (coverage && id.toLowerCase() === ACCOUNT.toLowerCase() ? { ...coverage, id: ACCOUNT.toUpperCase() } : undefined),
    unjudged: [],
    unreadAsRetired: new Set(),
    notFound: new Set(),
    accounts: [account],
    rules: BUILT_IN_RULES,
    asOf: AS_OF,
    made: [],
    ...extra,
  };
}
const unjudgedEntry = { rule: "classic-node-communication", accountId: ACCOUNT.toUpperCase(), pools: 1, missing: ["nodeCommunicationMode"], reason: "nodeCommunicationMode not carried" };
const ids = (findings: { id: string }[]) => findings.map((f) => f.id.split(":")[0]).sort();

describe("what a run could not check is carried as last seen", () => {
  it("a certificate whose account's certificate list failed: open, as last seen, saying why, with its rule's deadline", () => {
    const carried = carriedFindings(STATES, run(row({ status: "failed", certificates: "unknown", reason: "HTTP 403 AuthorizationFailed" })));
    expect(ids(carried)).toEqual(["account-certificate"]);
    expect(carried[0]).toMatchObject({
      kind: "account-certificate",
      rule: "account-certificate",
      severity: "warning",
      resourceGroup: "rg",
      deadline: "2024-02-29",
      daysLeft: -1009,
      deadlineSource: "catalogue",
      certificate: { name: "sha1-0a0e4f50d51beadeac1d35afc5116098e7902e6e", thumbprint: "0a0e4f50d51beadeac1d35afc5116098e7902e6e", referencedByPools: [] },
      notRechecked: { lastSeen: "2026-12-03", reason: "its certificates could not be read (HTTP 403 AuthorizationFailed)" },
      detail: "Not rechecked this run: its certificates could not be read (HTTP 403 AuthorizationFailed). Last seen 2026-12-03; it stays open until a run can check it.",
    });
    // Owners and snoozes come from today's tags (the audit assigns them after this), not from the ledger.
    expect(carried[0]?.owners).toBeUndefined();
  });

  it("pool findings whose account's pools no source could read; a pool rule's finding whose rule could not judge the pools", () => {
    const failedPools = carriedFindings(STATES, run(row({ status: "failed", pools: "failed", poolsReason: "HTTP 500 (after retries)" })));
    expect(ids(failedPools)).toEqual(["classic-node-communication", "pool-certificate-reference"]);
    expect(failedPools.map((f) => f.notRechecked?.reason)).toEqual(["its pools could not be read (HTTP 500 (after retries))", "its pools could not be read (HTTP 500 (after retries))"]);
    expect(failedPools.find((f) => f.kind === "pool-certificate-reference")).toMatchObject({ poolName: "p", references: [] });
    expect(failedPools.find((f) => f.kind === "pool-certificate-reference")?.sources).toBeUndefined();

    const unjudged = carriedFindings(STATES, run(row({ pools: "resource-graph" }), { unjudged: [unjudgedEntry] }));
    expect(ids(unjudged)).toEqual(["classic-node-communication"]);
    expect(unjudged[0]).toMatchObject({ kind: "pool", poolName: "p", notRechecked: { reason: "its rule could not judge the account's pools (nodeCommunicationMode not carried)" } });
  });

  it("where Azure refused the certificate API as retired: certificates it could not read, saying to verify them by hand; other rules as anywhere", () => {
    const retired = (coverage: AccountCoverage) => run(coverage, { unreadAsRetired: new Set([ACCOUNT.toLowerCase()]), unjudged: [unjudgedEntry] });
    const unread = carriedFindings(STATES, retired(row({ certificates: "unknown", pools: "resource-graph" })));
    expect(ids(unread)).toEqual(["account-certificate", "classic-node-communication", "pool-certificate-reference"]);
    expect(unread.find((f) => f.kind === "account-certificate")?.detail).toMatch(/^Azure no longer shows certificates: verify by hand \(last seen 2026-12-03;/);
    // Only the pool read was refused as retired: the certificates were read, so a certificate not found is gone.
    const poolsOnly = carriedFindings(STATES, retired(row({ certificates: 2, pools: "resource-graph" })));
    expect(ids(poolsOnly)).toEqual(["classic-node-communication"]);
  });

  it.each([
    ["the account was read whole (what is gone is resolved by tracking)", run(row())],
    ["only the other half of the account failed: its pools, for a certificate", run(row({ status: "failed", pools: "failed" }), { rules: selectRules(BUILT_IN_RULES, ["account-certificate"]) })],
    ["only the other half of the account failed: its certificates, for a pool", run(row({ status: "failed", certificates: "unknown" }), { rules: selectRules(BUILT_IN_RULES, ["pool-certificate-reference", "classic-node-communication"]) })],
    ["the account is not in this run's results (out of scope, access removed, or deleted)", run(undefined)],
    ["a read of the account answered 404 (deleted after the inventory)", run(row({ status: "failed", certificates: "unknown", pools: "failed" }), { notFound: new Set([ACCOUNT.toLowerCase()]) })],
    ["its rule did not run (switched off, or not in a rules filter)", run(row({ status: "failed", certificates: "unknown", pools: "failed" }), { rules: selectRules(BUILT_IN_RULES, ["windows-server-2016-image"]) })],
  ])("is not carried when %s", (_name, context) => {
    expect(carriedFindings(STATES, context)).toEqual([]);
  });

  it("is not carried twice: a finding the run made itself, or one already resolved", () => {
    const context = run(row({ status: "failed", certificates: "unknown" }));
    const made = carriedFindings(STATES, context);
    expect(carriedFindings(STATES, { ...context, made })).toEqual([]);
    expect(carriedFindings([{ ...certState(), resolvedOn: "2026-12-01" }], context)).toEqual([]);
  });

  it("gets no migration kit when nothing of its account's pools was read this run (a kit needs the pool, or at least the names a replacement must avoid)", () => {
    const [pool] = carriedFindings([poolState("pool-certificate-reference")], run(row({ status: "failed", pools: "failed" })));
    expect(addMigrationKits([pool!], [], new Map(), {}, { poolNames: new Map() })[0]?.migration).toBeUndefined();
    expect(addMigrationKits([pool!], [], new Map(), {}, { poolNames: new Map([[ACCOUNT.toLowerCase(), ["p", "p-kv"]]]) })[0]?.migration?.replacementPoolName).toBe("p-kv2");
  });

  it("with a kit (the account's pool names were read, as where Azure refused the certificate API as retired) keeps its replace step and says the kit is attached", async () => {
    const [pool] = carriedFindings([poolState("pool-certificate-reference")], run(row({ certificates: "unknown", pools: "resource-graph" }), { unreadAsRetired: new Set([ACCOUNT.toLowerCase()]) }));
    const [withKit] = addMigrationKits([pool!], [], new Map(), {}, { poolNames: new Map([[ACCOUNT.toLowerCase(), ["p"]]]) });
    const finding = { ...withKit!, owners: [{ address: ALICE, source: 'account tag "owner"' }] };
    expect(finding.migration?.replacementPoolName).toBe("p-kv");
    const steps = accountPlan([finding], { attachedKits: new Set([finding.migration!.fileName]) });
    expect(steps.map((s) => s.label)).toContain("replace p");
    expect(steps.map((s) => s.text).join("\n")).not.toMatch(/Not rechecked this run/);
    const [digest] = planDigests([finding], new Map(), AS_OF, defaultReminderPolicy("2024-02-29"), []);
    const email = await renderDigest(digest!, { asOf: AS_OF, deadline: "2024-02-29", retirementDate: "2024-02-29", rules: reportRules(BUILT_IN_RULES) });
    expect(email.text).toMatch(/Pool p · not rechecked on 4 December 2026 \(Azure refused the api-version that shows certificates as retired\); last seen 3 December 2026 · kit attached: /);
    expect(email.attachments?.map((a) => a.name)).toEqual(["acct--p.sh.txt"]);
  });

  it("keeps its ledger state through tracking (last seen stays the last run that saw it: it is stored as not seen since), and reaches its owner saying it was not rechecked, with nothing to run on it", async () => {
    const carried = carriedFindings(STATES, run(row({ status: "failed", certificates: "unknown", pools: "failed", reason: "HTTP 403 AuthorizationFailed" })));
    const findings = carried.map((f) => ({ ...f, owners: [{ address: ALICE, source: 'account tag "owner"' }] }));
    const ledger = new MemoryLedger();
    ledger.states = STATES.map((s) => ({ ...s }));
    const report = { ...minimalReport(AS_OF, findings), rules: reportRules(BUILT_IN_RULES) };

    const progress = await trackFindings(ledger, report);
    expect(progress.resolved).toEqual([]);
    expect(progress.newFindings).toBe(0);
    // Stored as not seen since this run, each read as last seen when it was, though the tracking's day is today.
    expect(ledger.states).toEqual(STATES.map((s) => ({ ...s, notSeenSince: AS_OF })));
    expect(ledger.trackedOn).toBe(AS_OF);
    expect(await ledger.findingStates()).toEqual(ledger.states);

    const [digest, ...others] = planDigests(findings, new Map(), AS_OF, defaultReminderPolicy("2024-02-29"), []);
    expect(others).toEqual([]);
    expect(digest?.dueItems.map((i) => i.finding.id).sort()).toEqual(findings.map((f) => f.id).sort());
    const email = await renderDigest(digest!, { asOf: AS_OF, deadline: "2024-02-29", retirementDate: "2024-02-29", rules: reportRules(BUILT_IN_RULES) });
    expect(email.text).toMatch(/Pool p · not rechecked on 4 December 2026 \(its pools could not be read \(HTTP 403 AuthorizationFailed\)\); last seen 3 December 2026/);
    expect(email.text).toMatch(/Certificate sha1-0a0e4f50d51beadeac1d35afc5116098e7902e6e · not rechecked on 4 December 2026 \(its certificates could not be read/);
    // No delete, no identity, no replacement for what nobody read this run: one sentence that says so.
    const steps = accountPlan(findings);
    expect(steps.flatMap((s) => s.commands ?? [])).toEqual([]);
    expect(steps.map((s) => s.text)).toEqual([expect.stringMatching(/^Not rechecked this run: (pool p, certificate sha1-0a0e4f50…|certificate sha1-0a0e4f50…, pool p) \(last seen 2026-12-03\)\./)]);
    expect(email.text).not.toMatch(/--method delete|az identity create|Replace pool/);
  });
});
