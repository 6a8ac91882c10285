// The inventory reads pools folded into a row per account, and again a row per pool wherever Resource Graph does not
// answer that in full: every pool is read either way.
import type { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { createHttpHeaders, RestError } from "@azure/core-rest-pipeline";
import { executeKql } from "@batch-cert-auditor/simulated-azure";
import { describe, expect, it } from "vitest";
import { POOLS_BY_ACCOUNT_QUERY, POOLS_QUERY } from "../../../src/azure/queries.js";
import { ResourceGraphInventory } from "../../../src/azure/resourceGraphInventory.js";
import type { PoolInfo } from "../../../src/core/model.js";

type Row = Record<string, unknown>;
type Request = { query: string; subscriptions?: string[]; options?: { skipToken?: string; top?: number } };

const sub = (n: number) => `00000000-0000-0000-0000-00000000000${n}`;
/** A pool as the `batchresources` table holds it. */
const pool = (s: string, account: string, name: string, vmSize = "standard_d2s_v3"): Row => ({
  id: `/subscriptions/${s}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/${account}/pools/${name}`,
  name,
  type: "microsoft.batch/batchaccounts/pools",
  subscriptionId: s,
  resourceGroup: "rg",
  properties: { vmSize, certificates: name.endsWith("c") ? [{ id: `/subscriptions/${s}/x/certificates/sha1-${name}` }] : [] },
});
const TABLE = [sub(1), sub(2)].flatMap((s) => ["a", "b", "c"].flatMap((account) => ["p1", "p2c", "p3"].map((p) => pool(s, account, p))));

/**
 * Resource Graph over TABLE: each query run by the simulator's KQL evaluator over the scope's subscriptions, `pageSize`
 * rows a page; `answer` may change what a request gets (throw to fail it).
 */
function graph(answer: (request: Request, page: Row[], index: number) => Row[] | { truncated: Row[] } = (_r, page) => page, pageSize = 2) {
  const log: string[] = [];
  const client = {
    resources: (request: Request, options: { onResponse?: (r: unknown) => void }) => {
      const subs = new Set(request.subscriptions ?? []);
      const rows = executeKql(request.query, { batchresources: TABLE.filter((r) => subs.has(String(r.subscriptionId))), resources: [], resourcecontainers: [] });
      const at = Number(request.options?.skipToken ?? 0);
      log.push(`${request.query === POOLS_BY_ACCOUNT_QUERY ? "by-account" : request.query === POOLS_QUERY ? "per-pool" : "other"} #${at}`);
      const answered = answer(request, rows.slice(at, at + pageSize), at);
      const truncated = !Array.isArray(answered);
      const data = truncated ? answered.truncated : answered;
      const more = !truncated && at + pageSize < rows.length;
      const body = { totalRecords: rows.length, count: data.length, resultTruncated: truncated ? "true" : "false", data, ...(more ? { $skipToken: String(at + pageSize) } : {}) };
      options.onResponse?.({ headers: createHttpHeaders(), parsedBody: body, bodyAsText: JSON.stringify(body) });
      return Promise.resolve(body);
    },
  };
  return { client: client as unknown as ResourceGraphClient, log };
}

async function read(client: ResourceGraphClient, subscriptionBatchSize = 2) {
  const inventory = new ResourceGraphInventory(client, { subscriptionBatchSize, sleep: () => Promise.resolve() });
  const handed: PoolInfo[] = [];
  const result = await inventory.readInventory({ subscriptions: [sub(1), sub(2)], managementGroups: [] }, { accounts: () => undefined, pools: (pools) => handed.push(...pools) });
  // Pools may be handed over twice (a scope read again); the listener merges them by id, as it merges Resource
  // Graph's own repeats.
  const byId = new Map(handed.map((p) => [p.id.toLowerCase(), p]));
  return { result, pools: [...byId.values()], handed: handed.length, stats: inventory.stats };
}

const everyPool = TABLE.map((r) => String(r.id).toLowerCase()).sort();
const ids = (pools: PoolInfo[]) => pools.map((p) => p.id.toLowerCase()).sort();

describe("pools read by account", () => {
  it("reads every pool, with its certificates and facts, in a third of the rows a row per pool takes", async () => {
    const folded = graph();
    const { result, pools, handed, stats } = await read(folded.client);
    expect(ids(pools)).toEqual(everyPool);
    expect(handed).toBe(TABLE.length);
    expect(result.problems).toEqual([]);
    expect(stats.poolFallbacks).toBe(0);
    expect(folded.log.filter((l) => l.startsWith("by-account"))).toHaveLength(3); // 6 accounts, 2 a page
    expect(folded.log.some((l) => l.startsWith("per-pool"))).toBe(false);

    const perPool = graph((request, page) => {
      if (request.query === POOLS_BY_ACCOUNT_QUERY) throw new RestError("no", { statusCode: 400, code: "BadRequest" });
      return page;
    });
    const again = await read(perPool.client);
    // The same pools, the same facts and references, whichever way they were read.
    const shape = (list: PoolInfo[]) => [...list].sort((a, b) => (a.id < b.id ? -1 : 1)).map((p) => ({ ...p }));
    expect(shape(again.pools)).toEqual(shape(pools));
    expect(pools.find((p) => p.name === "p2c")?.certificateReferences).toHaveLength(1);
    expect(pools.find((p) => p.name === "p1")?.facts?.vmSize).toBe("standard_d2s_v3");
  });

  it("asks a row per pool once Resource Graph refuses the folded query, and at once for every later scope", async () => {
    const { client, log } = graph((request, page) => {
      if (request.query === POOLS_BY_ACCOUNT_QUERY) throw new RestError("InvalidQuery: make_list is not supported", { statusCode: 400, code: "BadRequest" });
      return page;
    });
    const { result, pools, stats } = await read(client, 1);
    expect(ids(pools)).toEqual(everyPool);
    expect(result.problems).toEqual([]);
    expect(stats.poolFallbacks).toBe(1);
    // Scope 1: refused, then 9 pools 2 a page; scope 2: a row per pool straight away.
    expect(log.filter((l) => !l.startsWith("other"))).toEqual(["by-account #0", ...[0, 2, 4, 6, 8].map((n) => `per-pool #${n}`), ...[0, 2, 4, 6, 8].map((n) => `per-pool #${n}`)]);
  });

  it("reads a scope again a row per pool when an account's list is shorter than its count", async () => {
    const { client, log } = graph((request, page, at) => {
      if (request.query === POOLS_BY_ACCOUNT_QUERY && at === 2) return page.map((row, i) => (i === 0 ? { ...row, pools: (row.pools as Row[]).slice(1) } : row));
      return page;
    });
    const { result, pools, stats } = await read(client);
    expect(ids(pools)).toEqual(everyPool);
    expect(result.problems).toEqual([]);
    expect(stats.poolFallbacks).toBe(1);
    expect(log.filter((l) => l.startsWith("per-pool"))).toHaveLength(9); // 18 pools, 2 a page
  });

  it("reads a scope again a row per pool when a folded row is unusable (no list, no count, a pool missing a field or its name, a key that is no account), or the answer is cut short without a $skipToken", async () => {
    for (const spoil of [
      (page: Row[]) => page.map((row) => ({ ...row, pools: "not a list" })),
      (page: Row[]) => page.map((row) => ({ ...row, poolCount: -1 })),
      (page: Row[]) => page.map((row) => ({ ...row, pools: (row.pools as unknown[][]).map((fields) => fields.slice(1)) })),
      (page: Row[]) => page.map((row) => ({ ...row, pools: (row.pools as unknown[][]).map((fields) => [`x/${String(fields[0])}`, ...fields.slice(1)]) })),
      (page: Row[]) => page.map((row) => ({ ...row, id: String(row.id).replace(/\/providers\/.*$/, "") })),
      (page: Row[]) => ({ truncated: page }),
    ]) {
      const { client } = graph((request, page, at) => (request.query === POOLS_BY_ACCOUNT_QUERY && at === 0 ? spoil(page) : page));
      const { result, pools, stats } = await read(client);
      expect(ids(pools)).toEqual(everyPool);
      expect(result.problems).toEqual([]);
      expect(stats.poolFallbacks).toBe(1);
    }
  });

  it("reads a scope again a row per pool where a page of the folded query fails, and reports the scope incomplete only when that fails too", async () => {
    const flaky = graph((request, page, at) => {
      if (request.query === POOLS_BY_ACCOUNT_QUERY && at === 2) throw new RestError("Service unavailable", { statusCode: 503 });
      return page;
    });
    const read1 = await read(flaky.client);
    expect(ids(read1.pools)).toEqual(everyPool);
    expect(read1.result.problems).toEqual([]);
    expect(read1.stats.poolFallbacks).toBe(1);

    const down = graph((request, page, at) => {
      if (request.query === POOLS_BY_ACCOUNT_QUERY && at === 2) throw new RestError("Service unavailable", { statusCode: 503 });
      if (request.query === POOLS_QUERY && at === 4) throw new RestError("Service unavailable", { statusCode: 503 });
      return page;
    });
    const read2 = await read(down.client);
    expect(read2.stats.poolFallbacks).toBe(1);
    expect(read2.result.problems.map((p) => p.reason)).toEqual([expect.stringMatching(/^Batch pool query, .*HTTP 503/)]);
  });

  it("does not read again a row per pool when the folded query is throttled past what is waited out: the scope is reported", async () => {
    const { client, log } = graph((request, page) => {
      if (request.query === POOLS_BY_ACCOUNT_QUERY) throw new RestError("throttled", { statusCode: 429, code: "WaitTooLong" });
      return page;
    });
    const { result, stats } = await read(client);
    expect(stats.poolFallbacks).toBe(0);
    expect(log.some((l) => l.startsWith("per-pool"))).toBe(false);
    expect(result.problems.map((p) => p.reason)).toEqual([expect.stringMatching(/^Batch pool query, .*HTTP 429/)]);
  });

  it("remembers a refusal for one read of the inventory, and asks by account again on the next", async () => {
    let refuse = true;
    const { client, log } = graph((request, page) => {
      if (request.query === POOLS_BY_ACCOUNT_QUERY && refuse) throw new RestError("InvalidQuery", { statusCode: 400, code: "BadRequest" });
      return page;
    });
    const inventory = new ResourceGraphInventory(client, { subscriptionBatchSize: 1, sleep: () => Promise.resolve() });
    const scope = { subscriptions: [sub(1), sub(2)], managementGroups: [] };
    await inventory.readInventory(scope, { accounts: () => undefined, pools: () => undefined });
    expect(log.filter((l) => l.startsWith("by-account"))).toHaveLength(1);
    refuse = false;
    log.length = 0;
    await inventory.readInventory(scope, { accounts: () => undefined, pools: () => undefined });
    expect(log.filter((l) => l.startsWith("per-pool"))).toEqual([]);
    expect(log.filter((l) => l.startsWith("by-account")).length).toBeGreaterThan(0);
  });

  it("reports a pool the per-pool reading cannot use, as a row per pool always did", async () => {
    const { client } = graph((request, page, at) =>
      request.query === POOLS_BY_ACCOUNT_QUERY && at === 0 ? page.map((row, i) => (i === 0 ? { ...row, pools: (row.pools as unknown[][]).map((fields, j) => (j === 0 ? [fields[0], "not-a-list", ...fields.slice(2)] : fields)) } : row)) : page,
    );
    const { result, pools } = await read(client);
    expect(pools).toHaveLength(TABLE.length - 1);
    expect(result.problems.map((p) => p.reason)).toEqual([expect.stringMatching(/unusable Batch pool row .*"certificates" is not an array/)]);
  });
});
