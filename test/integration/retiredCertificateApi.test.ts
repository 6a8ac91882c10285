// When Azure refuses the certificate read's api-version as retired (ARM's 400 NoRegisteredProviderFound naming that
// version), the run says so once, fails no account for it, keeps the certificate findings it knew open and marked
// "verify by hand", and still runs every other rule. Real SDK clients against the simulated Azure.
import { afterEach, describe, expect, it } from "vitest";
import type { TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { auditTenant } from "../../src/core/auditTenant.js";
import type { AuditReport } from "../../src/core/model.js";
import { trackFindings } from "../../src/core/trackFindings.js";
import { MemoryLedger } from "../support/memoryPorts.js";
import { startHarness, type Harness } from "../support/simulatedAzure.js";
import { composeRun, isolatedStorage, runJob, sharedAzurite, startSimulatedAzure, succeeded } from "../support/auditRuns.js";

const SUB = "00000000-0000-4000-8000-00000000d001";
const RG = `/subscriptions/${SUB}/resourceGroups/rg-retired`;
const THUMBPRINT = "cd".repeat(20);

/** Two accounts: `certs` holds a certificate its Windows Server 2016 pool references; `plain` has a pool, no certificate. */
function tenant(refuse: boolean): TenantSnapshot {
  const account = (name: string) => ({ id: `${RG}/providers/Microsoft.Batch/batchAccounts/${name}`, name, type: "Microsoft.Batch/batchAccounts", location: "westeurope", properties: { poolAllocationMode: "BatchService" } });
  const certId = `${RG}/providers/Microsoft.Batch/batchAccounts/certs/certificates/sha1-${THUMBPRINT}`;
  const pool = (accountName: string, name: string, certificates: unknown[]) => ({
    id: `${RG}/providers/Microsoft.Batch/batchAccounts/${accountName}/pools/${name}`,
    name,
    type: "Microsoft.Batch/batchAccounts/pools",
    properties: {
      vmSize: "STANDARD_D2S_V3",
      deploymentConfiguration: {
        virtualMachineConfiguration: { imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2016-datacenter" }, nodeAgentSkuId: "batch.node.windows amd64" },
      },
      ...(certificates.length > 0 ? { certificates } : {}),
    },
  });
  return {
    tenantId: "00000000-0000-4000-8000-00000000d000",
    subscriptions: [{ subscriptionId: SUB, displayName: "Retired" }],
    resources: [
      { id: RG, name: "rg-retired", type: "Microsoft.Resources/resourceGroups", location: "westeurope" },
      account("certs"),
      account("plain"),
      { id: certId, name: `sha1-${THUMBPRINT}`, type: "Microsoft.Batch/batchAccounts/certificates", properties: { thumbprintAlgorithm: "sha1", thumbprint: THUMBPRINT, format: "Pfx", provisioningState: "Succeeded" } },
      pool("certs", "web", [{ id: certId, storeLocation: "LocalMachine", storeName: "My" }]),
      pool("plain", "etl", []),
    ],
    // Resource Graph at the current contract: no certificates on its pool rows.
    resourceGraph: { batchPoolApiVersion: "2025-06-01" },
    ...(refuse ? { batchApi: { refuseApiVersionsBefore: "2025-06-01" } } : {}),
  };
}

let harness: Harness | undefined;
let closeSim: (() => Promise<void>) | undefined;
afterEach(async () => {
  await harness?.sim.close();
  harness = undefined;
  await closeSim?.();
  closeSim = undefined;
});
const azurite = sharedAzurite();

async function auditWith(snapshot: TenantSnapshot, ledger: MemoryLedger, asOf: string): Promise<AuditReport> {
  await harness?.sim.close();
  harness = await startHarness({ snapshot });
  const states = await ledger.findingStates();
  const report = await auditTenant(
    { inventory: harness.inventory, certificates: harness.certificates, pools: harness.certificates, concurrency: 1 },
    { scope: { subscriptions: [], managementGroups: [] }, asOf, generatedAt: `${asOf}T07:00:00.000Z`, openFindings: async () => states.filter((s) => s.kind !== "pool") },
  );
  return (await trackFindings(ledger, report, states)).report;
}

const ids = (report: AuditReport) => report.findings.map((f) => `${f.rule} ${f.resourceId.split("/").pop()}`).sort();

describe("the certificate read's api-version refused as retired", () => {
  it("is said once, fails no account, keeps the known certificate findings open to verify by hand, and runs the other rules", async () => {
    const ledger = new MemoryLedger();
    const before = await auditWith(tenant(false), ledger, "2026-12-03");
    expect(ids(before)).toEqual([
      `account-certificate sha1-${THUMBPRINT}`,
      "pool-certificate-reference web",
      "windows-server-2016-image etl",
      "windows-server-2016-image web",
    ]);

    const after = await auditWith(tenant(true), ledger, "2026-12-04");
    // Each account's certificates asked once and refused; no pools asked at that api-version (within today's budget).
    expect(harness?.sim.stats.batchCalls).toBe(2);
    expect(after.coverage.certificateApiRetired).toMatch(/retired.*NoRegisteredProviderFound.*2023-11-01.*verify them by hand/);
    expect(after.coverage.accounts.map((a) => [a.name, a.status, a.certificates])).toEqual([
      ["certs", "audited", "unknown"],
      ["plain", "audited", "unknown"],
    ]);
    expect(after.summary.accountsFailed).toBe(0);
    // Honest: not a complete read, however clean the accounts look.
    expect(after.coverage.complete).toBe(false);
    expect(ids(after)).toEqual(ids(before));
    const carried = after.findings.filter((f) => f.rule === "account-certificate" || f.rule === "pool-certificate-reference");
    expect(carried.map((f) => f.detail)).toEqual([
      expect.stringMatching(/^Azure no longer shows certificates: verify by hand \(last seen 2026-12-03/) as string,
      expect.stringMatching(/^Azure no longer shows certificates: verify by hand \(last seen 2026-12-03/) as string,
    ]);
    // Nothing was resolved by the refusal.
    expect((await ledger.findingStates()).filter((s) => s.resolvedOn !== undefined)).toEqual([]);
  });

  it("carries them in the daily job too, which reads the ledger's findings again for them (it does not hold them through the audit)", async () => {
    const env = isolatedStorage(azurite.connectionString);
    const jobOn = async (refuse: boolean, asOf: string) => {
      await closeSim?.();
      const { sim, accessKey } = await startSimulatedAzure(tenant(refuse));
      closeSim = () => sim.close();
      return succeeded(await runJob(composeRun(sim, accessKey, { ...env, SEND_MODE: "dry-run" }), asOf)).report;
    };
    const before = await jobOn(false, "2026-12-03");
    const after = await jobOn(true, "2026-12-04");
    expect(after.coverage.certificateApiRetired).toMatch(/retired/);
    expect(ids(after)).toEqual(ids(before));
    const carried = after.findings.filter((f) => f.rule === "account-certificate" || f.rule === "pool-certificate-reference");
    expect(carried).toHaveLength(2);
    for (const f of carried) expect(f.detail).toMatch(/^Azure no longer shows certificates: verify by hand \(last seen 2026-12-03/);
    expect(after.run?.resolvedSinceLastRun).toEqual([]);
  });
});
