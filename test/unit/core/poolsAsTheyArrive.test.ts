// The audit judges Resource Graph's pools as their pages arrive (src/core/accountReads.ts) instead of holding every pool
// until the end. These tests hold it to the same report as the pools handed over at once, whatever the timing of the
// Batch reads against the pages, and to the cases where an account's pools must wait for the Batch API's list.
import { describe, expect, it } from "vitest";
import { auditTenant } from "../../../src/core/auditTenant.js";
import { AuditError } from "../../../src/core/errors.js";
import type { AccountCertificate, BatchAccountInfo, PoolFacts, PoolInfo } from "../../../src/core/model.js";
import type { AccountPoolReader, AuditScope, CertificateLister, InventoryListener, InventoryReader, PoolLister, ReportedPool, TenantInventory, VmSizeLifecycleReader } from "../../../src/core/ports.js";

const SUBS = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];
const account = (n: number): BatchAccountInfo => {
  const sub = SUBS[n % 2] as string;
  return {
    id: `/subscriptions/${sub}/resourceGroups/rg-${n}/providers/Microsoft.Batch/batchAccounts/acct${String(n).padStart(2, "0")}`,
    name: `acct${String(n).padStart(2, "0")}`,
    subscriptionId: sub,
    resourceGroup: `rg-${n}`,
    location: n % 3 === 0 ? "westeurope" : "eastus",
    tags: {},
  };
};
const cert = (a: BatchAccountInfo, thumb: string): AccountCertificate => ({
  id: `${a.id}/certificates/sha1-${thumb}`,
  name: `sha1-${thumb}`,
  accountId: a.id,
  thumbprint: thumb,
  thumbprintAlgorithm: "sha1",
  provisioningState: "Succeeded",
});
const WS2016: PoolFacts = { vmSize: "STANDARD_D2S_V3", imagePublisher: "MicrosoftWindowsServer", imageOffer: "WindowsServer", imageSku: "2016-Datacenter", nodeAgentSkuId: "batch.node.windows amd64", cloudServiceOsFamily: null };
const DV2: PoolFacts = { vmSize: "Standard_D2_v2", imagePublisher: "canonical", imageOffer: "ubuntu-24_04-lts", imageSku: "server", nodeAgentSkuId: "batch.node.ubuntu 24.04", cloudServiceOsFamily: null };
const CLEAN: PoolFacts = { vmSize: "STANDARD_D2S_V3", imagePublisher: "canonical", imageOffer: "ubuntu-24_04-lts", imageSku: "server", nodeAgentSkuId: "batch.node.ubuntu 24.04", cloudServiceOsFamily: null };
const pool = (a: BatchAccountInfo, name: string, refs: string[], facts: PoolFacts): PoolInfo => ({
  id: `${a.id}/pools/${name}`,
  name,
  accountId: a.id,
  accountName: a.name,
  subscriptionId: a.subscriptionId,
  resourceGroup: a.resourceGroup,
  certificateReferences: refs.map((id) => ({ id })),
  facts: { ...facts },
});

/**
 * A tenant with every kind of account: certificates in use, none, an unreadable certificate list, an unreadable pool
 * list (Resource Graph stands in), dangling references that show up only in a late pool, an open pool finding in the
 * ledger, pools of an account missing from the account list, and rows repeated across pages.
 */
