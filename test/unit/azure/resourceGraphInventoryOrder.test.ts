import type { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { createHttpHeaders } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { ResourceGraphInventory } from "../../../src/azure/resourceGraphInventory.js";
import { BATCH_ACCOUNTS_QUERY, CONTAINERS_QUERY, FOLDED_POOL_FIELDS, POOLS_BY_ACCOUNT_QUERY, POOLS_QUERY } from "../../../src/azure/queries.js";

type Request = { query: string; subscriptions?: string[]; managementGroups?: string[]; options?: { skipToken?: string } };
type Row = Record<string, unknown>;

/** A Resource Graph that answers from fixed rows per query and subscription, one row per page, and logs each request. */
function fakeResourceGraph(rowsFor: (query: string, subscription: string) => Row[]) {
  const log: string[] = [];
  const client = {
    resources: (request: Request, options: { onResponse?: (r: unknown) => void }) => {
      // A management group's scope is asked for as "mg:<name>".
      const subs = request.subscriptions ?? (request.managementGroups ?? []).map((m) => `mg:${m}`);
      // Pools by account are the pool rows (as POOLS_QUERY has them) folded into a row per account, as Resource Graph
      // folds them.
      const rows = request.query === POOLS_BY_ACCOUNT_QUERY ? foldByAccount(subs.flatMap((s) => rowsFor(POOLS_QUERY, s))) : subs.flatMap((s) => rowsFor(request.query, s));
      const at = Number(request.options?.skipToken ?? 0);
      const kind = request.query === BATCH_ACCOUNTS_QUERY ? "accounts" : request.query === POOLS_QUERY || request.query === POOLS_BY_ACCOUNT_QUERY ? "pools" : request.query === CONTAINERS_QUERY ? "containers" : "other";
      log.push(`${kind} ${subs.join(",")} #${at}`);
      const data = rows.slice(at, at + 1);
      const body = { totalRecords: rows.length, count: data.length, resultTruncated: "false", data, ...(at + 1 < rows.length ? { $skipToken: String(at + 1) } : {}) };
      options.onResponse?.({ headers: createHttpHeaders(), parsedBody: body, bodyAsText: JSON.stringify(body) });
      return Promise.resolve(body);
    },
  };
  return { client: client as unknown as ResourceGraphClient, log };
}

/** POOLS_BY_ACCOUNT_QUERY's rows: `id` the account's id, `pools` its pools' fields, `poolCount` how many. */
function foldByAccount(pools: Row[]): Row[] {
  const byAccount = new Map<string, Row[]>();
  for (const pool of pools) {
    const account = String(pool.id).slice(0, String(pool.id).lastIndexOf("/pools/"));
    byAccount.set(account, [...(byAccount.get(account) ?? []), pool]);
  }
  return [...byAccount]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, list]) => ({ id, pools: list.map((pool) => FOLDED_POOL_FIELDS.map((field) => pool[field] ?? null)), poolCount: list.length }));
}

const sub = (n: number) => `00000000-0000-0000-0000-00000000000${n}`;
const accountRow = (s: string, name: string): Row => ({
  id: `/subscriptions/${s}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/${name}`,
  name,
  type: "microsoft.batch/batchaccounts",
  subscriptionId: s,
  resourceGroup: "rg",
  location: "westeurope",
  tags: {},
});

describe("Resource Graph inventory over subscription batches", () => {
  it("reads every batch's accounts (and hands them over) before any batch's pools and containers, and takes the same rows", async () => {
    const subscriptions = [sub(1), sub(2), sub(3)];
    const { client, log } = fakeResourceGraph((query, s) => {
      if (query === BATCH_ACCOUNTS_QUERY) return [accountRow(s, `a-${s.slice(-1)}`), accountRow(s, `b-${s.slice(-1)}`)];
      if (query === CONTAINERS_QUERY) return [{ id: `/subscriptions/${s}`, name: `sub ${s.slice(-1)}`, type: "microsoft.resources/subscriptions", subscriptionId: s, tags: {} }];
      return [];
    });
    const inventory = new ResourceGraphInventory(client, { subscriptionBatchSize: 1, sleep: () => Promise.resolve() });
    const handedOver: string[] = [];
    const result = await inventory.readInventory({ subscriptions, managementGroups: [] }, (accounts) => {
      handedOver.push(...accounts.map((a) => a.name));
      // Every account is handed over while no pool or container query has been sent yet.
      expect(log.filter((l) => !l.startsWith("accounts"))).toEqual([]);
    });

    expect(handedOver).toEqual(["a-1", "b-1", "a-2", "b-2", "a-3", "b-3"]);
    const firstOther = log.findIndex((l) => !l.startsWith("accounts"));
    expect(log.slice(0, firstOther)).toEqual(subscriptions.flatMap((s) => [`accounts ${s} #0`, `accounts ${s} #1`]));
    expect(log.slice(firstOther).every((l) => !l.startsWith("accounts"))).toBe(true);
    expect(result.accounts.map((a) => a.name)).toEqual(handedOver);
    expect(result.subscriptions.map((s) => s.displayName)).toEqual(["sub 1", "sub 2", "sub 3"]);
    expect(result.problems).toEqual([]);
  });
});

