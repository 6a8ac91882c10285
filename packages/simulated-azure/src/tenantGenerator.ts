// Deterministic synthetic tenants for tests and benchmarks: the same seed and sizes give the same snapshot.
import { mulberry32 as prng } from "./seededRandom.js";
import type { SnapshotResource, TenantSnapshot } from "./snapshot.js";

export interface TenantShape {
  seed: number;
  subscriptions: number;
  accounts: number;
  /** Pools in the whole tenant, spread over the accounts. */
  pools: number;
  /** Share of accounts that hold certificates (0..1). */
  certificateShare: number;
  /** Share of pools (in accounts with certificates) that reference one. */
  poolReferenceShare?: number;
  /** Share of accounts with an owner tag. */
  ownerTagShare?: number;
  /** Distinct owner addresses the account tags are spread over (default 97). */
  owners?: number;
  /** Put this many accounts into the first subscription (the "hot subscription" shape). */
  hotSubscriptionAccounts?: number;
}

function guid(random: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`;
}

export function generateTenant(shape: TenantShape): TenantSnapshot {
  const random = prng(shape.seed);
  const subscriptions = Array.from({ length: shape.subscriptions }, (_, i) => ({
    subscriptionId: guid(random),
    displayName: `Generated subscription ${i + 1}`,
    tags: (random() < 0.5 ? { owner: `sub-owner-${i + 1}@contoso.com` } : {}) as Record<string, string>,
  }));
  const resources: SnapshotResource[] = [];
  const groups = new Set<string>();
  const accountIds: { id: string; hasCerts: boolean; certIds: string[] }[] = [];

  const hot = Math.min(shape.hotSubscriptionAccounts ?? 0, shape.accounts);
  for (let i = 0; i < shape.accounts; i++) {
    const subIndex = i < hot ? 0 : hot > 0 ? 1 + ((i - hot) % Math.max(1, shape.subscriptions - 1)) : i % shape.subscriptions;
    const sub = subscriptions[Math.min(subIndex, subscriptions.length - 1)];
    if (!sub) throw new Error("a tenant needs at least one subscription");
    const rgName = `rg-batch-${(i % 7) + 1}`;
    const rgId = `/subscriptions/${sub.subscriptionId}/resourceGroups/${rgName}`;
    if (!groups.has(rgId.toLowerCase())) {
      groups.add(rgId.toLowerCase());
      resources.push({ id: rgId, name: rgName, type: "Microsoft.Resources/resourceGroups", location: "westeurope", tags: random() < 0.3 ? { owner: `rg-owner-${i}@contoso.com` } : {} });
    }
    const name = `batch${String(i + 1).padStart(5, "0")}`;
    const id = `${rgId}/providers/Microsoft.Batch/batchAccounts/${name}`;
    resources.push({
      id,
      name,
      type: "Microsoft.Batch/batchAccounts",
      location: "westeurope",
      tags: random() < (shape.ownerTagShare ?? 0.6) ? { owner: `team-${i % (shape.owners ?? 97)}@contoso.com` } : {},
      properties: { provisioningState: "Succeeded", poolAllocationMode: "BatchService" },
    });
    const hasCerts = random() < shape.certificateShare;
    const certIds: string[] = [];
    if (hasCerts) {
      const count = 1 + Math.floor(random() * 3);
      for (let c = 0; c < count; c++) {
        const thumbprint = Array.from({ length: 40 }, () => Math.floor(random() * 16).toString(16)).join("");
        const certName = `sha1-${thumbprint}`;
        certIds.push(`${id}/certificates/${certName}`);
        resources.push({
          id: `${id}/certificates/${certName}`,
          name: certName,
          type: "Microsoft.Batch/batchAccounts/certificates",
          properties: { thumbprintAlgorithm: "sha1", thumbprint, format: "Pfx", provisioningState: "Succeeded" },
        });
      }
    }
    accountIds.push({ id, hasCerts, certIds });
  }

  for (let p = 0; p < shape.pools; p++) {
    const account = accountIds[p % accountIds.length];
    if (!account) break;
    const references =
      account.hasCerts && random() < (shape.poolReferenceShare ?? 0.5)
        ? [{ id: account.certIds[Math.floor(random() * account.certIds.length)] ?? "", storeLocation: "CurrentUser", storeName: "My", visibility: ["Task"] }]
        : [];
    const name = `pool${String(p + 1).padStart(6, "0")}`;
    resources.push({
      id: `${account.id}/pools/${name}`,
      name,
      type: "Microsoft.Batch/batchAccounts/pools",
      properties: { vmSize: "STANDARD_D2S_V3", provisioningState: "Succeeded", ...(references.length > 0 ? { certificates: references } : {}) },
    });
  }

  return { tenantId: guid(random), subscriptions, resources };
}

/** The certificate usage a snapshot truly holds, computed directly from it: the answer an audit must find. */
export function expectedUsage(snapshot: TenantSnapshot): { certificates: string[]; poolsWithCertificates: string[] } {
  const certificates: string[] = [];
  const poolsWithCertificates: string[] = [];
  for (const r of snapshot.resources) {
    const type = r.type.toLowerCase();
    if (type === "microsoft.batch/batchaccounts/certificates") certificates.push(r.id.toLowerCase());
    if (type === "microsoft.batch/batchaccounts/pools" && Array.isArray(r.properties?.certificates) && r.properties.certificates.length > 0) {
      poolsWithCertificates.push(r.id.toLowerCase());
    }
  }
  return { certificates: certificates.sort(), poolsWithCertificates: poolsWithCertificates.sort() };
}
