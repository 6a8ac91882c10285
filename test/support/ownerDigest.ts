// One owner's realistic digest, made the way the product makes it: an inventory (two Batch accounts, tags, pools with
// their full configuration as the Batch API returns it) goes through auditTenant (findings, migration kits, owners),
// then planDigests and renderDigest. Five findings: a pool that uses a certificate, the certificate, an unreferenced
// certificate, and in a second account a Linux pool with a resolving and a dangling reference plus its certificate.
// The second account's owner tag is broken (`bob@@contoso`), so its owner is reached at the resource group.
import { auditTenant } from "../../src/core/auditTenant.js";
import { planDigests, type DigestPlan } from "../../src/core/digestPlan.js";
import { RETIREMENT_DATE, type AccountCertificate, type BatchAccountInfo, type Finding, type PoolInfo } from "../../src/core/model.js";
import type { CertificateLister, InventoryReader, PoolLister, TenantInventory } from "../../src/core/ports.js";
import { defaultReminderPolicy } from "../../src/core/schedule.js";
import { renderDigest, type RenderContext } from "../../src/render/digestEmail.js";
import type { RenderedEmail } from "../../src/core/sendReminders.js";

export const DIGEST_OWNER = "alice.smith@contoso.com";
export const DIGEST_AS_OF = "2026-11-26";
const SUB = "8f2b6c1e-3d4a-4b5c-9e6f-7a8b9c0d1e2f";
export const T1 = "0a0e4f50d51beadeac1d35afc5116098e7902e6e";
export const T2 = "c1e494a415149c5f211c4778b52f2e834a07247c";
export const T3 = "5383ce0343cb6563281ca97c1d4d712209cffa97";
/** Referenced by etl-nightly, not held by its account. */
export const T4 = "9d2c1b0a99887766554433221100ffeeddccbbaa";

function account(name: string, rg: string, tags: Record<string, string>): BatchAccountInfo {
  return { id: `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.Batch/batchAccounts/${name}`, name, subscriptionId: SUB, resourceGroup: rg, location: "westeurope", tags };
}

export const RENDER = account("contosorender01", "rg-render-weu", { owner: DIGEST_OWNER, costCenter: "4711" });
/** Its owner tag names nobody: the resource group's tag decides. */
export const ETL = account("contosoetlbatch", "rg-etl-neu", { owner: "bob@@contoso" });

function cert(a: BatchAccountInfo, thumb: string): AccountCertificate {
  return {
    id: `${a.id}/certificates/sha1-${thumb}`,
    name: `sha1-${thumb}`,
    accountId: a.id,
    thumbprint: thumb,
    thumbprintAlgorithm: "sha1",
    format: "Pfx",
    provisioningState: "Succeeded",
    expiresOn: "2027-03-31T00:00:00Z",
  };
}