function tenant() {
  const accounts = Array.from({ length: 12 }, (_, i) => account(i));
  const [withCerts, empty, certsFail, poolsFail, dangling, openFinding, poolsRetired, danglingUnread] = accounts.slice(0, 8) as BatchAccountInfo[] as [
    BatchAccountInfo, BatchAccountInfo, BatchAccountInfo, BatchAccountInfo, BatchAccountInfo, BatchAccountInfo, BatchAccountInfo, BatchAccountInfo,
  ];
  const certificates = new Map<string, AccountCertificate[] | Error>([
    [withCerts.name, [cert(withCerts, "aaaa"), cert(withCerts, "bbbb")]],
    [certsFail.name, new AuditError("BATCH.FORBIDDEN", "HTTP 403: forbidden")],
    [poolsFail.name, [cert(poolsFail, "cccc")]],
    // Its certificates are read, its pools refused as retired: Resource Graph's rows are all there is.
    [poolsRetired.name, [cert(poolsRetired, "eeee"), cert(poolsRetired, "ffff")]],
  ]);
  const graphPools: PoolInfo[] = [];
  const batchPools: PoolInfo[] = [];
  for (const a of accounts) {
    const facts = [WS2016, DV2, CLEAN];
    for (let p = 0; p < 4; p++) {
      const refs =
        a === withCerts && p === 0
          ? [`${a.id}/certificates/sha1-aaaa`]
          : a === poolsFail && p === 1
            ? [`${a.id}/certificates/sha1-cccc`]
            : a === poolsRetired && p !== 2
              ? [`${a.id}/certificates/sha1-eeee`]
              : [];
      const graph = pool(a, `pool-${p}`, refs, facts[(p + accounts.indexOf(a)) % 3] as PoolFacts);
      graphPools.push(graph);
      // The Batch API's list: the same pools, one with a size Resource Graph has not caught up with yet, each with
      // its configuration (the wire body a kit rebuilds).
      const configuration = { properties: { vmSize: graph.facts?.vmSize, deploymentConfiguration: { virtualMachineConfiguration: { imageReference: { publisher: "canonical", offer: "ubuntu-24_04-lts", sku: "server" }, nodeAgentSkuId: "batch.node.ubuntu 24.04" } } } };
      batchPools.push({ ...(p === 2 ? { ...graph, facts: { ...DV2 } } : graph), configuration });
    }
  }
  // A pool whose references Resource Graph shows last, in an account whose certificate list is empty.
  graphPools.push(pool(dangling, "zz-late", [`${dangling.id}/certificates/sha1-dddd`], CLEAN));
  batchPools.push(pool(dangling, "zz-late", [`${dangling.id}/certificates/sha1-dddd`], WS2016));
  // Dangling references again, in an account whose pool list then cannot be read by any source.
  graphPools.push(pool(danglingUnread, "zz-late", [`${danglingUnread.id}/certificates/sha1-9999`], CLEAN));
  // Resource Graph shows references on a pool the Batch API lists without any.
  const disputed = pool(withCerts, "pool-9", [`${withCerts.id}/certificates/sha1-bbbb`], CLEAN);
  graphPools.push(disputed);
  batchPools.push({ ...disputed, certificateReferences: [], configuration: { properties: { vmSize: "STANDARD_D2S_V3" } } });
  // Resource Graph still shows a pool the Batch API no longer lists.
  graphPools.push(pool(withCerts, "gone", [], WS2016));
  // An account the account list does not have.
  const unlisted = account(40);
  graphPools.push(pool(unlisted, "orphan", [], WS2016));
  const fallbackRows: Record<string, ReportedPool[]> = {
    [poolsFail.name]: graphPools.filter((p) => p.accountId === poolsFail.id).map((p) => ({ ...p })),
  };
  return { accounts, certificates, graphPools, batchPools, fallbackRows, openPoolAccounts: new Set([openFinding.id.toLowerCase()]), empty, dangling, poolsFail, withCerts, poolsRetired, danglingUnread };
}

type Tenant = ReturnType<typeof tenant>;

