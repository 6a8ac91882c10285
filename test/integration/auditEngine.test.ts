import { afterEach, describe, expect, it } from "vitest";
import { armSubscriptionLister } from "../../src/azure/armSubscriptions.js";
import { ArmBatchCertificates } from "../../src/azure/batchCertificates.js";
import { batchClientFactory, createResourceGraphClient } from "../../src/azure/clients.js";
import { SimulatorCredential } from "../../src/azure/credentials.js";
import { ResourceGraphInventory } from "../../src/azure/resourceGraphInventory.js";
import { SubscriptionPacer } from "../../src/azure/subscriptionPacer.js";
import { auditTenant } from "../../src/core/auditTenant.js";
import type { AuditReport } from "../../src/core/model.js";
import type { AuditScope } from "../../src/core/ports.js";
import { startSimulator, type SimulatorOptions } from "@batch-cert-auditor/simulated-azure";
import type { TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { expectedUsage, generateTenant } from "@batch-cert-auditor/simulated-azure";
import { demoTenant, startHarness, type Harness } from "../support/simulatedAzure.js";

const TENANT: AuditScope = { subscriptions: [], managementGroups: [] };
let harness: Harness | undefined;
afterEach(async () => {
  await harness?.sim.close();
  harness = undefined;
});

async function audit(h: Harness, scope: AuditScope = TENANT): Promise<AuditReport> {
  return auditTenant(
    { inventory: h.inventory, certificates: h.certificates, pools: h.certificates, concurrency: 4 },
    { scope, asOf: "2026-11-26", generatedAt: "2026-11-26T07:00:00.000Z" },
  );
}

const ids = (report: AuditReport, kind: string) =>
  report.findings.filter((f) => f.kind === kind).map((f) => f.resourceId.toLowerCase()).sort();

describe("the audit engine over the real SDK clients and the simulated Azure", () => {
  it("finds every certificate and certificate-referencing pool of a tenant it has not seen, across many pages", async () => {
    const snapshot = generateTenant({ seed: 4242, subscriptions: 9, accounts: 40, pools: 90, certificateShare: 0.5 });
    // Small pages force several Resource Graph and Batch pages per query.
    harness = await startHarness({ snapshot, batch: { pageSize: 1 } }, { pageSize: 7 });
    const report = await audit(harness);

    const truth = expectedUsage(snapshot);
    expect(truth.certificates.length).toBeGreaterThan(10);
    expect(ids(report, "account-certificate")).toEqual(truth.certificates);
    expect(ids(report, "pool-certificate-reference")).toEqual(truth.poolsWithCertificates);
    expect(report.coverage.complete).toBe(true);
    expect(report.coverage.accounts).toHaveLength(40);
    expect(report.coverage.subscriptions.every((s) => s.status === "audited")).toBe(true);
    expect(harness.inventory.stats.queries).toBeGreaterThan(10);
  });

  it("reports an account that answers 403 as failed with its reason, and the coverage as incomplete", async () => {
    harness = await startHarness({ snapshot: demoTenant() });
    const report = await audit(harness);

    const failed = report.coverage.accounts.filter((a) => a.status === "failed");
    expect(failed.map((a) => a.name)).toEqual(["reportingbatch"]);
    expect(failed[0]?.reason).toMatch(/403/);
    expect(failed[0]?.certificates).toBe("unknown");
    expect(report.coverage.complete).toBe(false);
    expect(report.summary.accountsFailed).toBe(1);
  });

  it("finds the demo tenant's usage: malformed references resolve, a blocked deletion says so", async () => {
    harness = await startHarness({ snapshot: demoTenant() });
    const report = await audit(harness);

    const render = report.findings.find((f) => f.poolName === "render-pool");
    expect(render?.references?.[0]?.resolves).toBe(true);
    const blocked = report.findings.find((f) => f.accountName === "imagingbatch" && f.kind === "account-certificate");
    expect(blocked?.severity).toBe("critical");
    expect(blocked?.detail).toMatch(/Deletion is blocked \(NodesReferencingCertificate/);
    expect(blocked?.certificate?.expiresOn).toMatch(/^20\d\d-/);
    const dangling = report.findings.find((f) => f.poolName === "experiment-pool");
    expect(dangling?.references?.[0]?.resolves).toBe(false);
    const unparsable = report.findings.find((f) => f.accountName === "riskbatchlegacy");
    expect(unparsable?.certificate?.expiresOn).toBeUndefined();
    expect(report.daysSinceRetirement).toBe(1001);
  });

  it("waits out a Resource Graph 429 that carries only quota headers and loses no page", async () => {
    const snapshot = generateTenant({ seed: 7, subscriptions: 3, accounts: 12, pools: 20, certificateShare: 1 });
    snapshot.faults = [
      {
        pathPattern: "^/providers/Microsoft.ResourceGraph/resources$",
        status: 429,
        after: 1,
        times: 1,
        headers: { "x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:00.300" },
        body: { error: { code: "RateLimiting", message: "throttled" } },
      },
    ];
    harness = await startHarness({ snapshot }, { pageSize: 5 });
    const started = Date.now();
    const report = await audit(harness);

    expect(harness.inventory.stats.throttled).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(ids(report, "account-certificate")).toEqual(expectedUsage(snapshot).certificates);
    expect(report.coverage.complete).toBe(true);
  });

  it("paces itself by the quota headers so a tight quota slows the run instead of failing it", async () => {
    const snapshot = generateTenant({ seed: 11, subscriptions: 2, accounts: 10, pools: 10, certificateShare: 1 });
    harness = await startHarness({ snapshot, resourceGraph: { quota: { queries: 3, windowMs: 400 } } }, { pageSize: 4 });
    const report = await audit(harness);

    expect(report.coverage.complete).toBe(true);
    expect(harness.sim.stats.throttled429).toBe(0);
    expect(harness.inventory.stats.queries).toBeGreaterThan(3);
  });

  it("marks a scope incomplete, never empty, when a page is truncated without a $skipToken", async () => {
    const snapshot: TenantSnapshot = demoTenant();
    snapshot.faults = [
      {
        pathPattern: "^/providers/Microsoft.ResourceGraph/resources$",
        status: 200,
        times: 1,
        body: { totalRecords: 5000, count: 0, data: [], facets: [], resultTruncated: "true" },
      },
    ];
    harness = await startHarness({ snapshot });
    const report = await audit(harness);
    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.problems.join("\n")).toMatch(/truncated/);
  });

  it("reports a requested subscription it cannot see as failed instead of clean", async () => {
    harness = await startHarness({ snapshot: demoTenant() });
    const missing = "00000000-0000-4000-8000-000000000000";
    const report = await audit(harness, { subscriptions: ["3f2c1a4e-8b7d-4c6a-9e1f-2a3b4c5d6e7f", missing], managementGroups: [] });
    expect(report.coverage.subscriptions.find((s) => s.id === missing)).toMatchObject({ status: "failed" });
    expect(report.findings.every((f) => f.subscriptionId === "3f2c1a4e-8b7d-4c6a-9e1f-2a3b4c5d6e7f")).toBe(true);
    expect(report.coverage.complete).toBe(false);
  });

  it("audits only the subscriptions under a management group", async () => {
    harness = await startHarness({ snapshot: demoTenant() });
    const report = await audit(harness, { subscriptions: [], managementGroups: ["contoso-finance"] });
    expect(new Set(report.findings.map((f) => f.subscriptionName))).toEqual(new Set(["Contoso Finance"]));
  });

  it("asks for the real Azure Resource Manager token scope even though the endpoint is local", async () => {
    harness = await startHarness({ snapshot: demoTenant() });
    await audit(harness);
    expect(new Set(harness.credential.scopesRequested)).toEqual(new Set(["https://management.azure.com/.default"]));
  });
});

describe("the audit engine at scale limits", () => {
  const started: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });

  async function scaleHarness(options: Omit<SimulatorOptions, "snapshot">, snapshot: TenantSnapshot, withSubscriptionList: boolean) {
    const sim = await startSimulator({ ...options, snapshot });
    started.push(sim);
    const conn = { credential: new SimulatorCredential(), endpoint: sim.url, ca: sim.ca, retry: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50 } };
    // The pacer assumes ARM's documented bucket (250 + 25/s) whatever the simulator keeps.
    const pacer = new SubscriptionPacer({ maxInFlight: 8 });
    const inventory = new ResourceGraphInventory(createResourceGraphClient(conn), {
      pageSize: 5,
      ...(withSubscriptionList ? { listSubscriptions: armSubscriptionLister(conn) } : {}),
    });
    const certificates = new ArmBatchCertificates(batchClientFactory(conn, pacer), pacer);
    const report = await auditTenant({ inventory, certificates, pools: certificates, concurrency: Infinity }, { scope: TENANT, asOf: "2026-11-26", generatedAt: "2026-11-26T07:00:00.000Z" });
    return { sim, pacer, inventory, report };
  }

  it("queries in subscription batches, listed by ARM, when a tenant-scope query hits the tenant subscription limit", async () => {
    const snapshot = generateTenant({ seed: 31, subscriptions: 12, accounts: 30, pools: 60, certificateShare: 0.5 });
    const { report, sim } = await scaleHarness({ resourceGraph: { tenantSubscriptionLimit: 5 }, subscriptions: { pageSize: 4 } }, snapshot, true);

    expect(ids(report, "account-certificate")).toEqual(expectedUsage(snapshot).certificates);
    expect(ids(report, "pool-certificate-reference")).toEqual(expectedUsage(snapshot).poolsWithCertificates);
    expect(report.coverage.subscriptions).toHaveLength(12);
    expect(report.coverage.complete).toBe(true);
    // One certificate list per account, and one pool list per account that holds certificates.
    const withCertificates = new Set(snapshot.resources.filter((r) => /\/certificates\//i.test(r.id)).map((r) => r.id.split("/certificates/")[0]?.toLowerCase()));
    expect(sim.stats.batchCalls).toBe(30 + withCertificates.size);
  });

  it("reports the coverage incomplete, never clean, when the limit is hit and no subscription list is available", async () => {
    const snapshot = generateTenant({ seed: 31, subscriptions: 12, accounts: 30, pools: 60, certificateShare: 0.5 });
    const { report } = await scaleHarness({ resourceGraph: { tenantSubscriptionLimit: 5 } }, snapshot, false);
    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.problems.join("\n")).toMatch(/tenant subscription limit/);
  });

  it("shares one pipeline across subscriptions: the credential is asked for a Batch token once, however many subscriptions", async () => {
    const snapshot = generateTenant({ seed: 77, subscriptions: 12, accounts: 36, pools: 40, certificateShare: 0.5 });
    const sim = await startSimulator({ snapshot });
    started.push(sim);
    const credential = new SimulatorCredential();
    const conn = { credential, endpoint: sim.url, ca: sim.ca, retry: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50 } };
    const certificates = new ArmBatchCertificates(batchClientFactory(conn));
    const accounts = (await new ResourceGraphInventory(createResourceGraphClient(conn), {}).readInventory(TENANT)).accounts;
    credential.scopesRequested.length = 0;
    for (const account of accounts) await certificates.listCertificates(account);
    expect(new Set(accounts.map((a) => a.subscriptionId)).size).toBe(12);
    expect(credential.scopesRequested).toEqual(["https://management.azure.com/.default"]);
  });

  it("paces a subscription's reads to ARM's token bucket, waits out its 429s, and fails nothing", async () => {
    const snapshot = generateTenant({ seed: 8, subscriptions: 3, accounts: 40, pools: 40, certificateShare: 0.5, hotSubscriptionAccounts: 30 });
    // The simulator keeps a smaller bucket than the pacer assumes, so the pacer meets real 429s with Retry-After.
    const { report, sim, pacer } = await scaleHarness({ batch: { readThrottle: { capacity: 5, refillPerSecond: 40 } } }, snapshot, true);
    expect(report.coverage.complete).toBe(true);
    expect(ids(report, "account-certificate")).toEqual(expectedUsage(snapshot).certificates);
    expect(sim.stats.throttled429).toBeGreaterThan(0);
    expect(pacer.stats.throttled).toBe(sim.stats.throttled429);
  });
});