const WINDOWS_POOL: PoolInfo = {
  id: `${RENDER.id}/pools/render-win-pool`,
  name: "render-win-pool",
  accountId: RENDER.id,
  accountName: RENDER.name,
  subscriptionId: SUB,
  resourceGroup: RENDER.resourceGroup,
  certificateReferences: [{ id: `${RENDER.id}/certificates/sha1-${T1}`, storeLocation: "LocalMachine", storeName: "My", visibility: ["StartTask", "Task"] }],
  sources: ["batch-api"],
  configuration: {
    properties: {
      vmSize: "STANDARD_D4S_V3",
      deploymentConfiguration: {
        virtualMachineConfiguration: {
          imageReference: { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-smalldisk", version: "latest" },
          nodeAgentSkuId: "batch.node.windows amd64",
        },
      },
      scaleSettings: { fixedScale: { targetDedicatedNodes: 4, targetLowPriorityNodes: 0 } },
      startTask: { commandLine: "cmd /c install-renderer.cmd", waitForSuccess: true, userIdentity: { autoUser: { scope: "Pool", elevationLevel: "Admin" } } },
      taskSlotsPerNode: 2,
    },
  },
};

const LINUX_POOL: PoolInfo = {
  id: `${ETL.id}/pools/etl-nightly`,
  name: "etl-nightly",
  accountId: ETL.id,
  accountName: ETL.name,
  subscriptionId: SUB,
  resourceGroup: ETL.resourceGroup,
  certificateReferences: [
    { id: `${ETL.id}/certificates/sha1-${T3}`, storeLocation: "CurrentUser", storeName: "My", visibility: ["StartTask"] },
    { id: `${ETL.id}/certificates/sha1-${T4}`, storeLocation: "CurrentUser", storeName: "My", visibility: ["StartTask"] },
  ],
  sources: ["batch-api"],
  configuration: {
    properties: {
      vmSize: "STANDARD_E8S_V5",
      deploymentConfiguration: {
        virtualMachineConfiguration: {
          imageReference: { publisher: "canonical", offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts", version: "latest" },
          nodeAgentSkuId: "batch.node.ubuntu 22.04",
        },
      },
      scaleSettings: { autoScale: { formula: "$TargetDedicatedNodes = min(10, $PendingTasks.GetSample(1));", evaluationInterval: "PT15M" } },
      startTask: { commandLine: "/bin/bash -c 'sudo apt-get install -y unixodbc'", waitForSuccess: true },
    },
  },
};

const INVENTORY: TenantInventory = {
  subscriptions: [{ subscriptionId: SUB, displayName: "Contoso Production", tags: {} }],
  resourceGroups: [
    { id: `/subscriptions/${SUB}/resourceGroups/rg-render-weu`, subscriptionId: SUB, name: "rg-render-weu", tags: {} },
    { id: `/subscriptions/${SUB}/resourceGroups/rg-etl-neu`, subscriptionId: SUB, name: "rg-etl-neu", tags: { owner: DIGEST_OWNER } },
  ],
  accounts: [RENDER, ETL],
  pools: [WINDOWS_POOL, LINUX_POOL],
  problems: [],
};

const CERTIFICATES: Record<string, AccountCertificate[]> = {
  [RENDER.name]: [cert(RENDER, T1), cert(RENDER, T2)],
  [ETL.name]: [cert(ETL, T3)],
};

class ScenarioInventory implements InventoryReader {
  async readInventory(): Promise<TenantInventory> {
    return INVENTORY;
  }
}
class ScenarioCertificates implements CertificateLister {
  async listCertificates(a: BatchAccountInfo): Promise<AccountCertificate[]> {
    return CERTIFICATES[a.name] ?? [];
  }
}
class ScenarioPools implements PoolLister {
  async listPools(a: BatchAccountInfo): Promise<PoolInfo[]> {
    return INVENTORY.pools.filter((p) => p.accountId === a.id);
  }
}

export async function ownerDigestFindings(): Promise<Finding[]> {
  const report = await auditTenant(
    { inventory: new ScenarioInventory(), certificates: new ScenarioCertificates(), pools: new ScenarioPools(), concurrency: 2 },
    {
      scope: { subscriptions: [], managementGroups: [] },
      asOf: DIGEST_AS_OF,
      generatedAt: `${DIGEST_AS_OF}T06:00:00Z`,
      owners: {
        owners: { ownerTagKeys: ["owner"], fallbackContacts: [], allowedRecipientDomains: ["contoso.com"] },
        snooze: { tagKey: "batch-cert-audit-snooze", reasonTagKey: "batch-cert-audit-snooze-reason", maxDays: 90 },
      },
    },
  );
  return report.findings;
}

export const DIGEST_CTX: RenderContext = {
  asOf: DIGEST_AS_OF,
  deadline: RETIREMENT_DATE,
  retirementDate: RETIREMENT_DATE,
  reportUrl: "https://contosoaudit.blob.core.windows.net/reports/2026-11-26/report.html",
  senderName: "Contoso Cloud Platform",
};

export async function ownerDigestPlan(): Promise<DigestPlan> {
  const plans = planDigests(await ownerDigestFindings(), new Map(), DIGEST_AS_OF, defaultReminderPolicy(RETIREMENT_DATE), []);
  const plan = plans.find((p) => p.recipient === DIGEST_OWNER);
  if (!plan) throw new Error(`expected a digest for ${DIGEST_OWNER}`);
  return plan;
}

export async function ownerDigest(): Promise<RenderedEmail> {
  return renderDigest(await ownerDigestPlan(), DIGEST_CTX);
}

/**
 * The same owner's findings over `copies` copies of the two accounts (each copy renamed, so every account, pool and
 * certificate is distinct): a digest as long as a fallback contact's or a platform team's in a big tenant.
 */
export async function manyAccountsFindings(copies: number): Promise<Finding[]> {
  const findings = await ownerDigestFindings();
  const text = JSON.stringify(findings);
  const out: Finding[] = [];
  for (let k = 0; k < copies; k++) {
    const renamed = text.replaceAll(RENDER.name, `${RENDER.name}${k ? `x${k}` : ""}`).replaceAll(ETL.name, `${ETL.name}${k ? `x${k}` : ""}`);
    out.push(...(JSON.parse(renamed) as Finding[]));
  }
  return out;
}

export async function manyAccountsPlan(copies: number): Promise<DigestPlan> {
  const plans = planDigests(await manyAccountsFindings(copies), new Map(), DIGEST_AS_OF, defaultReminderPolicy(RETIREMENT_DATE), []);
  const plan = plans.find((p) => p.recipient === DIGEST_OWNER);
  if (!plan) throw new Error(`expected a digest for ${DIGEST_OWNER}`);
  return plan;
}
