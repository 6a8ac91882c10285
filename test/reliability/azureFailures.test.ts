// Scenarios 1-4: what Resource Graph and Batch management failures do to a run. The real SDK clients talk to the
// simulated Azure; faults come from the snapshot.
import { afterEach, describe, expect, it } from "vitest";
import { auditTenant } from "../../src/core/auditTenant.js";
import type { AuditReport } from "../../src/core/model.js";
import type { TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { expectedUsage, generateTenant } from "@batch-cert-auditor/simulated-azure";
import { demo, removeDir, runCliAt, tempDir, writeSnapshot } from "../support/auditRuns.js";
import { startHarness, type Harness } from "../support/simulatedAzure.js";

const RESOURCE_GRAPH = "^/providers/Microsoft.ResourceGraph/resources$";
let harness: Harness | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await harness?.sim.close();
  harness = undefined;
  await Promise.all(dirs.splice(0).map(removeDir));
});

async function audit(snapshot: TenantSnapshot, pageSize = 1000): Promise<AuditReport> {
  harness = await startHarness({ snapshot }, { pageSize });
  return auditTenant(
    { inventory: harness.inventory, certificates: harness.certificates, pools: harness.certificates, concurrency: 4 },
    { scope: { subscriptions: [], managementGroups: [] }, asOf: "2026-11-26", generatedAt: "2026-11-26T07:00:00.000Z" },
  );
}

const account = (report: AuditReport, name: string) => report.coverage.accounts.find((a) => a.name === name);

