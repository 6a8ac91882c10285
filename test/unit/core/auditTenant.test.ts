import { describe, expect, it, vi } from "vitest";
import { auditTenant } from "../../../src/core/auditTenant.js";
import { AuditError } from "../../../src/core/errors.js";
import type { AccountCertificate, BatchAccountInfo, PoolInfo } from "../../../src/core/model.js";
import type { AccountPoolReader, CertificateLister, InventoryReader, PoolLister, ReportedPool, TenantInventory } from "../../../src/core/ports.js";

const SUB = "11111111-1111-4111-8111-111111111111";
const account = (name: string): BatchAccountInfo => ({
  id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/${name}`,
  name,
  subscriptionId: SUB,
  resourceGroup: "rg",
  location: "westeurope",
  tags: {},
});
const cert = (acct: BatchAccountInfo, thumb: string, extra: Partial<AccountCertificate> = {}): AccountCertificate => ({
  id: `${acct.id}/certificates/sha1-${thumb}`,
  name: `sha1-${thumb}`,
  accountId: acct.id,
  thumbprint: thumb,
  thumbprintAlgorithm: "sha1",
  provisioningState: "Succeeded",
  ...extra,
});
const pool = (acct: BatchAccountInfo, name: string, refs: string[]): PoolInfo => ({
  id: `${acct.id}/pools/${name}`,
  name,
  accountId: acct.id,
  accountName: acct.name,
  subscriptionId: SUB,
  resourceGroup: "rg",
  certificateReferences: refs.map((id) => ({ id })),
});

class FakeInventory implements InventoryReader {
  constructor(private readonly inventory: Partial<TenantInventory>) {}
  async readInventory(): Promise<TenantInventory> {
    return { subscriptions: [{ subscriptionId: SUB, displayName: "Sub", tags: {} }], resourceGroups: [], accounts: [], pools: [], problems: [], ...this.inventory };
  }
}

/** Resource Graph with the fallback pool query: rows per account name, or an error. */
class FakeGraphWithPools extends FakeInventory implements AccountPoolReader {
  asked: string[] = [];
  constructor(
    inventory: Partial<TenantInventory>,
    private readonly rows: Record<string, ReportedPool[]> | Error,
  ) {
    super(inventory);
  }
  async readAccountPools(accounts: readonly BatchAccountInfo[]): Promise<Map<string, ReportedPool[]>> {
    this.asked.push(...accounts.map((a) => a.name));
    if (this.rows instanceof Error) throw this.rows;
    const rows = this.rows;
    return new Map(accounts.map((a) => [a.id.toLowerCase(), rows[a.name] ?? []]));
  }
}

/** The Batch API's pool lists: the given pools of each account, or an error for an account name. */
class FakePools implements PoolLister {
  calls: string[] = [];
  constructor(
    private readonly pools: PoolInfo[] = [],
    private readonly errors: Record<string, Error> = {},
  ) {}
  async listPools(a: BatchAccountInfo): Promise<PoolInfo[]> {
    this.calls.push(a.name);
    const error = this.errors[a.name];
    if (error) throw error;
    return this.pools.filter((p) => p.accountId.toLowerCase() === a.id.toLowerCase());
  }
}

class FakeCertificates implements CertificateLister {
  calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly byAccount: Record<string, AccountCertificate[] | Error>) {}
  async listCertificates(a: BatchAccountInfo): Promise<AccountCertificate[]> {
    this.calls.push(a.name);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    await new Promise((r) => setTimeout(r, 5));
    this.inFlight--;
    const answer = this.byAccount[a.name] ?? [];
    if (answer instanceof Error) throw answer;
    return answer;
  }
}

const request = { scope: { subscriptions: [], managementGroups: [] }, asOf: "2026-11-26", generatedAt: "2026-11-26T00:00:00Z" };

describe("auditTenant", () => {
  it("counts a pool with the Key Vault extension and no certificates as migrated, not as a finding, and gives the pool that still uses one a migration kit", async () => {
    const a = account("acct");
    const used = cert(a, "aaaa");
    const keyVault = { name: "kv", publisher: "Microsoft.Azure.KeyVault", type: "KeyVaultForLinux", typeHandlerVersion: "3.0" };
    const image = { imageReference: { publisher: "canonical", offer: "ubuntu-24_04-lts", sku: "server" }, nodeAgentSkuId: "batch.node.ubuntu 24.04" };
    const migrated = { ...pool(a, "new", []), configuration: { properties: { vmSize: "STANDARD_D2S_V3", deploymentConfiguration: { virtualMachineConfiguration: { ...image, extensions: [keyVault] } } } } };
    const plain = { ...pool(a, "plain", []), configuration: { properties: { vmSize: "STANDARD_D2S_V3", deploymentConfiguration: { virtualMachineConfiguration: image } } } };
    const old = { ...pool(a, "old", [used.id]), configuration: { properties: { vmSize: "STANDARD_D2S_V3", deploymentConfiguration: { virtualMachineConfiguration: image } } } };
    const report = await auditTenant(
      { inventory: new FakeInventory({ accounts: [a] }), certificates: new FakeCertificates({ acct: [used] }), pools: new FakePools([migrated, plain, old]), concurrency: 2 },
      request,
    );
    expect(report.summary.poolsMigrated).toBe(1);
    expect(report.coverage.accounts.map((c) => c.migratedPools)).toEqual([["new"]]);
    expect(report.findings.map((f) => f.poolName).filter(Boolean)).toEqual(["old"]);
    expect(report.findings.find((f) => f.poolName === "old")?.migration?.replacementPool).toBeDefined();
  });

  it("makes a referenced certificate critical and an unreferenced one a warning", async () => {
    const a = account("acct");
    const used = cert(a, "aaaa");
    const unused = cert(a, "bbbb");
    const report = await auditTenant(
      {
        inventory: new FakeInventory({ accounts: [a], pools: [pool(a, "p1", [used.id])] }),
        certificates: new FakeCertificates({ acct: [used, unused] }),
        pools: new FakePools([pool(a, "p1", [used.id])]),
        concurrency: 2,
      },
      request,
    );
    const byName = new Map(report.findings.map((f) => [f.certificate?.name ?? f.poolName, f]));
    expect(byName.get("sha1-aaaa")?.severity).toBe("critical");
    expect(byName.get("sha1-aaaa")?.certificate?.referencedByPools).toEqual(["p1"]);
    expect(byName.get("sha1-bbbb")?.severity).toBe("warning");
    expect(byName.get("p1")?.severity).toBe("critical");
    expect(report.summary).toMatchObject({ findings: 3, critical: 2, warning: 1 });
    expect(report.findings[report.findings.length - 1]?.severity).toBe("warning");
  });

  it("matches a malformed, upper-case pool reference to the account certificate by its trailing segment", async () => {
    const a = account("acct");
    const c = cert(a, "abc123");
    const malformed = `${a.id.toUpperCase()}/pools/p1/certificates/SHA1-ABC123`;
    const report = await auditTenant(
      {
        inventory: new FakeInventory({ accounts: [a], pools: [pool(a, "p1", [malformed])] }),
        certificates: new FakeCertificates({ acct: [c] }),
        pools: new FakePools([pool(a, "p1", [malformed])]),
        concurrency: 1,
      },
      request,
    );
    const p = report.findings.find((f) => f.kind === "pool-certificate-reference");
    expect(p?.references?.[0]).toMatchObject({ certificateName: "sha1-abc123", resolves: true });
  });

  it("never counts an account whose certificates could not be read as clean", async () => {
    const a = account("locked");
    const p = pool(a, "p1", [`${a.id}/certificates/sha1-ffff`]);
    const report = await auditTenant(
      {
        inventory: new FakeInventory({ accounts: [a], pools: [p] }),
        certificates: new FakeCertificates({ locked: new AuditError("BATCH.FORBIDDEN", "HTTP 403 AuthorizationFailed") }),
        pools: new FakePools([p]),
        concurrency: 1,
      },
      request,
    );
    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.accounts[0]).toMatchObject({ status: "failed", certificates: "unknown", reason: "HTTP 403 AuthorizationFailed" });
    expect(report.findings.find((f) => f.kind === "pool-certificate-reference")?.references?.[0]?.resolves).toBe("unknown");
  });

  it("turns inventory problems into incomplete coverage and failed subscriptions", async () => {
    const report = await auditTenant(
      {
        inventory: new FakeInventory({ problems: [{ reason: "HTTP 500", subscriptionIds: [SUB] }, { reason: "tenant truncated" }] }),
        certificates: new FakeCertificates({}),
        pools: new FakePools(),
        concurrency: 1,
      },
      request,
    );
    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.subscriptions[0]).toMatchObject({ id: SUB, status: "failed", reason: "HTTP 500" });
    expect(report.coverage.problems).toEqual(["tenant truncated"]);
  });

  it("reports a pool whose account is missing from the account list, with unknown references and incomplete coverage", async () => {
    const listed = account("listed");
    const ghost = account("ghost");
    const ghostPool = pool(ghost, "render", [`${ghost.id}/certificates/sha1-abc`]);
    const certificates = new FakeCertificates({});
    const report = await auditTenant(
      { inventory: new FakeInventory({ accounts: [listed], pools: [ghostPool] }), certificates, pools: new FakePools(), concurrency: 1 },
      request,
    );
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({
      kind: "pool-certificate-reference",
      severity: "critical",
      resourceId: ghostPool.id,
      accountId: ghost.id,
      accountName: "ghost",
      subscriptionId: SUB,
      resourceGroup: "rg",
      poolName: "render",
    });
    expect(report.findings[0]?.references?.[0]).toMatchObject({ certificateName: "sha1-abc", resolves: "unknown" });
    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.problems).toEqual([
      `Batch account ${ghost.id} has pools in Resource Graph's batchresources table but was not in the account list; its certificates are unknown`,
    ]);
  });

  it("reports one coverage problem per unlisted account, however many pools it has", async () => {
    const ghost = account("ghost");
    const report = await auditTenant(
      {
        inventory: new FakeInventory({ pools: [pool(ghost, "p1", [`${ghost.id}/certificates/sha1-a`]), pool(ghost, "p2", [`${ghost.id}/certificates/sha1-b`])] }),
        certificates: new FakeCertificates({}),
        pools: new FakePools(),
        concurrency: 1,
      },
      request,
    );
    expect(report.findings.map((f) => f.poolName).sort()).toEqual(["p1", "p2"]);
    expect(report.coverage.problems).toHaveLength(1);
    expect(report.summary.poolsWithCertificates).toBe(2);
  });

  it("keeps at most the configured number of certificate calls in flight", async () => {
    const accounts = Array.from({ length: 12 }, (_, i) => account(`a${i}`));
    const fake = new FakeCertificates({});
    await auditTenant({ inventory: new FakeInventory({ accounts }), certificates: fake, pools: new FakePools(), concurrency: 3 }, request);
    expect(fake.maxInFlight).toBe(3);
  });

  it("counts the days since the deadline, negative before it", async () => {
    const deps = { inventory: new FakeInventory({}), certificates: new FakeCertificates({}), pools: new FakePools(), concurrency: 1 };
    const before = await auditTenant(deps, { ...request, deadline: "2026-12-06" });
    expect(before.daysSinceDeadline).toBe(-10);
    const after = await auditTenant(deps, request);
    expect(after.daysSinceDeadline).toBe(1001);
    expect(after.retirementDate).toBe("2024-02-29");
  });
});