describe("Resource Graph inventory: resource groups and tags", () => {
  const group = (s: string, name: string, tags: Row = {}): Row => ({ id: `/subscriptions/${s}/resourceGroups/${name}`, name, type: "microsoft.resources/subscriptions/resourcegroups", subscriptionId: s, resourceGroup: name, tags });
  const pool = (s: string, rg: string, account: string, name: string): Row => ({
    id: `/subscriptions/${s}/resourceGroups/${rg}/providers/Microsoft.Batch/batchAccounts/${account}/pools/${name}`,
    name,
    type: "microsoft.batch/batchaccounts/pools",
    subscriptionId: s,
    resourceGroup: rg,
    certificates: null,
  });

  it("keeps only the resource groups a Batch account or pool is in, each once however often a row comes", async () => {
    const subscriptions = [sub(1), sub(2)];
    const { client } = fakeResourceGraph((query, s) => {
      if (query === BATCH_ACCOUNTS_QUERY) return [accountRow(s, `a-${s.slice(-1)}`)];
      // A pool of an account the account list does not have, in a group of its own.
      if (query === POOLS_QUERY) return s === sub(1) ? [pool(s, "RG-Unlisted", "ghost", "p1")] : [];
      if (query === CONTAINERS_QUERY) {
        const own = [group(s, "rg", { owner: `team-${s.slice(-1)}@contoso.com` }), group(s, "rg-unlisted"), group(s, "rg-web"), group(s, "rg-data")];
        // The second batch repeats the first's rows (Resource Graph may repeat a row; scopes may overlap).
        return s === sub(2) ? [...own, group(sub(1), "rg"), group(sub(1), "rg-unlisted")] : own;
      }
      return [];
    });
    const result = await new ResourceGraphInventory(client, { subscriptionBatchSize: 1, sleep: () => Promise.resolve() }).readInventory({ subscriptions, managementGroups: [] });

    expect(result.resourceGroups.map((g) => g.id)).toEqual([`/subscriptions/${sub(1)}/resourceGroups/rg`, `/subscriptions/${sub(1)}/resourceGroups/rg-unlisted`, `/subscriptions/${sub(2)}/resourceGroups/rg`]);
    expect(result.resourceGroups[0]?.tags).toEqual({ owner: "team-1@contoso.com" });
    expect(result.problems).toEqual([]);
  });

  it("gives resources with the same tags one frozen tags object, and each distinct set its own", async () => {
    const tagged = (name: string, tags: Row) => ({ ...accountRow(sub(1), name), tags });
    const { client } = fakeResourceGraph((query) =>
      query === BATCH_ACCOUNTS_QUERY ? [tagged("a", { owner: "x@contoso.com" }), tagged("b", { owner: "x@contoso.com" }), tagged("c", { owner: "y@contoso.com" }), tagged("d", {}), { ...accountRow(sub(1), "e"), tags: null }] : [],
    );
    const result = await new ResourceGraphInventory(client, { sleep: () => Promise.resolve() }).readInventory({ subscriptions: [sub(1)], managementGroups: [] });
    const [a, b, c, d, e] = result.accounts.map((x) => x.tags);

    expect(a).toEqual({ owner: "x@contoso.com" });
    expect(a).toBe(b);
    expect(c).toEqual({ owner: "y@contoso.com" });
    expect(c).not.toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(d).toEqual({});
    expect(e).toEqual({});
    expect(() => Object.assign(a as object, { owner: "z" })).toThrow(TypeError);
  });

  it("keeps the resource groups of accounts and pools once each, a row Resource Graph repeats too, and no other group", async () => {
    const s = sub(1);
    const group = (name: string) => ({ id: `/subscriptions/${s}/resourceGroups/${name}`, name, type: "microsoft.resources/subscriptions/resourcegroups", subscriptionId: s, tags: { owner: `${name}@contoso.com` } });
    const { client } = fakeResourceGraph((query) => {
      if (query === BATCH_ACCOUNTS_QUERY) return [accountRow(s, "a")];
      // A pool whose account the account list does not have: its group is wanted too.
      if (query === POOLS_QUERY) return [{ id: `/subscriptions/${s}/resourceGroups/POOLRG/providers/Microsoft.Batch/batchAccounts/gone/pools/p1`, name: "p1", type: "microsoft.batch/batchaccounts/pools", subscriptionId: s, resourceGroup: "POOLRG", properties: {} }];
      if (query === CONTAINERS_QUERY) return [group("RG"), group("other"), group("poolrg"), group("rg"), { id: `/subscriptions/${s}`, name: "sub", type: "microsoft.resources/subscriptions", subscriptionId: s, tags: {} }];
      return [];
    });
    const inventory = new ResourceGraphInventory(client, { subscriptionBatchSize: 1, sleep: () => Promise.resolve() });
    const result = await inventory.readInventory({ subscriptions: [s], managementGroups: [] }, { accounts: () => undefined, pools: () => undefined });
    expect(result.resourceGroups.map((g) => g.name)).toEqual(["RG", "poolrg"]);
    expect(result.subscriptions.map((x) => x.subscriptionId)).toEqual([s]);
  });

  it("keeps a resource group once where a subscription and a management group holding it are both in scope", async () => {
    const s = sub(1);
    const { client } = fakeResourceGraph((query) => {
      // Both scopes answer with the same pool and the same group row.
      if (query === POOLS_QUERY) return [{ id: `/subscriptions/${s}/resourceGroups/PRG/providers/Microsoft.Batch/batchAccounts/b/pools/p1`, name: "p1", type: "microsoft.batch/batchaccounts/pools", subscriptionId: s, resourceGroup: "PRG", properties: {} }];
      if (query === CONTAINERS_QUERY) return [{ id: `/subscriptions/${s}/resourceGroups/PRG`, name: "PRG", type: "microsoft.resources/subscriptions/resourcegroups", subscriptionId: s, tags: {} }];
      return [];
    });
    const inventory = new ResourceGraphInventory(client, { subscriptionBatchSize: 1, sleep: () => Promise.resolve() });
    const result = await inventory.readInventory({ subscriptions: [s], managementGroups: ["mg"] }, { accounts: () => undefined, pools: () => undefined });
    expect(result.resourceGroups.map((g) => g.name)).toEqual(["PRG"]);
  });
});
