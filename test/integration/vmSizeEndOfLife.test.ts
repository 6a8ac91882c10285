// Azure's own end of support per VM size and region (Batch's virtualMachineSkus, `batchSupportEndOfLife`): read once
// per region that has pools, through the real SDK client against the simulated Azure, winning over the catalogue's
// date; a region that cannot be read falls back to the catalogue and the coverage says so.
import { afterEach, describe, expect, it } from "vitest";
import { startSimulator, type SimulatedAzure, type SimulatorOptions, type TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { ArmBatchCertificates } from "../../src/azure/batchCertificates.js";
import { batchClientAtVersion, batchClientFactory, createResourceGraphClient } from "../../src/azure/clients.js";
import { SimulatorCredential } from "../../src/azure/credentials.js";
import { ResourceGraphInventory } from "../../src/azure/resourceGraphInventory.js";
import { ArmVmSizeLifecycle, VM_SKUS_API_VERSION } from "../../src/azure/vmSizeLifecycle.js";
import { auditTenant } from "../../src/core/auditTenant.js";
import type { AuditReport } from "../../src/core/model.js";

const SUB = "00000000-0000-4000-8000-00000000e001";
const RG = `/subscriptions/${SUB}/resourceGroups/rg-sizes`;

/** Accounts in westeurope (two, three NCv3 pools), eastus (one, one pool) and northeurope (no pools). */
function tenant(extra: Partial<TenantSnapshot> = {}): TenantSnapshot {
  const accountIn = (name: string, location: string) => ({ id: `${RG}/providers/Microsoft.Batch/batchAccounts/${name}`, name, type: "Microsoft.Batch/batchAccounts", location, properties: { poolAllocationMode: "BatchService" } });
  const pool = (accountName: string, name: string) => ({
    id: `${RG}/providers/Microsoft.Batch/batchAccounts/${accountName}/pools/${name}`,
    name,
    type: "Microsoft.Batch/batchAccounts/pools",
    properties: { vmSize: "STANDARD_NC6S_V3", deploymentConfiguration: { virtualMachineConfiguration: { nodeAgentSkuId: "batch.node.ubuntu 24.04" } } },
  });
  return {
    tenantId: "00000000-0000-4000-8000-00000000e000",
    subscriptions: [{ subscriptionId: SUB, displayName: "Sizes" }],
    resources: [
      { id: RG, name: "rg-sizes", type: "Microsoft.Resources/resourceGroups", location: "westeurope" },
      accountIn("we1", "westeurope"),
      accountIn("we2", "westeurope"),
      accountIn("us1", "eastus"),
      accountIn("idle", "northeurope"),
      pool("we1", "a"),
      pool("we1", "b"),
      pool("we2", "c"),
      pool("us1", "d"),
    ],
    batchVmSkus: {
      westeurope: [
        { name: "Standard_D2s_v3", familyName: "standardDSv3Family" },
        { name: "Standard_NC6s_v3", familyName: "standardNCSv3Family", batchSupportEndOfLife: "2026-12-31T00:00:00Z" },
      ],
      eastus: [{ name: "Standard_NC6s_v3", familyName: "standardNCSv3Family", batchSupportEndOfLife: "2027-03-31T00:00:00Z" }],
    },
    ...extra,
  };
}

let sim: SimulatedAzure | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function audit(snapshot: TenantSnapshot, options: Partial<SimulatorOptions> = {}): Promise<AuditReport> {
  sim = await startSimulator({ snapshot, ...options });
  const conn = { credential: new SimulatorCredential(), endpoint: sim.url, ca: sim.ca, retry: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 } };
  const certificates = new ArmBatchCertificates(batchClientFactory(conn));
  return auditTenant(
    {
      inventory: new ResourceGraphInventory(createResourceGraphClient(conn)),
      certificates,
      pools: certificates,
      vmSizes: new ArmVmSizeLifecycle(batchClientAtVersion(conn, VM_SKUS_API_VERSION)),
      concurrency: 4,
    },
    { scope: { subscriptions: [], managementGroups: [] }, asOf: "2026-12-04", generatedAt: "2026-12-04T07:00:00.000Z" },
  );
}

const ncv3 = (report: AuditReport) =>
  Object.fromEntries(report.findings.filter((f) => f.rule === "ncv3").map((f) => [f.poolName, [f.deadline, f.deadlineSource, f.daysLeft]]));

describe("Batch's end of support per VM size, from Azure", () => {
  it("is read once per region that has pools (not per pool or account) and wins over the catalogue's date", async () => {
    const report = await audit(tenant());
    // Two regions with pools; northeurope has an account but no pool.
    expect(sim?.stats.vmSkuCalls).toBe(2);
    expect(ncv3(report)).toEqual({
      a: ["2026-12-31", "azure", 27],
      b: ["2026-12-31", "azure", 27],
      c: ["2026-12-31", "azure", 27],
      d: ["2027-03-31", "azure", 117],
    });
    expect(report.coverage.vmSizeEndOfLife).toEqual([
      { location: "eastus", status: "read", sizesWithEndOfLife: 1 },
      { location: "westeurope", status: "read", sizesWithEndOfLife: 1 },
    ]);
  });

  it("follows nextLink to the last page of a region's sizes", async () => {
    const report = await audit(tenant(), { batch: { pageSize: 1 } });
    // westeurope has two sizes (two pages), eastus one.
    expect(sim?.stats.vmSkuCalls).toBe(3);
    expect(ncv3(report)["a"]).toEqual(["2026-12-31", "azure", 27]);
  });

  it("falls back to the catalogue's date in a region it cannot read, and says so in the coverage", async () => {
    const failing = tenant({
      faults: [{ pathPattern: "/locations/eastus/virtualMachineSkus$", status: 500, body: { error: { code: "InternalServerError", message: "injected" } } }],
    });
    const report = await audit(failing);
    expect(ncv3(report)["d"]).toEqual(["2025-09-30", "catalogue", -430]);
    expect(ncv3(report)["a"]).toEqual(["2026-12-31", "azure", 27]);
    expect(report.coverage.vmSizeEndOfLife).toEqual([
      { location: "eastus", status: "failed", reason: expect.stringMatching(/HTTP 500.*catalogue's dates/) as string },
      { location: "westeurope", status: "read", sizesWithEndOfLife: 1 },
    ]);
    // Not a gap in what was audited: the findings are all there, with the catalogue's date.
    expect(report.coverage.complete).toBe(true);
  });
});