describe("auditTenant: pool certificate references", () => {
  const forbidden = (what: string) => new AuditError("BATCH.FORBIDDEN", `HTTP 403 AuthorizationFailed on ${what}`);
  const reported = (p: PoolInfo, refs: PoolInfo["certificateReferences"] | "not-reported" = p.certificateReferences): ReportedPool => ({ ...p, certificateReferences: refs });

  it("finds pool references from the Batch API when Resource Graph's pool rows carry no certificates (api-version 2025-06-01)", async () => {
    const a = account("acct");
    const c = cert(a, "aaaa");
    const pools = new FakePools([pool(a, "p1", [c.id]), pool(a, "clean", [])]);
    const report = await auditTenant({ inventory: new FakeInventory({ accounts: [a] }), certificates: new FakeCertificates({ acct: [c] }), pools, concurrency: 1 }, request);
    expect(report.findings.map((f) => [f.kind, f.poolName ?? f.certificate?.name, f.severity])).toEqual([
      ["account-certificate", "sha1-aaaa", "critical"],
      ["pool-certificate-reference", "p1", "critical"],
    ]);
    expect(report.findings.find((f) => f.poolName === "p1")?.sources).toEqual(["batch-api"]);
    expect(report.coverage.accounts[0]).toMatchObject({ status: "audited", pools: "batch-api" });
    expect(report.coverage.complete).toBe(true);
  });

  it("does not read pools of an account whose certificate list was read and is empty: no pool can reference a certificate that is not there", async () => {
    const empty = account("empty");
    const pools = new FakePools([pool(empty, "p1", [])]);
    const report = await auditTenant({ inventory: new FakeInventory({ accounts: [empty] }), certificates: new FakeCertificates({}), pools, concurrency: 1 }, request);
    expect(pools.calls).toEqual([]);
    expect(report.coverage.accounts[0]).toMatchObject({ status: "audited", certificates: 0, pools: "not-needed" });
    expect(report.coverage.complete).toBe(true);
  });

  it("reads pools of an account whose certificates answer 403: a 403 on certificates says nothing about pools", async () => {
    const a = account("locked");
    const p = pool(a, "p1", [`${a.id}/certificates/sha1-ffff`]);
    const pools = new FakePools([p]);
    const report = await auditTenant(
      { inventory: new FakeInventory({ accounts: [a] }), certificates: new FakeCertificates({ locked: forbidden("certificates") }), pools, concurrency: 1 },
      request,
    );
    expect(pools.calls).toEqual(["locked"]);
    expect(report.findings.map((f) => f.poolName)).toEqual(["p1"]);
    expect(report.coverage.accounts[0]).toMatchObject({ status: "failed", certificates: "unknown", pools: "batch-api" });
  });

  it("reads Batch pools of an account without certificates when Resource Graph shows it has references (a dangling reference)", async () => {
    const a = account("dangling");
    const p = pool(a, "p1", [`${a.id}/certificates/sha1-gone`]);
    const pools = new FakePools([p]);
    const report = await auditTenant({ inventory: new FakeInventory({ accounts: [a], pools: [p] }), certificates: new FakeCertificates({}), pools, concurrency: 1 }, request);
    expect(pools.calls).toEqual(["dangling"]);
    expect(report.findings[0]).toMatchObject({ poolName: "p1", sources: ["batch-api", "resource-graph"] });
    expect(report.findings[0]?.references?.[0]?.resolves).toBe(false);
    expect(report.findings[0]?.sourceNote).toBeUndefined();
  });

  it("stands in Resource Graph's rows for a pool list the Batch API refused, when every row carries the certificates key", async () => {
    const a = account("acct");
    const c = cert(a, "aaaa");
    const p1 = pool(a, "p1", [c.id]);
    const inventory = new FakeGraphWithPools({ accounts: [a] }, { acct: [reported(p1), reported(pool(a, "p2", []))] });
    const report = await auditTenant(
      { inventory, certificates: new FakeCertificates({ acct: [c] }), pools: new FakePools([], { acct: forbidden("pools") }), concurrency: 1 },
      request,
    );
    expect(inventory.asked).toEqual(["acct"]);
    expect(report.findings.find((f) => f.kind === "pool-certificate-reference")).toMatchObject({ poolName: "p1", sources: ["resource-graph"] });
    expect(report.coverage.accounts[0]).toMatchObject({ status: "audited", pools: "resource-graph" });
    expect(report.coverage.accounts[0]?.poolsReason).toContain("HTTP 403");
    expect(report.coverage.complete).toBe(true);
  });

  it("fails an account's pools when the Batch API refuses and a Resource Graph row has no certificates key: not reported is never none", async () => {
    const a = account("acct");
    const c = cert(a, "aaaa");
    const inventory = new FakeGraphWithPools({ accounts: [a] }, { acct: [reported(pool(a, "p1", []), "not-reported")] });
    const report = await auditTenant(
      { inventory, certificates: new FakeCertificates({ acct: [c] }), pools: new FakePools([], { acct: forbidden("pools") }), concurrency: 1 },
      request,
    );
    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.accounts[0]).toMatchObject({ status: "failed", certificates: 1, pools: "failed" });
    expect(report.coverage.accounts[0]?.reason).toMatch(/pools: HTTP 403 .*p1/);
    // Its certificate is not called unreferenced (or deletable) while the pools are unknown.
    const certFinding = report.findings.find((f) => f.kind === "account-certificate");
    expect(certFinding?.severity).toBe("critical");
    expect(certFinding?.detail).not.toMatch(/can be deleted/);
    expect(certFinding?.detail).toMatch(/pools could not be read/);
  });

  it("fails an account's pools when the Batch API refuses and Resource Graph lists no pools for it: an empty answer is not none", async () => {
    const a = account("acct");
    const inventory = new FakeGraphWithPools({ accounts: [a] }, {});
    const report = await auditTenant(
      { inventory, certificates: new FakeCertificates({ acct: [cert(a, "aaaa")] }), pools: new FakePools([], { acct: forbidden("pools") }), concurrency: 1 },
      request,
    );
    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.accounts[0]).toMatchObject({ status: "failed", pools: "failed" });
    expect(report.coverage.accounts[0]?.reason).toMatch(/lists no pools/);
    expect(report.findings[0]?.detail).not.toMatch(/can be deleted/);
  });

  it("reads the pools of an account without certificates when the ledger still holds a pool finding there", async () => {
    const a = account("emptied");
    const pools = new FakePools([pool(a, "p1", [`${a.id}/certificates/sha1-gone`])]);
    const report = await auditTenant(
      { inventory: new FakeInventory({ accounts: [a] }), certificates: new FakeCertificates({}), pools, concurrency: 1 },
      { ...request, accountsWithOpenPoolFindings: new Set([a.id.toLowerCase()]) },
    );
    expect(pools.calls).toEqual(["emptied"]);
    expect(report.findings.map((f) => f.poolName)).toEqual(["p1"]);
    expect(report.coverage.accounts[0]).toMatchObject({ status: "audited", pools: "batch-api" });
  });

  it("waits for the ledger's open pool findings only to decide an account's pools: its certificates are read meanwhile", async () => {
    const a = account("emptied");
    const pools = new FakePools([pool(a, "p1", [`${a.id}/certificates/sha1-gone`])]);
    const certificates = new FakeCertificates({});
    let arrive: (accounts: ReadonlySet<string>) => void = () => undefined;
    const arriving = new Promise<ReadonlySet<string>>((resolve) => (arrive = resolve));
    const audit = auditTenant(
      { inventory: new FakeInventory({ accounts: [a] }), certificates, pools, concurrency: 1 },
      { ...request, accountsWithOpenPoolFindings: arriving, owners: arriving.then(() => ({ owners: { ownerTagKeys: ["owner"], fallbackContacts: ["team@contoso.com"], allowedRecipientDomains: [] }, snooze: { tagKey: "snooze", reasonTagKey: "snooze-reason", maxDays: 90 } })) },
    );
    // Its (empty) certificate list read, the account waits: no pool read yet.
    await vi.waitFor(() => expect(certificates.calls).toEqual(["emptied"]));
    await vi.waitFor(() => expect(certificates.inFlight).toBe(0));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(pools.calls).toEqual([]);
    arrive(new Set([a.id.toLowerCase()]));
    const report = await audit;
    expect(pools.calls).toEqual(["emptied"]);
    expect(report.findings.map((f) => [f.poolName, f.owners?.map((o) => o.address)])).toEqual([["p1", ["team@contoso.com"]]]);
  });

  it("fails with the ledger's error when what it waits for from the ledger fails", async () => {
    const a = account("acct");
    const failed = Promise.reject(new Error("ledger read failed: 503"));
    for (const request_ of [
      { ...request, accountsWithOpenPoolFindings: failed },
      { ...request, accountsWithOpenRuleFindings: failed },
      { ...request, owners: failed },
    ]) {
      await expect(
        auditTenant({ inventory: new FakeInventory({ accounts: [a] }), certificates: new FakeCertificates({}), pools: new FakePools([]), concurrency: 1 }, request_),
      ).rejects.toThrow(/ledger read failed: 503/);
    }
  });

  it("reads such an account's pools once, even when Resource Graph also shows references there", async () => {
    const a = account("emptied");
    const batchPool = pool(a, "p1", [`${a.id}/certificates/sha1-gone`]);
    const pools = new FakePools([batchPool]);
    const report = await auditTenant(
      { inventory: new FakeInventory({ accounts: [a], pools: [{ ...batchPool, sources: ["resource-graph"] }] }), certificates: new FakeCertificates({}), pools, concurrency: 1 },
      { ...request, accountsWithOpenPoolFindings: new Set([a.id.toLowerCase()]) },
    );
    expect(pools.calls).toEqual(["emptied"]);
    expect(report.findings.map((f) => f.poolName)).toEqual(["p1"]);
  });

  it("fails an account's pools when the Batch API refuses and the Resource Graph fallback fails too", async () => {
    const a = account("acct");
    const inventory = new FakeGraphWithPools({ accounts: [a] }, new Error("HTTP 500 from Resource Graph"));
    const report = await auditTenant(
      { inventory, certificates: new FakeCertificates({ acct: [cert(a, "aaaa")] }), pools: new FakePools([], { acct: forbidden("pools") }), concurrency: 1 },
      request,
    );
    expect(report.coverage.accounts[0]).toMatchObject({ status: "failed", pools: "failed" });
    expect(report.coverage.accounts[0]?.reason).toContain("HTTP 500 from Resource Graph");
  });

  it("takes the union of both sources and notes where they disagree", async () => {
    const a = account("acct");
    const c1 = cert(a, "aaaa");
    const c2 = cert(a, "bbbb");
    const batch = new FakePools([pool(a, "p1", [c1.id])]);
    const graph = [pool(a, "p1", [c1.id, c2.id]), pool(a, "stale", [c2.id])];
    const report = await auditTenant(
      { inventory: new FakeInventory({ accounts: [a], pools: graph }), certificates: new FakeCertificates({ acct: [c1, c2] }), pools: batch, concurrency: 1 },
      request,
    );
    const p1 = report.findings.find((f) => f.poolName === "p1");
    expect(p1?.references?.map((r) => r.certificateName)).toEqual(["sha1-aaaa", "sha1-bbbb"]);
    expect(p1?.sources).toEqual(["batch-api", "resource-graph"]);
    expect(p1?.sourceNote).toMatch(/Resource Graph lists 1 certificate reference the Batch API does not \(sha1-bbbb\)/);
    const stale = report.findings.find((f) => f.poolName === "stale");
    expect(stale?.sources).toEqual(["resource-graph"]);
    expect(stale?.sourceNote).toMatch(/the Batch API did not return the pool/);
  });

  it("fails the whole audit when it cannot sign in, instead of reporting an incomplete tenant", async () => {
    const a = account("acct");
    const signIn = new AuditError("AUTH.SIGN_IN_FAILED", "Could not sign in to Azure: no credential");
    await expect(
      auditTenant({ inventory: new FakeInventory({ accounts: [a] }), certificates: new FakeCertificates({ acct: signIn }), pools: new FakePools(), concurrency: 1 }, request),
    ).rejects.toMatchObject({ code: "AUTH.SIGN_IN_FAILED" });
  });
});