/** Resource Graph: accounts first, then pools in pages of `pageSize` (ordered by id), with `pause` between pages. */
class PagedInventory implements InventoryReader, AccountPoolReader {
  constructor(
    private readonly t: Tenant,
    private readonly streaming: { pageSize: number; pause: number; repeatEvery?: number } | undefined,
  ) {}
  async readInventory(_scope: AuditScope, listener?: InventoryListener | ((a: BatchAccountInfo[]) => void)): Promise<TenantInventory> {
    const told = typeof listener === "function" ? { accounts: listener } : (listener ?? {});
    const pools = structuredClone([...this.t.graphPools].sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase())));
    const inventory: TenantInventory = {
      subscriptions: SUBS.map((s, i) => ({ subscriptionId: s, displayName: `Sub ${i}`, tags: {} })),
      resourceGroups: [],
      accounts: this.t.accounts,
      pools: [],
      problems: [],
    };
    told.accounts?.(this.t.accounts);
    if (!this.streaming || !told.pools) return { ...inventory, pools };
    for (let i = 0; i < pools.length; i += this.streaming.pageSize) {
      const page = pools.slice(i, i + this.streaming.pageSize);
      // Resource Graph may give a row again on a later page (overlapping scopes): the audit must count it once.
      const again = this.streaming.repeatEvery && i > 0 && (i / this.streaming.pageSize) % this.streaming.repeatEvery === 0 ? [structuredClone(pools[i - 1] as PoolInfo)] : [];
      told.pools([...page, ...again]);
      await new Promise((r) => setTimeout(r, this.streaming!.pause));
    }
    return inventory;
  }
  async readAccountPools(accounts: readonly BatchAccountInfo[]): Promise<Map<string, ReportedPool[]>> {
    return new Map(accounts.map((a) => [a.id.toLowerCase(), structuredClone(this.t.fallbackRows[a.name] ?? [])]));
  }
}

class Certificates implements CertificateLister {
  constructor(
    private readonly t: Tenant,
    private readonly delay: (a: BatchAccountInfo) => number,
  ) {}
  async listCertificates(a: BatchAccountInfo): Promise<AccountCertificate[]> {
    await new Promise((r) => setTimeout(r, this.delay(a)));
    const answer = this.t.certificates.get(a.name) ?? [];
    if (answer instanceof Error) throw answer;
    return structuredClone(answer);
  }
}

class Pools implements PoolLister {
  calls: string[] = [];
  constructor(private readonly t: Tenant) {}
  async listPools(a: BatchAccountInfo): Promise<PoolInfo[]> {
    this.calls.push(a.name);
    if (a.id === this.t.poolsFail.id || a.id === this.t.danglingUnread.id) throw new AuditError("BATCH.REQUEST_FAILED", "HTTP 500: pools unavailable");
    if (a.id === this.t.poolsRetired.id) throw new AuditError("BATCH.API_RETIRED", "NoRegisteredProviderFound: api-version '2023-11-01' for type 'batchAccounts/pools'");
    return structuredClone(this.t.batchPools.filter((p) => p.accountId === a.id));
  }
}

const vmSizes: VmSizeLifecycleReader = {
  readEndOfLife: async (_subscription, location) => new Map(location === "westeurope" ? [["standard_d2_v2", "2028-05-01"]] : []),
};

async function audit(t: Tenant, streaming: { pageSize: number; pause: number; repeatEvery?: number } | undefined, delay: (a: BatchAccountInfo) => number) {
  const pools = new Pools(t);
  const report = await auditTenant(
    { inventory: new PagedInventory(t, streaming), certificates: new Certificates(t, delay), pools, concurrency: 3, vmSizes },
    {
      scope: { subscriptions: [], managementGroups: [] },
      asOf: "2026-12-04",
      generatedAt: "2026-12-04T06:00:00Z",
      accountsWithOpenPoolFindings: t.openPoolAccounts,
    },
  );
  return { report, poolCalls: [...pools.calls].sort() };
}