describe("Azure failures during the audit", () => {
  it("1. a Resource Graph 429 with quota headers and no Retry-After mid-paging: waits, resumes the same $skipToken, loses and doubles no page", async () => {
    const tenant = () => generateTenant({ seed: 99, subscriptions: 3, accounts: 14, pools: 24, certificateShare: 1 });
    const baseline = await audit(tenant(), 4);
    const baselineQueries = harness?.sim.stats.resourceGraphQueries ?? 0;
    await harness?.sim.close();

    const throttled = tenant();
    // The 4th request is a later page of a paged query: it is refused once, with only the quota headers.
    throttled.faults = [
      {
        pathPattern: RESOURCE_GRAPH,
        status: 429,
        after: 3,
        times: 1,
        headers: { "x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:00.400" },
        body: { error: { code: "RateLimiting", message: "throttled" } },
      },
    ];
    const started = performance.now();
    const report = await audit(throttled, 4);

    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
    expect(harness?.sim.stats.faultsInjected).toBe(1);
    expect(harness?.inventory.stats.throttled).toBe(1);
    // Same pages answered as without the fault: nothing fetched again from the start, nothing skipped.
    expect(harness?.sim.stats.resourceGraphQueries).toBe(baselineQueries);
    expect(report.coverage.accounts).toHaveLength(14);
    expect(new Set(report.findings.map((f) => f.id)).size).toBe(report.findings.length);
    expect(report.findings.map((f) => f.id)).toEqual(baseline.findings.map((f) => f.id));
    expect(report.findings.filter((f) => f.kind === "account-certificate").map((f) => f.resourceId.toLowerCase()).sort()).toEqual(expectedUsage(throttled).certificates);
    expect(report.coverage.complete).toBe(true);
  });

  it("2. resultTruncated without a $skipToken: the scope is incomplete, the run says so and the CLI exits 2", async () => {
    const dir = await tempDir("truncated");
    dirs.push(dir);
    const snapshot = demo();
    // The first query (the accounts'); a pool query cut short is read again a row per pool (2b).
    snapshot.faults = [{ pathPattern: RESOURCE_GRAPH, status: 200, after: 0, times: 1, body: { totalRecords: 5000, count: 0, data: [], facets: [], resultTruncated: "true" } }];

    const result = await runCliAt({ snapshot: await writeSnapshot(dir, snapshot), out: dir, now: "2026-11-26", env: { SEND_MODE: "dry-run" } });

    expect(result.exitCode).toBe(2);
    expect(result.report?.coverage.complete).toBe(false);
    expect(result.report?.coverage.problems.join("\n")).toMatch(/query, tenant: the result was truncated after 0 of 5000 rows with no \$skipToken to continue/);
    expect(result.stdout).toMatch(/Coverage INCOMPLETE/);
    expect(result.stdout).toMatch(/truncated/);
  });

  it("2b. the pools by account cut short without a $skipToken, or refused: the scope's pools are read again a row per pool and nothing is missing", async () => {
    const tenant = () => generateTenant({ seed: 7, subscriptions: 3, accounts: 12, pools: 30, certificateShare: 0.5 });
    const baseline = await audit(tenant(), 4);
    expect(harness?.inventory.stats.poolFallbacks).toBe(0);
    await harness?.sim.close();

    const cut = { status: 200, body: { totalRecords: 5000, count: 0, data: [], facets: [], resultTruncated: "true" } };
    const refused = { status: 400, body: { error: { code: "BadRequest", message: "Please provide below info when asking for support", details: [{ code: "InvalidQuery", message: "Query is invalid." }] } } };
    for (const fault of [cut, refused]) {
      const spoilt = tenant();
      // Requests 1-3 are the accounts' pages (4 rows a page); the 4th is the first page of the pools by account.
      spoilt.faults = [{ pathPattern: RESOURCE_GRAPH, after: 3, times: 1, ...fault }];
      const report = await audit(spoilt, 4);
      expect(harness?.sim.stats.faultsInjected).toBe(1);
      expect(harness?.inventory.stats.poolFallbacks).toBe(1);
      expect(report.coverage.complete).toBe(true);
      expect(report.findings.map((f) => f.id)).toEqual(baseline.findings.map((f) => f.id));
      expect(report.findings.filter((f) => f.kind === "pool-certificate-reference").map((f) => f.resourceId.toLowerCase()).sort()).toEqual(expectedUsage(spoilt).poolsWithCertificates);
      await harness?.sim.close();
      harness = undefined;
    }
  });

  it("3. certificates answering 403 for one account and 500 three times then 200 for another: the first fails with its reason, the second succeeds after retries", async () => {
    const snapshot = demo(); // reportingbatch already answers 403 AuthorizationFailed
    snapshot.faults = [...(snapshot.faults ?? []), { pathPattern: "/batchAccounts/riskbatch/certificates$", status: 500, times: 3 }];

    const report = await audit(snapshot);

    expect(account(report, "reportingbatch")).toMatchObject({ status: "failed", certificates: "unknown" });
    expect(account(report, "reportingbatch")?.reason).toMatch(/HTTP 403 AuthorizationFailed: .*the identity needs Reader/);
    expect(account(report, "riskbatch")).toMatchObject({ status: "audited", certificates: 2 });
    expect(harness?.sim.stats.faultsInjected).toBe(4);
    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.accounts.filter((a) => a.status === "failed").map((a) => a.name)).toEqual(["reportingbatch"]);
  });

  it("4. a certificate API that no longer exists (400 NoRegisteredProviderFound naming the api-version, 404 InvalidResourceType): the account's certificates are unknown with the reason, never none", async () => {
    const snapshot = demo();
    const gone = (status: number, code: string) => ({
      status,
      body: { error: { code, message: `No registered resource provider found for location 'westeurope' and API version '2023-11-01' for type 'batchAccounts/certificates'.` } },
    });
    snapshot.faults = [
      ...(snapshot.faults ?? []),
      { pathPattern: "/batchAccounts/riskbatch/certificates$", ...gone(400, "NoRegisteredProviderFound") },
      { pathPattern: "/batchAccounts/genomicsbatch/certificates$", ...gone(404, "InvalidResourceType") },
    ];

    const report = await audit(snapshot);

    // The answer naming the api-version the auditor sent says that version is retired: said once for the run (not an
    // account failure), the account's certificates unknown, its pools from Resource Graph.
    expect(report.coverage.certificateApiRetired).toMatch(/retired.*NoRegisteredProviderFound.*'2023-11-01'/);
    expect(account(report, "riskbatch")).toMatchObject({ status: "audited", certificates: "unknown", pools: "resource-graph" });
    expect(account(report, "genomicsbatch")?.reason).toMatch(/HTTP 404 .*the certificate API is not available here, so the account's certificates are unknown/);
    for (const name of ["riskbatch", "genomicsbatch"]) {
      expect(account(report, name)?.certificates).toBe("unknown");
      // Its pools still show, with references whose target is unknown rather than missing.
      const pools = report.findings.filter((f) => f.accountName === name && f.kind === "pool-certificate-reference");
      expect(pools.length).toBeGreaterThan(0);
      expect(pools.flatMap((p) => p.references ?? []).every((r) => r.resolves === "unknown")).toBe(true);
      expect(report.findings.some((f) => f.accountName === name && f.kind === "account-certificate")).toBe(false);
    }
    expect(report.coverage.complete).toBe(false);
  });
});
