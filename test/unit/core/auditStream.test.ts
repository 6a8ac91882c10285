// The audit holds its findings as objects a run at a time only (src/core/deflatedSort.ts) and hands the report over
// with them held deflated. What it makes so must be what the whole-list steps make of the same findings: the report's
// order, each pool's kit (file and replacement names are taken in that order), owners and snoozes, and the counts.
import { describe, expect, it } from "vitest";
import { addMigrationKits } from "../../../src/core/migrationKit.js";
import { assignOwners, type SnoozePolicy } from "../../../src/core/assignOwners.js";
import { auditTenant } from "../../../src/core/auditTenant.js";
import { eachOf, heldList, pagesOf } from "../../../src/core/deflatedJson.js";
import { compareFindings } from "../../../src/core/findings.js";
import type { AccountCertificate, BatchAccountInfo, Finding, PoolInfo } from "../../../src/core/model.js";
import type { OwnerPolicy } from "../../../src/core/owners.js";
import type { CertificateLister, InventoryReader, PoolLister, TenantInventory } from "../../../src/core/ports.js";

const SUBS = ["22222222-2222-4222-8222-222222222222", "11111111-1111-4111-8111-111111111111", "33333333-3333-4333-8333-333333333333"];
const ACCOUNTS = 2_000;

/** Accounts in an order that is not the report's: spread over three subscriptions, a third tagged with an owner. */
function tenant() {
  const accounts: BatchAccountInfo[] = [];
  const certificates = new Map<string, AccountCertificate[]>();
  const pools: PoolInfo[] = [];
  for (let n = 0; n < ACCOUNTS; n++) {
    const i = (n * 7919) % ACCOUNTS;
    const sub = SUBS[i % 3] as string;
    const name = `batch${String(i).padStart(5, "0")}`;
    const id = `/subscriptions/${sub}/resourceGroups/rg${i % 5}/providers/Microsoft.Batch/batchAccounts/${name}`;
    const tags: Record<string, string> = i % 3 === 0 ? { owner: `team${i % 11}@contoso.com` } : i % 7 === 0 ? { "batch-cert-audit-snooze": "2026-12-20" } : {};
    accounts.push({ id, name, subscriptionId: sub, resourceGroup: `rg${i % 5}`, location: i % 2 ? "westeurope" : "eastus", tags });
    const thumb = i.toString(16).padStart(40, "0");
    const cert: AccountCertificate = { id: `${id}/certificates/sha1-${thumb}`, name: `sha1-${thumb}`, accountId: id, thumbprint: thumb, thumbprintAlgorithm: "sha1", provisioningState: "Succeeded", format: "Pfx" };
    certificates.set(name, [cert]);
    // One pool per account, two on every fourth (the same certificate: each kit names the other pool); the second pool's
    // name sorts before the first's, so the report's order is not the order the pools were read in.
    const poolNames = i % 4 === 0 ? ["render", "align"] : ["render"];
    for (const poolName of poolNames) {
      pools.push({ id: `${id}/pools/${poolName}`, name: poolName, accountId: id, accountName: name, subscriptionId: sub, resourceGroup: `rg${i % 5}`, certificateReferences: [{ id: cert.id }] });
    }
  }
  return { accounts, certificates, pools };
}

const owners: OwnerPolicy = { ownerTagKeys: ["owner"], fallbackContacts: [], allowedRecipientDomains: [] };
const snooze: SnoozePolicy = { tagKey: "batch-cert-audit-snooze", reasonTagKey: "batch-cert-audit-snooze-reason", maxDays: 90 };

describe("the audit's findings, held a run at a time", () => {
  it("are what sorting, kitting and owning them whole gives, held deflated in the report", async () => {
    const { accounts, certificates, pools } = tenant();
    const inventory: InventoryReader = {
      readInventory: async (): Promise<TenantInventory> => ({
        subscriptions: SUBS.map((subscriptionId, i) => ({ subscriptionId, displayName: `Sub ${i}`, tags: {} })),
        resourceGroups: [],
        accounts,
        pools: [],
        problems: [],
      }),
    };
    const lister: CertificateLister = { listCertificates: async (a) => certificates.get(a.name) ?? [] };
    const poolLister: PoolLister = { listPools: async (a) => pools.filter((p) => p.accountId === a.id) };
    const report = await auditTenant(
      { inventory, certificates: lister, pools: poolLister, concurrency: 64 },
      { scope: { subscriptions: [], managementGroups: [] }, asOf: "2026-12-07", generatedAt: "2026-12-07T00:00:00Z", owners: { owners, snooze } },
    );

    // Held: read a page at a time without the key, and more findings than a run (2,048) holds.
    const list = heldList<Finding>(report, "findings");
    expect(list).toBeDefined();
    const streamed = [...eachOf(pagesOf(report, "findings"))];
    expect(streamed.length).toBe(ACCOUNTS + pools.length);
    expect(streamed.length).toBeGreaterThan(2 * 2048);

    // The whole-list steps over the same findings (their kits and owners taken off, in another order).
    const bare = streamed.map(({ migration: _kit, owners: _owners, ownerProblems: _problems, snoozedUntil: _until, ownerTagFixes: _fixes, ...rest }) => rest as Finding);
    const whole = [...bare].reverse().sort(compareFindings);
    const kitted = addMigrationKits(
      whole,
      pools,
      new Map([...certificates].map(([name, list]) => [(accounts.find((a) => a.name === name) as BatchAccountInfo).id.toLowerCase(), list])),
      {},
    );
    const expected = assignOwners(kitted, { accounts, resourceGroups: [], subscriptions: SUBS.map((subscriptionId, i) => ({ subscriptionId, displayName: `Sub ${i}`, tags: {} })) }, { owners, snooze, asOf: "2026-12-07" });
    expect(JSON.stringify(streamed)).toBe(JSON.stringify(expected));

    // What the test compares is not trivially so: the report's order is not the order read, kits name another pool, and
    // owners and snoozes are set.
    expect(streamed.slice(0, 3).map((f) => f.accountName)).not.toStrictEqual(accounts.slice(0, 3).map((a) => a.name));
    expect(streamed.some((f) => f.migration?.notes.some((n) => n.includes("is also used by pool")))).toBe(true);
    expect(streamed.filter((f) => f.owners?.length).length).toBeGreaterThan(1000);
    expect(streamed.filter((f) => f.snoozedUntil === "2026-12-20").length).toBeGreaterThan(100);
    expect(new Set(streamed.map((f) => f.migration?.fileName).filter(Boolean)).size).toBe(pools.length);
    // Each completed with its subscription's name, right after its id (as the audit completed them whole).
    for (const f of streamed) {
      expect(f.subscriptionName).toBe(`Sub ${SUBS.indexOf(f.subscriptionId)}`);
      const keys = Object.keys(f);
      expect(keys[keys.indexOf("subscriptionId") + 1]).toBe("subscriptionName");
    }

    // The counts are the report's.
    expect(report.summary).toMatchObject({
      findings: streamed.length,
      accountCertificates: ACCOUNTS,
      poolsWithCertificates: pools.length,
      critical: streamed.filter((f) => f.severity === "critical").length,
      byRule: { "account-certificate": ACCOUNTS, "pool-certificate-reference": pools.length },
    });
    // Reading the key still gives them all.
    expect(JSON.stringify(report.findings)).toBe(JSON.stringify(streamed));
  }, 60_000);
});
