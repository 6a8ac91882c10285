// What the retirement rules read of each pool (PoolFacts), filled by the reads the audit already makes: Resource
// Graph's pool rows for every pool, the Batch API's pool list where it is read. Real SDK clients, simulated Azure.
import { afterEach, describe, expect, it } from "vitest";
import type { TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { auditTenant } from "../../src/core/auditTenant.js";
import type { AuditReport } from "../../src/core/model.js";
import type { AuditScope } from "../../src/core/ports.js";
import { startHarness, type Harness } from "../support/simulatedAzure.js";

const TENANT: AuditScope = { subscriptions: [], managementGroups: [] };
const SUB = "00000000-0000-4000-8000-00000000f001";
const RG = `/subscriptions/${SUB}/resourceGroups/rg-facts`;
const account = (name: string) => `${RG}/providers/Microsoft.Batch/batchAccounts/${name}`;

/** A Windows Server 2016 pool on classic node communication, with low-priority nodes, in an account in `location`. */
const classicPool = {
  vmSize: "STANDARD_D2S_V3",
  deploymentConfiguration: {
    virtualMachineConfiguration: {
      imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2016-datacenter", version: "latest" },
      nodeAgentSkuId: "batch.node.windows amd64",
    },
  },
  scaleSettings: { fixedScale: { targetDedicatedNodes: 1, targetLowPriorityNodes: 3 } },
  currentLowPriorityNodes: 3,
  targetNodeCommunicationMode: "Classic",
  currentNodeCommunicationMode: "Classic",
  provisioningState: "Succeeded",
};

/** Account `plain` (no certificates) and account `certs` (one certificate), each with one classic pool. */
function tenant(graphPoolApiVersion?: string): TenantSnapshot {
  const thumbprint = "ab".repeat(20);
  return {
    tenantId: "00000000-0000-4000-8000-00000000f000",
    subscriptions: [{ subscriptionId: SUB, displayName: "Facts" }],
    resources: [
      { id: RG, name: "rg-facts", type: "Microsoft.Resources/resourceGroups", location: "westeurope" },
      { id: account("plain"), name: "plain", type: "Microsoft.Batch/batchAccounts", location: "westeurope", properties: { poolAllocationMode: "BatchService" } },
      { id: account("certs"), name: "certs", type: "Microsoft.Batch/batchAccounts", location: "westeurope", properties: { poolAllocationMode: "UserSubscription" } },
      { id: `${account("plain")}/pools/render`, name: "render", type: "Microsoft.Batch/batchAccounts/pools", properties: classicPool },
      { id: `${account("certs")}/pools/etl`, name: "etl", type: "Microsoft.Batch/batchAccounts/pools", properties: classicPool },
      {
        id: `${account("certs")}/certificates/sha1-${thumbprint}`,
        name: `sha1-${thumbprint}`,
        type: "Microsoft.Batch/batchAccounts/certificates",
        properties: { thumbprintAlgorithm: "sha1", thumbprint, format: "Pfx", provisioningState: "Succeeded" },
      },
    ],
    ...(graphPoolApiVersion ? { resourceGraph: { batchPoolApiVersion: graphPoolApiVersion } } : {}),
  };
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.sim.close();
  harness = undefined;
});

async function audit(h: Harness): Promise<AuditReport> {
  return auditTenant({ inventory: h.inventory, certificates: h.certificates, pools: h.certificates, concurrency: 4 }, { scope: TENANT, asOf: "2026-12-04", generatedAt: "2026-12-04T07:00:00.000Z" });
}

const rulesOf = (report: AuditReport, poolName: string) =>
  report.findings
    .filter((f) => f.poolName === poolName)
    .map((f) => f.rule)
    .sort();

describe("pool facts from the audit's own reads", () => {
  it("fills every pool's facts from Resource Graph's rows, and each account's poolAllocationMode from its row", async () => {
    harness = await startHarness({ snapshot: tenant() });
    const inventory = await harness.inventory.readInventory(TENANT);
    expect(inventory.accounts.map((a) => [a.name, a.poolAllocationMode]).sort()).toEqual([
      ["certs", "UserSubscription"],
      ["plain", "BatchService"],
    ]);
    const render = inventory.pools.find((p) => p.name === "render");
    expect(render?.facts).toEqual({
      vmSize: "STANDARD_D2S_V3",
      imagePublisher: "MicrosoftWindowsServer",
      imageOffer: "WindowsServer",
      imageSku: "2016-datacenter",
      imageId: null,
      nodeAgentSkuId: "batch.node.windows amd64",
      cloudServiceOsFamily: null,
      targetNodeCommunicationMode: "Classic",
      currentNodeCommunicationMode: "Classic",
      targetLowPriorityNodes: 3,
      currentLowPriorityNodes: 3,
      autoScaleFormula: null,
      publicIpProvision: null,
    });
  });

  it("judges a pool whose account's pools the Batch API was not asked for from Resource Graph alone, within one Batch call for that account", async () => {
    harness = await startHarness({ snapshot: tenant() });
    const report = await audit(harness);
    expect(rulesOf(report, "render")).toEqual(["classic-node-communication", "low-priority-nodes", "windows-server-2016-image"]);
    // `plain` has no certificates: its certificate list is its only Batch call; `certs` adds its pool list.
    expect(harness.sim.stats.batchCalls).toBe(3);
    const render = report.findings.find((f) => f.poolName === "render" && f.rule === "windows-server-2016-image");
    expect(render).toMatchObject({ deadline: "2027-01-12", daysLeft: 39 });
    expect(report.coverage.unjudged ?? []).toEqual([]);
  });

  it("calls a rule unknown, never 'not affected', where Resource Graph's rows do not carry what it reads, and says so per rule and account", async () => {
    // From 2025-06-01 the pool contract has no node communication modes: Resource Graph's rows then hold null.
    harness = await startHarness({ snapshot: tenant("2025-06-01") });
    const report = await audit(harness);
    expect(rulesOf(report, "render")).toEqual(["low-priority-nodes", "windows-server-2016-image"]);
    expect(report.coverage.unjudged).toEqual([
      expect.objectContaining({
        rule: "classic-node-communication",
        accountId: account("plain"),
        pools: 1,
        missing: expect.arrayContaining(["targetNodeCommunicationMode", "currentNodeCommunicationMode"]) as string[],
        reason: expect.stringMatching(/not carried.*Resource Graph/) as string,
      }),
    ]);
  });

  it("fills facts from the Batch API's pool list where the audit reads it, over what Resource Graph's rows lack", async () => {
    harness = await startHarness({ snapshot: tenant("2025-06-01") });
    const report = await audit(harness);
    // `certs` holds a certificate, so its pools are read from the Batch API (api-version 2023-11-01, which has the
    // modes). Its pool allocation mode is UserSubscription: its low-priority nodes are not the retired kind.
    expect(rulesOf(report, "etl")).toEqual(["classic-node-communication", "windows-server-2016-image"]);
    expect((report.coverage.unjudged ?? []).filter((u) => u.accountId === account("certs"))).toEqual([]);
  });
});
