import { describe, expect, it } from "vitest";
import { auditTenant } from "../../../src/core/auditTenant.js";
import { AuditError } from "../../../src/core/errors.js";
import type { AccountCertificate, BatchAccountInfo, PoolInfo } from "../../../src/core/model.js";
import type { CertificateLister, InventoryReader, TenantInventory } from "../../../src/core/ports.js";

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

class FakeCertificates implements CertificateLister {
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly byAccount: Record<string, AccountCertificate[] | Error>) {}
  async listCertificates(a: BatchAccountInfo): Promise<AccountCertificate[]> {
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
  it("makes a referenced certificate critical and an unreferenced one a warning", async () => {
    const a = account("acct");
    const used = cert(a, "aaaa");
    const unused = cert(a, "bbbb");
    const report = await auditTenant(
      { inventory: new FakeInventory({ accounts: [a], pools: [pool(a, "p1", [used.id])] }), certificates: new FakeCertificates({ acct: [used, unused] }), concurrency: 2 },
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
      { inventory: new FakeInventory({ accounts: [a], pools: [pool(a, "p1", [malformed])] }), certificates: new FakeCertificates({ acct: [c] }), concurrency: 1 },
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
      { inventory: new FakeInventory({ accounts: [listed], pools: [ghostPool] }), certificates, concurrency: 1 },
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
    await auditTenant({ inventory: new FakeInventory({ accounts }), certificates: fake, concurrency: 3 }, request);
    expect(fake.maxInFlight).toBe(3);
  });

  it("counts the days since the deadline, negative before it", async () => {
    const deps = { inventory: new FakeInventory({}), certificates: new FakeCertificates({}), concurrency: 1 };
    const before = await auditTenant(deps, { ...request, deadline: "2026-12-06" });
    expect(before.daysSinceDeadline).toBe(-10);
    const after = await auditTenant(deps, request);
    expect(after.daysSinceDeadline).toBe(1001);
    expect(after.retirementDate).toBe("2024-02-29");
  });
});