describe("pools judged as they arrive", () => {
  it("gives the same report, finding for finding and field for field, as every pool handed over at once, whether the Batch reads finish before, during or after the pages", async () => {
    const t = tenant();
    const atOnce = await audit(t, undefined, () => 1);
    expect(atOnce.report.findings.length).toBeGreaterThan(20);
    const timings: [string, (a: BatchAccountInfo) => number, { pageSize: number; pause: number; repeatEvery?: number }][] = [
      ["reads before the pages", () => 0, { pageSize: 5, pause: 20 }],
      ["reads after the pages", () => 60, { pageSize: 5, pause: 0 }],
      ["reads during the pages, rows repeated", (a) => (a.name.charCodeAt(5) % 4) * 7, { pageSize: 3, pause: 4, repeatEvery: 2 }],
      ["one pool per page", (a) => (a.name.endsWith("4") ? 40 : 2), { pageSize: 1, pause: 1, repeatEvery: 3 }],
    ];
    for (const [what, delay, streaming] of timings) {
      const streamed = await audit(t, streaming, delay);
      expect(JSON.stringify(streamed.report, null, 1), what).toBe(JSON.stringify(atOnce.report, null, 1));
      expect(streamed.poolCalls, what).toEqual(atOnce.poolCalls);
    }
  });

  it("reads the Batch API's pools of an account whose references Resource Graph shows only in its last pool, and judges every pool of it from that list", async () => {
    const t = tenant();
    // The dangling account's certificates are read before any pool arrives, so its first pools are judged from Resource Graph alone.
    const { report, poolCalls } = await audit(t, { pageSize: 2, pause: 3 }, () => 0);
    expect(poolCalls).toContain(t.dangling.name);
    const late = report.findings.filter((f) => f.accountId === t.dangling.id && f.poolName === "zz-late").map((f) => f.rule);
    // Resource Graph's row said a clean image; the Batch API's list (which wins) says Windows Server 2016.
    expect(late).toEqual(expect.arrayContaining(["pool-certificate-reference", "windows-server-2016-image"]));
    const coverage = report.coverage.accounts.find((a) => a.id === t.dangling.id);
    expect(coverage?.pools).toBe("batch-api");
    // The pool Resource Graph had with a size the Batch API's list has changed is judged by the Batch API's size.
    const changed = report.findings.filter((f) => f.accountId === t.dangling.id && f.poolName === "pool-2").map((f) => f.rule);
    expect(changed).toEqual(["d-ds-dv2-dsv2-ls"]);
  });

  it("keeps a Resource Graph row with a fact the Batch API's pool does not carry, whether the row comes before or after the pool list", async () => {
    const t = tenant();
    // A pool of the account with certificates: the Batch API's list does not carry its image sku, Resource Graph's row
    // does (Windows Server 2016). Only the row can decide the rule.
    const graph = pool(t.withCerts, "pool-sku", [], WS2016);
    const { imageSku: _notCarried, ...withoutSku } = WS2016;
    t.graphPools.push(graph);
    t.batchPools.push({ ...graph, facts: withoutSku });
    const timings: [string, (a: BatchAccountInfo) => number, { pageSize: number; pause: number } | undefined][] = [
      ["pool list read before the rows", () => 0, { pageSize: 2, pause: 3 }],
      ["pool list read after the rows", () => 60, { pageSize: 2, pause: 0 }],
      ["every pool at once", () => 1, undefined],
    ];
    for (const [what, delay, streaming] of timings) {
      const { report } = await audit(t, streaming, delay);
      const rules = report.findings.filter((f) => f.accountId === t.withCerts.id && f.poolName === "pool-sku").map((f) => f.rule);
      expect(rules, what).toContain("windows-server-2016-image");
    }
  });

  it("leaves a pool's references unresolved, not gone, in an account whose certificate list was refused as retired", async () => {
    const t = tenant();
    // Judged from Resource Graph's rows as they come: its certificates are unknown, so a reference neither resolves
    // nor is said to be dangling.
    const retired = t.accounts[8] as BatchAccountInfo;
    t.certificates.set(retired.name, new AuditError("BATCH.API_RETIRED", "NoRegisteredProviderFound: api-version '2023-11-01' for type 'batchAccounts/certificates'"));
    t.graphPools.push(pool(retired, "zz-refs", [`${retired.id}/certificates/sha1-7777`], CLEAN));
    for (const streaming of [{ pageSize: 2, pause: 3 }, undefined]) {
      const { report, poolCalls } = await audit(t, streaming, () => 0);
      expect(poolCalls).not.toContain(retired.name);
      const finding = report.findings.find((f) => f.accountId === retired.id && f.poolName === "zz-refs" && f.kind === "pool-certificate-reference");
      expect(finding?.references?.map((r) => r.resolves)).toEqual(["unknown"]);
    }
  });

  it("names the subscription and takes Azure's VM-size date on findings made before either was read", async () => {
    const t = tenant();
    const { report } = await audit(t, { pageSize: 4, pause: 2 }, () => 0);
    const dv2 = report.findings.filter((f) => f.rule === "d-ds-dv2-dsv2-ls");
    expect(dv2.length).toBeGreaterThan(0);
    for (const f of dv2) {
      const westeurope = t.accounts.find((a) => a.id === f.accountId)?.location === "westeurope";
      expect(f.deadlineSource, f.id).toBe(westeurope ? "azure" : "catalogue");
      if (westeurope) expect(f.deadline).toBe("2028-05-01");
    }
    expect(report.findings.filter((f) => f.subscriptionName !== `Sub ${SUBS.indexOf(f.subscriptionId)}`)).toEqual([]);
    expect(report.coverage.vmSizeEndOfLife?.map((r) => r.location)).toEqual(["eastus", "westeurope"]);
  });

  it("counts a pool Resource Graph repeats once, in findings and in what could not be judged", async () => {
    const t = tenant();
    const once = await audit(t, { pageSize: 4, pause: 0 }, () => 0);
    const repeated = await audit(t, { pageSize: 1, pause: 0, repeatEvery: 1 }, () => 0);
    expect(new Set(repeated.report.findings.map((f) => f.id)).size).toBe(repeated.report.findings.length);
    expect(repeated.report.coverage.unjudged).toEqual(once.report.coverage.unjudged);
    expect(repeated.report.summary).toEqual(once.report.summary);
  });

  it("counts a repeated pool once in an account with more pool names than fit its short list, and where a name holds a line break", async () => {
    const t = tenant();
    const crowded = t.accounts[9] as BatchAccountInfo;
    // 40 long names (past the joined string's length: they move to a set), and two names a line break would confuse.
    for (let p = 0; p < 40; p++) t.graphPools.push(pool(crowded, `a-rather-long-pool-name-number-${String(p).padStart(3, "0")}`, [], DV2));
    const plain = t.accounts[10] as BatchAccountInfo;
    t.graphPools.push(pool(plain, "first\nsecond", [], DV2), pool(plain, "first", [], DV2), pool(plain, "second", [], DV2));
    const once = await audit(t, { pageSize: 5, pause: 0 }, () => 0);
    const repeated = await audit(t, { pageSize: 1, pause: 0, repeatEvery: 1 }, () => 0);
    const poolsOf = (a: BatchAccountInfo, r: typeof once) => r.report.findings.filter((f) => f.accountId === a.id && f.poolName !== undefined).map((f) => f.id);
    const namesOf = (a: BatchAccountInfo, r: typeof once) => new Set(r.report.findings.filter((f) => f.accountId === a.id).map((f) => f.poolName));
    // Every pool added is judged (each is on a retiring VM size), once.
    for (let p = 0; p < 40; p++) expect(namesOf(crowded, repeated).has(`a-rather-long-pool-name-number-${String(p).padStart(3, "0")}`)).toBe(true);
    for (const name of ["first\nsecond", "first", "second"]) expect(namesOf(plain, repeated).has(name)).toBe(true);
    for (const a of [crowded, plain]) expect(new Set(poolsOf(a, repeated)).size).toBe(poolsOf(a, repeated).length);
    expect(poolsOf(crowded, repeated)).toEqual(poolsOf(crowded, once));
    expect(poolsOf(plain, repeated)).toEqual(poolsOf(plain, once));
    expect(repeated.report.coverage.unjudged).toEqual(once.report.coverage.unjudged);
    expect(repeated.report.summary).toEqual(once.report.summary);
  });

  it("joins a pool row to its account whatever the case of the ids, as the same account", async () => {
    const t = tenant();
    const expected = await audit(t, { pageSize: 3, pause: 0 }, () => 0);
    const shouted = tenant();
    const a = shouted.accounts[11] as BatchAccountInfo;
    for (const p of shouted.graphPools) {
      if (p.accountId !== a.id) continue;
      p.id = p.id.toUpperCase();
      p.accountId = p.accountId.toUpperCase();
    }
    const { report } = await audit(shouted, { pageSize: 3, pause: 0 }, () => 0);
    expect(report.coverage.problems).toEqual(expected.report.coverage.problems);
    const of = (r: typeof report) => r.findings.filter((f) => f.accountId.toLowerCase() === a.id.toLowerCase()).map((f) => [f.id.toLowerCase(), f.rule, f.poolName]);
    expect(of(report).length).toBeGreaterThan(0);
    expect(of(report)).toEqual(of(expected.report));
    expect(report.summary).toEqual(expected.report.summary);
  });

  it("builds a kit's replacement body from the Batch API's configuration, and says why there is none where only Resource Graph shows the references", async () => {
    const t = tenant();
    const { report } = await audit(t, { pageSize: 3, pause: 1 }, () => 2);
    const kitOf = (name: string) => report.findings.find((f) => f.accountId === t.withCerts.id && f.poolName === name && f.kind === "pool-certificate-reference")?.migration;
    expect(kitOf("pool-0")?.replacementPool).toBeDefined();
    expect(kitOf("pool-0")?.unavailable).toBeUndefined();
    expect(kitOf("pool-9")?.replacementPool).toBeUndefined();
    expect(kitOf("pool-9")?.unavailable).toMatch(/^The Batch API does not show this pool's certificate references \(only Resource Graph does/);
  });

  it("makes one finding per certificate, naming every pool that uses it, where the pools are refused as retired and come over several pages", async () => {
    const t = tenant();
    const { report } = await audit(t, { pageSize: 1, pause: 2 }, () => 0);
    const certs = report.findings.filter((f) => f.accountId === t.poolsRetired.id && f.kind === "account-certificate");
    expect(certs.map((f) => f.certificate?.name).sort()).toEqual(["sha1-eeee", "sha1-ffff"]);
    expect(certs.find((f) => f.certificate?.name === "sha1-eeee")?.certificate?.referencedByPools.sort()).toEqual(["pool-0", "pool-1", "pool-3"]);
    expect(certs.find((f) => f.certificate?.name === "sha1-ffff")?.severity).toBe("warning");
  });

  it("keeps what Resource Graph's earlier rows showed of an account whose late references call for a pool list no source can give", async () => {
    const t = tenant();
    const { report } = await audit(t, { pageSize: 2, pause: 3 }, () => 0);
    const pools = new Set(report.findings.filter((f) => f.accountId === t.danglingUnread.id).map((f) => f.poolName));
    // Every pool of the account is judged from its rows, not only the one that came after the switch (pool-1's
    // image and size are current: no finding).
    expect([...pools].sort()).toEqual(["pool-0", "pool-2", "pool-3", "zz-late"]);
    expect(report.coverage.accounts.find((a) => a.id === t.danglingUnread.id)?.pools).toBe("failed");
    const unjudged = report.coverage.unjudged?.filter((u) => u.accountId === t.danglingUnread.id) ?? [];
    expect(Math.max(...unjudged.map((u) => u.pools))).toBe(5);
  });

  it("names a replacement pool past a pool only Resource Graph's stand-in rows show (the Batch API's pool list failed)", async () => {
    const t = tenant();
    // Made after the inventory was read: only the stand-in read of the account's pools shows it, with no references.
    (t.fallbackRows[t.poolsFail.name] as ReportedPool[]).push(pool(t.poolsFail, "pool-1-kv", [], CLEAN));
    const { report } = await audit(t, { pageSize: 4, pause: 1 }, () => 0);
    const finding = report.findings.find((f) => f.kind === "pool-certificate-reference" && f.resourceId === `${t.poolsFail.id}/pools/pool-1`);
    expect(report.coverage.accounts.find((a) => a.id === t.poolsFail.id)?.pools).toBe("resource-graph");
    expect(finding?.migration?.replacementPoolName).toBe("pool-1-kv2");
  });

  it("still makes the kit of a carried pool finding from the pool as read, in an account whose pool references no source could read", async () => {
    const t = tenant();
    const account = t.poolsFail;
    // The Batch API's pool list fails and Resource Graph's stand-in read gives nothing: its pools are "failed", and
    // its rows from the inventory (pool-2 shows no references now) are all there is of them.
    t.fallbackRows[account.name] = [];
    // Nor does any other pool of it (so this run makes no pool finding of it).
    for (const p of t.graphPools) if (p.accountId === account.id) p.certificateReferences = [];
    const state = {
      findingId: `pool-certificate-reference:${account.id.toLowerCase()}/pools/pool-2`,
      kind: "pool-certificate-reference",
      resourceId: `${account.id}/pools/pool-2`,
      accountId: account.id,
      accountName: account.name,
      subscriptionId: account.subscriptionId,
      severity: "critical",
      owners: [],
      firstSeen: "2026-11-01",
      lastSeen: "2026-12-03",
    };
    const report = await auditTenant(
      { inventory: new PagedInventory(t, { pageSize: 3, pause: 1 }), certificates: new Certificates(t, () => 0), pools: new Pools(t), concurrency: 3, vmSizes },
      {
        scope: { subscriptions: [], managementGroups: [] },
        asOf: "2026-12-04",
        generatedAt: "2026-12-04T06:00:00Z",
        accountsWithOpenPoolFindings: new Set([account.id.toLowerCase()]),
        openFindings: async () => [state],
      },
    );
    expect(report.coverage.accounts.find((a) => a.id === account.id)?.pools).toBe("failed");
    const carried = report.findings.find((f) => f.id === state.findingId);
    expect(carried?.notRechecked).toBeDefined();
    // Its Resource Graph row is the pool the kit is made from (the pool is held for it though it shows no references).
    expect(carried?.migration?.poolName).toBe("pool-2");
    expect(carried?.migration?.replacementPoolName).toBe("pool-2-kv");
  });

  it("names a carried finding's replacement pool past every pool of an account Azure no longer shows certificates for", async () => {
    const t = tenant();
    // An account none of whose pools Resource Graph shows with references.
    const retired = t.empty;
    // Resource Graph shows the replacement an earlier kit told the owner to make.
    t.graphPools.push(pool(retired, "old-kv", [], CLEAN));
    const state = {
      findingId: `pool-certificate-reference:${retired.id.toLowerCase()}/pools/old`,
      kind: "pool-certificate-reference",
      resourceId: `${retired.id}/pools/old`,
      accountId: retired.id,
      accountName: retired.name,
      subscriptionId: retired.subscriptionId,
      severity: "critical",
      owners: [],
      firstSeen: "2026-11-01",
      lastSeen: "2026-12-03",
    };
    // Certificates refused too: the account is left unread, and the ledger's open finding is carried.
    t.certificates.set(retired.name, new AuditError("BATCH.API_RETIRED", "NoRegisteredProviderFound: api-version '2023-11-01' for type 'batchAccounts/certificates'"));
    const report = await auditTenant(
      { inventory: new PagedInventory(t, { pageSize: 3, pause: 1 }), certificates: new Certificates(t, () => 0), pools: new Pools(t), concurrency: 3, vmSizes },
      { scope: { subscriptions: [], managementGroups: [] }, asOf: "2026-12-04", generatedAt: "2026-12-04T06:00:00Z", openFindings: async () => [state] },
    );
    const carried = report.findings.find((f) => f.id === state.findingId);
    expect(carried?.migration?.replacementPoolName).toBe("old-kv2");
  });
});