describe("pool references whichever api-version Resource Graph serves pools at", () => {
  const GRAPH_WITHOUT_CERTIFICATES = "2025-06-01";
  const at = (snapshot: TenantSnapshot, version: string | undefined): TenantSnapshot =>
    version === undefined ? snapshot : { ...snapshot, resourceGraph: { batchPoolApiVersion: version } };
  const verdict = (report: AuditReport) => ({
    findings: report.findings.map((f) => `${f.kind} ${f.resourceId.toLowerCase()} ${f.severity}`).sort(),
    complete: report.coverage.complete,
    failed: report.coverage.accounts.filter((a) => a.status === "failed").map((a) => a.name),
  });
  async function auditAt(snapshot: TenantSnapshot, version: string | undefined): Promise<AuditReport> {
    const h = await startHarness({ snapshot: at(snapshot, version) });
    try {
      return await audit(h);
    } finally {
      await h.sim.close();
    }
  }
  const withFault = (snapshot: TenantSnapshot, pathPattern: string, status: number, code: string): TenantSnapshot => ({
    ...snapshot,
    faults: [...(snapshot.faults ?? []), { pathPattern, status, body: { error: { code, message: `${code} (injected)` } } }],
  });

  it("serves Resource Graph pool rows without certificates or cloudServiceConfiguration from 2025-06-01, as that contract", async () => {
    const h = await startHarness({ snapshot: at(demoTenant(), GRAPH_WITHOUT_CERTIFICATES) });
    try {
      const inventory = await h.inventory.readInventory(TENANT);
      // Every pool is listed (the rules read them all), none with references, and none with what that contract lacks.
      const poolsInSnapshot = demoTenant().resources.filter((r) => r.type.toLowerCase() === "microsoft.batch/batchaccounts/pools").length;
      expect(inventory.pools).toHaveLength(poolsInSnapshot);
      expect(inventory.pools.filter((p) => p.certificateReferences.length > 0)).toEqual([]);
      expect(inventory.pools.filter((p) => p.facts?.targetNodeCommunicationMode !== undefined || p.facts?.applicationLicenses !== undefined)).toEqual([]);
      expect(inventory.accounts.length).toBeGreaterThan(0);
      const rows = await h.inventory.readAccountPools(inventory.accounts.filter((a) => a.name === "riskbatch"));
      expect([...rows.values()].flat().map((p) => [p.name, p.certificateReferences])).toEqual([
        ["montecarlo-a", "not-reported"],
        ["montecarlo-b", "not-reported"],
      ]);
    } finally {
      await h.sim.close();
    }
  });

  const cases: [string, () => TenantSnapshot][] = [
    ["the demo tenant (a 403 on one account's certificates, a dangling and a case-mangled reference)", demoTenant],
    ["a generated tenant of many pages", () => generateTenant({ seed: 99, subscriptions: 6, accounts: 30, pools: 90, certificateShare: 0.3 })],
    ["a tenant where one account's certificate API is gone", () => withFault(demoTenant(), "/batchAccounts/riskbatch/certificates$", 400, "NoRegisteredProviderFound")],
  ];
  it.each(cases)("finds the same findings and coverage verdict in %s whether or not Resource Graph reports pool certificates", async (_name, make) => {
    const snapshot = make();
    const before = verdict(await auditAt(snapshot, undefined));
    const after = verdict(await auditAt(snapshot, GRAPH_WITHOUT_CERTIFICATES));
    expect(after).toEqual(before);
    expect(before.findings.some((f) => f.startsWith("pool-certificate-reference"))).toBe(true);
  });

  it("reads the pools of an account whose certificate API is gone from the Batch API, and still finds its pools", async () => {
    const report = await auditAt(withFault(demoTenant(), "/batchAccounts/riskbatch/certificates$", 400, "NoRegisteredProviderFound"), GRAPH_WITHOUT_CERTIFICATES);
    const risk = report.coverage.accounts.find((a) => a.name === "riskbatch");
    expect(risk).toMatchObject({ status: "failed", certificates: "unknown", pools: "batch-api" });
    expect(report.findings.filter((f) => f.accountName === "riskbatch" && f.kind === "pool-certificate-reference").map((f) => f.poolName)).toEqual([
      "montecarlo-a",
      "montecarlo-b",
    ]);
  });

  it("stands in Resource Graph for a pool list the Batch API refuses only where its rows carry certificates, and fails the pools otherwise", async () => {
    const snapshot = withFault(demoTenant(), "/batchAccounts/(riskbatch|genomicsbatch)/pools$", 403, "AuthorizationFailed");
    const old = await auditAt(snapshot, undefined);
    // riskbatch's pools all carry the key; genomicsbatch's qc-pool has none, so its row says nothing.
    expect(old.coverage.accounts.find((a) => a.name === "riskbatch")).toMatchObject({ status: "audited", pools: "resource-graph" });
    expect(old.coverage.accounts.find((a) => a.name === "genomicsbatch")).toMatchObject({ status: "failed", pools: "failed" });
    expect(old.coverage.accounts.find((a) => a.name === "genomicsbatch")?.reason).toMatch(/403.*qc-pool/);

    const latest = await auditAt(snapshot, GRAPH_WITHOUT_CERTIFICATES);
    for (const name of ["riskbatch", "genomicsbatch"]) {
      expect(latest.coverage.accounts.find((a) => a.name === name)).toMatchObject({ status: "failed", pools: "failed" });
    }
    expect(latest.coverage.complete).toBe(false);
    // Their certificates are not called unreferenced while the pools are unknown.
    for (const f of latest.findings.filter((x) => x.kind === "account-certificate" && ["riskbatch", "genomicsbatch"].includes(x.accountName))) {
      expect(f.severity).toBe("critical");
      expect(f.detail).not.toMatch(/can be deleted/);
    }
  });
});