describe("the ledger's open findings the run could not check", () => {
  // A pool known from Resource Graph alone, whose rows do not carry the node communication mode.
  const lab = account("lab");
  const rgPool: PoolInfo = { ...pool(lab, "p", []), facts: { vmSize: "standard_d2s_v3", imagePublisher: "canonical", imageOffer: "ubuntu-24_04-lts", imageSku: "server", nodeAgentSkuId: "batch.node.ubuntu 24.04", location: "westeurope" } };
  const open = {
    findingId: `classic-node-communication:${rgPool.id.toLowerCase()}`,
    kind: "pool",
    resourceId: rgPool.id,
    accountId: lab.id,
    accountName: "lab",
    subscriptionId: SUB,
    severity: "warning",
    owners: [],
    firstSeen: "2026-11-01",
    lastSeen: "2026-12-03",
  };
  const run = async (accountsWithOpenRuleFindings: ReadonlySet<string>) => {
    let asked = 0;
    const report = await auditTenant(
      { inventory: new FakeInventory({ accounts: [lab], pools: [rgPool] }), certificates: new FakeCertificates({ lab: [] }), pools: new FakePools(), concurrency: 2 },
      {
        scope: { subscriptions: [], managementGroups: [] },
        asOf: "2026-12-04",
        generatedAt: "2026-12-04T06:00:00Z",
        accountsWithOpenRuleFindings,
        openFindings: async () => {
          asked++;
          return [open];
        },
      },
    );
    return { report, asked };
  };

  it("are read only where a rule could not judge an account the ledger holds that rule's findings open in, and then carried", async () => {
    const none = await run(new Set());
    expect(none.report.coverage.unjudged?.map((u) => u.rule)).toContain("classic-node-communication");
    expect(none.asked).toBe(0);
    expect(none.report.findings).toEqual([]);

    const held = await run(new Set([lab.id.toLowerCase()]));
    expect(held.asked).toBe(1);
    expect(held.report.findings.map((f) => [f.id, f.notRechecked?.reason])).toEqual([[open.findingId, expect.stringMatching(/^its rule could not judge the account's pools \(.*not carried/)]]);
    expect(held.report.summary.notRechecked).toBe(1);
  });
});
