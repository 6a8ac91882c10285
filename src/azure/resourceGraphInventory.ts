// InventoryReader over Azure Resource Graph (@azure/arm-resourcegraph). Every query is paged to the end with
// $skipToken, subscriptions are sent in batches of at most 1000, the per-user quota is paced from its headers, and a
// page that says it was truncated without a $skipToken makes that scope incomplete, never empty. A tenant-scope
// query that says it hit the tenant subscription limit (10,000) is redone in batches over ARM's subscription list.
import type { AuthorizationScopeFilter, ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { FullOperationResponse } from "@azure/core-client";
import { isRestError } from "@azure/core-rest-pipeline";
import { accountIdOf, parseResourceId } from "../core/certificateReference.js";
import { AuditError, ensureError } from "../core/errors.js";
import { resourceGroupId } from "../core/ids.js";
import type { BatchAccountInfo, PoolCertificateReference, PoolInfo, ResourceGroupInfo, SubscriptionInfo, Tags } from "../core/model.js";
import type { AccountPoolReader, AuditScope, InventoryListener, InventoryProblem, InventoryReader, ReadOptions, ReportedPool, TenantInventory } from "../core/ports.js";
import { answerBody, DEFAULT_MAX_PAGES, PagingGuard, parseResourceGraphPage, stoppedReason } from "./armAnswers.js";
import type { SubscriptionLister } from "./armSubscriptions.js";
import { DEFAULT_MAX_RETRY_WAIT_MS, WAIT_TOO_LONG } from "./retryWaitCap.js";
import { factsFromGraphRow } from "./poolFacts.js";
import { accountPoolsQuery, BATCH_ACCOUNTS_QUERY, CONTAINERS_QUERY, FOLDED_POOL_FIELDS, POOLS_BY_ACCOUNT_QUERY, POOLS_QUERY } from "./queries.js";
import { signInFailure } from "./signIn.js";

/** Accounts per fallback pool query: keeps the query text short (Resource Graph bounds the query length). */
const ACCOUNTS_PER_POOL_QUERY = 25;

export interface ResourceGraphInventoryOptions {
  /** Rows per page ($top, at most 1000). */
  pageSize?: number;
  /** Subscriptions per request (Resource Graph accepts at most 1000). */
  subscriptionBatchSize?: number;
  /** How many times one page may be throttled before its scope is given up as failed. */
  maxThrottleWaits?: number;
  /** Pages one query over one scope may have (MAX_PAGES_PER_SCOPE). */
  maxPages?: number;
  /** The longest quota wait honoured (MAX_RETRY_WAIT_SECONDS); a query that would wait longer fails its scope. */
  maxRetryWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
  log?: (message: string) => void;
  /**
   * Every subscription the identity can read (e.g. `armSubscriptionLister`), for when a tenant-scope query says it
   * hit the tenant subscription limit; without it, that is reported as a problem and the coverage as incomplete.
   */
  listSubscriptions?: SubscriptionLister;
}

type Row = Record<string, unknown>;
interface QueryScope {
  label: string;
  /** Tenant scope: no subscriptions or management groups named. */
  tenant?: boolean;
  subscriptions?: string[];
  managementGroups?: string[];
  /**
   * Which authorization resources (authorizationresources rows) the scope returns: Resource Graph's
   * QueryRequestOptions.authorizationScopeFilter, default AtScopeAndBelow (azure-rest-api-specs,
   * specification/resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/2024-04-01/resourcegraph.json:
   * "Defines what level of authorization resources should be returned based on the which subscriptions and
   * management groups are passed as scopes").
   */
  authorizationScopeFilter?: AuthorizationScopeFilter;
}

export class ResourceGraphInventory implements InventoryReader, AccountPoolReader {
  private readonly pageSize: number;
  private readonly batchSize: number;
  private readonly maxThrottleWaits: number;
  private readonly maxPages: number;
  private readonly maxRetryWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** When the quota headers say it is spent, the earliest time the next query may go. */
  private notBefore = 0;
  /** Set once Resource Graph refused POOLS_BY_ACCOUNT_QUERY in this read: later scopes ask for a row per pool at once. */
  private poolsByAccountRefused = false;
  /** Queries sent, 429s met, and scopes whose pools were read again a row per pool, for benchmarks and logs. */
  readonly stats = { queries: 0, throttled: 0, poolFallbacks: 0 };

  constructor(
    private readonly client: ResourceGraphClient,
    private readonly options: ResourceGraphInventoryOptions = {},
  ) {
    this.pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
    this.batchSize = Math.min(1000, Math.max(1, options.subscriptionBatchSize ?? 1000));
    this.maxThrottleWaits = options.maxThrottleWaits ?? 20;
    this.maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? DEFAULT_MAX_RETRY_WAIT_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /**
   * The inventory of a scope. Batch accounts are read first (over every subscription batch, before any batch's pools
   * and containers) and handed to the listener page by page, so certificate reads can start while the rest of the
   * inventory is still being paged (and paced). Rows are converted page by page; no raw page is kept. With a pool
   * listener, pools are handed over as their pages arrive and not kept here.
   */
  async readInventory(scope: AuditScope, listener?: InventoryListener | ((accounts: BatchAccountInfo[]) => void), options: ReadOptions = {}): Promise<TenantInventory> {
    const { signal } = options;
    // Each inventory asks for pools by account again: a refusal is remembered for one read, not the host's life.
    this.poolsByAccountRefused = false;
    const told: InventoryListener = typeof listener === "function" ? { accounts: listener } : (listener ?? {});
    const inventory = emptyInventory();
    const tenantWide = scope.subscriptions.length === 0 && scope.managementGroups.length === 0;
    // The ids seen while reading (lower-cased copies) are dropped once the inventory is read.
    if (!tenantWide) {
      await this.readScopes([...this.scopes(scope.subscriptions, scope.managementGroups)], inventory, told, signal);
      seenByInventory.delete(inventory);
      return inventory;
    }
    const tenant: QueryScope = { label: "tenant", tenant: true };
    const capped = (await this.readAccounts(tenant, inventory, told.accounts, signal)) === "tenant-limit-hit";
    if (!capped) {
      accountsRead(inventory);
      await this.readContainers(tenant, inventory, told.pools, signal);
    }
    seenByInventory.delete(inventory);
    if (!capped) return inventory;

    // A tenant-scope query covers only the first 10,000 subscriptions. Switch to explicit subscription batches,
    // which have no such cap, over the list ARM gives; nothing of the capped answer was taken (the header comes on
    // its first page).
    const listSubscriptions = this.options.listSubscriptions;
    const partial = { reason: "Resource Graph covered only part of the tenant's subscriptions (tenant subscription limit hit)" };
    if (!listSubscriptions) return { ...emptyInventory(), problems: [{ reason: `${partial.reason} and no subscription list is available to query them in batches` }] };
    let subscriptions: string[];
    try {
      subscriptions = await listSubscriptions();
    } catch (error) {
      return { ...emptyInventory(), problems: [{ reason: `${partial.reason}; listing the subscriptions to query them in batches failed: ${ensureError(error).message}` }] };
    }
    this.options.log?.(`Resource Graph tenant subscription limit hit; querying ${subscriptions.length} subscriptions in batches of ${this.batchSize}`);
    const batched = emptyInventory();
    await this.readScopes([...this.scopes(subscriptions, [])], batched, told, signal);
    seenByInventory.delete(batched);
    return batched;
  }

  /**
   * Every scope's accounts first, then every scope's pools and containers: the accounts (and the Batch calls they
   * start) do not wait for the other scopes' pool and container pages, which at 20 subscription batches is most of
   * the quota-paced time. The queries and the rows taken are the same as scope by scope.
   */
  private async readScopes(
    queryScopes: readonly QueryScope[],
    inventory: TenantInventory,
    told: InventoryListener,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    for (const queryScope of queryScopes) await this.readAccounts(queryScope, inventory, told.accounts, signal);
    accountsRead(inventory);
    if (scopesMayOverlap(queryScopes)) seenIds(inventory).groupsTaken = new Set();
    for (const queryScope of queryScopes) await this.readContainers(queryScope, inventory, told.pools, signal);
  }

  /** The accounts of one scope into `inventory`; "tenant-limit-hit" (and nothing taken) when capped. */
  private async readAccounts(
    queryScope: QueryScope,
    inventory: TenantInventory,
    onAccounts: ((accounts: BatchAccountInfo[]) => void) | undefined,
    signal: AbortSignal | undefined,
  ): Promise<"read" | "tenant-limit-hit"> {
    const newAccount = this.fresh<BatchAccountInfo>(inventory, "accounts", (a) => a.id);
    const accountsCapped = await this.run(queryScope, inventory, signal, BATCH_ACCOUNTS_QUERY, "Batch account", (row) => toAccount(row, seenIds(inventory).values), (page) => {
      const accounts = page.filter(newAccount);
      inventory.accounts.push(...accounts);
      if (accounts.length > 0) onAccounts?.(accounts);
    });
    return accountsCapped ? "tenant-limit-hit" : "read";
  }

  /**
   * The pools (every pool, with its facts), subscriptions and resource groups of one scope into `inventory`; the pools
   * to `onPools` instead when given (page by page, not merged by id: the listener does that).
   */
  private async readContainers(queryScope: QueryScope, inventory: TenantInventory, onPools: ((pools: PoolInfo[]) => void) | undefined, signal: AbortSignal | undefined): Promise<void> {
    const newPool = onPools ? undefined : this.fresh<PoolInfo>(inventory, "pools", (p) => p.id);
    const newSubscription = this.fresh<SubscriptionInfo>(inventory, "subscriptions", (s) => s.subscriptionId);
    const { groupsWanted: groups, groupsTaken: taken } = seenIds(inventory);
    await this.readPools(queryScope, inventory, signal, (pools) => {
      // A pool's group is wanted too (its account may be missing from the account list: its findings need owners).
      for (const p of pools) {
        const key = groupKey(p.subscriptionId, p.resourceGroup);
        if (!taken?.has(key)) groups.add(key);
      }
      if (newPool) inventory.pools.push(...pools.filter(newPool));
      else if (pools.length > 0) onPools?.(pools);
    });
    await this.run(queryScope, inventory, signal, CONTAINERS_QUERY, "subscription and resource group", (row) => toContainer(row, seenIds(inventory).values), (containers) => {
      for (const c of containers) {
        if ("id" in c) {
          // Kept only when a Batch account or pool is in it: a tenant's resource groups are mostly not Batch's, and
          // owners are resolved only for findings, which are on accounts and pools. Wanted no more once taken, so a
          // row Resource Graph repeats is kept once, and the wanted ids go as their rows come (at 100,000 accounts,
          // 15 MB of them while the last containers are read). Where scopes may overlap, the taken ones are kept
          // too, so that a later scope's pool does not want a group again (and its row is not kept twice).
          const key = c.id.toLowerCase();
          if (groups.delete(key)) {
            taken?.add(key);
            inventory.resourceGroups.push(c);
          }
        } else if (newSubscription(c)) inventory.subscriptions.push(c);
      }
    });
  }

  /**
   * Every pool of a scope, handed to `take` page by page: asked for folded into a row per account
   * (POOLS_BY_ACCOUNT_QUERY, a fifth of the pages at five pools an account), and again a row per pool (POOLS_QUERY)
   * when Resource Graph does not answer that in full: it refuses the query (HTTP 400 on its first page; remembered for
   * this read, so later scopes ask a row per pool at once), an account's list comes back shorter than its count or
   * unusable, the result is cut short with no $skipToken, or a page fails (a server error, a large page refused): any
   * failure but the quota (spent past MAX_RETRY_WAIT_SECONDS, or a 429 not waited out) or the run stopping. Whether
   * Resource Graph pages a summarized query as it pages rows cannot be checked offline; either way the pools are all
   * read. Pools taken before the fallback are handed over again: the inventory and the listener merge repeated rows by
   * id, as they do Resource Graph's own repeats.
   */
  private async readPools(queryScope: QueryScope, inventory: TenantInventory, signal: AbortSignal | undefined, take: (pools: PoolInfo[]) => void): Promise<void> {
    const affected = affectedBy(queryScope);
    if (!this.poolsByAccountRefused) {
      let short: string | undefined;
      const result = await this.queryPages(POOLS_BY_ACCOUNT_QUERY, queryScope, signal, (rows) => {
        const pools: PoolInfo[] = [];
        for (const row of rows) {
          let folded: { account: string; pools: Row[]; count: number };
          try {
            folded = foldedPools(row);
          } catch (error) {
            // Read again a row per pool, where each pool row is judged on its own.
            short ??= `an unusable row (${ensureError(error).message})`;
            continue;
          }
          if (folded.pools.length < folded.count) short ??= `${folded.account}: ${folded.pools.length} of ${folded.count} pools listed`;
          pools.push(...convertRows(folded.pools, toPool, "Batch pool", inventory, affected));
        }
        take(pools);
      });
      if (result.refused) this.poolsByAccountRefused = true;
      // Any failure but a final one is read again a row per pool: a genuine one shows there too, and is reported.
      const why = result.problem !== undefined && !result.final && !result.tenantLimitHit ? result.problem : short;
      if (why === undefined) {
        if (result.problem) inventory.problems.push({ reason: `Batch pool query, ${queryScope.label}: ${result.problem}`, ...affected });
        return;
      }
      this.stats.poolFallbacks++;
      this.options.log?.(`Resource Graph pools by account (${queryScope.label}) not answered in full (${why}); reading them a row per pool`);
    }
    await this.run(queryScope, inventory, signal, POOLS_QUERY, "Batch pool", toPool, take);
  }

  /**
   * Rows are merged by id (case-insensitively): scopes overlap (a subscription named on its own and inside a
   * management group), and Resource Graph may repeat a row; one resource must give one finding.
   */
  private fresh<T>(inventory: TenantInventory, kind: "accounts" | "pools" | "subscriptions", key: (item: T) => string): (item: T) => boolean {
    const seen = seenIds(inventory);
    return (item: T) => {
      const id = key(item).toLowerCase();
      if (seen[kind].has(id)) return false;
      seen[kind].add(id);
      return true;
    };
  }

  /** Every page of one query over one scope, converted row by row into `take`; true when the tenant limit was hit. */
  private async run<T>(
    queryScope: QueryScope,
    inventory: TenantInventory,
    signal: AbortSignal | undefined,
    query: string,
    name: string,
    convert: (row: Row) => T,
    take: (items: T[]) => void,
  ): Promise<boolean> {
    const affected = affectedBy(queryScope);
    const result = await this.queryPages(query, queryScope, signal, (rows) => take(convertRows(rows, convert, name, inventory, affected)));
    if (result.problem) inventory.problems.push({ reason: `${name} query, ${queryScope.label}: ${result.problem}`, ...affected });
    return result.tenantLimitHit === true;
  }

  /**
   * Resource Graph's pools of the given accounts, keyed by lower-cased account id (an account with no rows gets an
   * empty list, which the audit does not take for "no pools"). A row whose `certificates` is missing or not an array is "not-reported". Throws when a query fails.
   */
  async readAccountPools(accounts: readonly BatchAccountInfo[], options: ReadOptions = {}): Promise<Map<string, ReportedPool[]>> {
    const result = new Map<string, ReportedPool[]>(accounts.map((a) => [a.id.toLowerCase(), []]));
    for (let i = 0; i < accounts.length; i += ACCOUNTS_PER_POOL_QUERY) {
      const batch = accounts.slice(i, i + ACCOUNTS_PER_POOL_QUERY);
      const subscriptions = [...new Set(batch.map((a) => a.subscriptionId.toLowerCase()))];
      const scope: QueryScope = { label: `pools of ${batch.length} accounts`, subscriptions };
      const answer = await this.queryPages(accountPoolsQuery(batch.map((a) => a.id)), scope, options.signal, (rows) => {
        for (const row of rows) {
          const pool = toReportedPool(row);
          if (pool) result.get(pool.accountId.toLowerCase())?.push(pool);
        }
      });
      if (answer.problem) throw new Error(`Resource Graph pool query for ${batch.length === 1 ? "the account" : `${batch.length} accounts`}: ${answer.problem}`);
    }
    return result;
  }

  /**
   * Every row of a query over these subscriptions (in batches) or, with none given, the tenant, paged and paced like
   * the inventory's own queries. Throws an AuditError with the reason when the rows are known to be incomplete.
   */
  async queryRows(
    query: string,
    label: string,
    subscriptions: readonly string[] | undefined,
    options: ReadOptions & { authorizationScopeFilter?: AuthorizationScopeFilter } = {},
  ): Promise<Row[]> {
    const rows: Row[] = [];
    const filter = options.authorizationScopeFilter ? { authorizationScopeFilter: options.authorizationScopeFilter } : {};
    const scopes: QueryScope[] = subscriptions === undefined ? [{ label: "tenant", tenant: true, ...filter }] : [...this.scopes(subscriptions, [])].map((scope) => ({ ...scope, ...filter }));
    for (const scope of scopes) {
      const answer = await this.queryPages(query, scope, options.signal, (page) => rows.push(...page));
      // At tenant scope a capped answer is still every row of the subscriptions covered: say so rather than use it.
      if (answer.problem) throw new AuditError("INVENTORY.QUERY_FAILED", `Resource Graph ${label} query, ${scope.label}: ${answer.problem}`);
    }
    return rows;
  }

  private *scopes(subscriptions: readonly string[], managementGroups: readonly string[]): Generator<QueryScope> {
    for (let i = 0; i < subscriptions.length; i += this.batchSize) {
      const batch = subscriptions.slice(i, i + this.batchSize);
      yield { label: `subscriptions ${i + 1}-${i + batch.length} of ${subscriptions.length}`, subscriptions: [...batch] };
    }
    if (managementGroups.length > 0) {
      yield { label: `management groups ${managementGroups.join(", ")}`, managementGroups: [...managementGroups] };
    }
  }

  /**
   * Every page of a query over one scope, handed to `onPage` as it arrives; a problem when the rows are known to be
   * incomplete. At tenant scope, a page that says the tenant subscription limit was hit is not taken.
   */
  private async queryPages(
    query: string,
    scope: QueryScope,
    signal: AbortSignal | undefined,
    onPage: (rows: Row[]) => void,
  ): Promise<{ problem?: string; tenantLimitHit?: boolean; refused?: boolean; final?: boolean }> {
    let skipToken: string | undefined;
    let throttled = 0;
    let taken = 0;
    const guard = new PagingGuard("Resource Graph", this.maxPages, "INVENTORY.PAGING_LOOP");
    for (;;) {
      const waitProblem = await this.waitForQuota(signal);
      // Final: the quota is spent past the cap or the run stopped; another query now would fare no better.
      if (waitProblem) return { problem: waitProblem, final: true };
      let raw: FullOperationResponse | undefined;
      try {
        this.stats.queries++;
        await this.client.resources(
          {
            query,
            ...(scope.subscriptions ? { subscriptions: scope.subscriptions } : {}),
            ...(scope.managementGroups ? { managementGroups: scope.managementGroups } : {}),
            options: {
              top: this.pageSize,
              ...(skipToken ? { skipToken } : {}),
              resultFormat: "objectArray",
              ...(scope.authorizationScopeFilter ? { authorizationScopeFilter: scope.authorizationScopeFilter } : {}),
            },
          },
          { ...(signal ? { abortSignal: signal } : {}), onResponse: (response) => (raw = response) },
        );
        const headers = raw?.headers;
        this.notePacing(headers);
        const limitHit = headers?.get("x-ms-tenant-subscription-limit-hit") === "true";
        if (limitHit && scope.tenant) return { tenantLimitHit: true, problem: "Resource Graph covered only part of the tenant's subscriptions (tenant subscription limit hit)" };
        // The answer as sent, checked: the SDK would read a 200 without `data` (or an HTML page) as no rows.
        const page = parseResourceGraphPage(answerBody(raw), "Resource Graph");
        taken += page.data.length;
        onPage(page.data);
        if (limitHit) return { problem: "Resource Graph covered only part of the tenant's subscriptions (tenant subscription limit hit)" };
        guard.page(page.$skipToken, "$skipToken");
        if (page.$skipToken) {
          skipToken = page.$skipToken;
          continue;
        }
        if (page.resultTruncated === "true") {
          return { problem: `the result was truncated after ${taken} of ${page.totalRecords} rows with no $skipToken to continue` };
        }
        return {};
      } catch (error) {
        const signIn = signInFailure(error);
        if (signIn) throw signIn;
        if (signal?.aborted) return { problem: stoppedReason(signal).message, final: true };
        if (error instanceof AuditError) return { problem: error.message };
        if (isRestError(error) && error.statusCode === 429 && error.code !== WAIT_TOO_LONG && throttled < this.maxThrottleWaits) {
          throttled++;
          this.stats.throttled++;
          // Resource Graph often answers 429 without Retry-After: wait out the quota window it reports, then ask
          // again for the same page with the same $skipToken (unless that wait is beyond the cap: see waitForQuota).
          const wait = quotaWaitMs(error.response?.headers.get("x-ms-user-quota-resets-after"), error.response?.headers.get("retry-after"));
          this.options.log?.(`Resource Graph throttled (${scope.label}); waiting ${wait} ms`);
          this.notBefore = Math.max(this.notBefore, Date.now() + wait);
          continue;
        }
        const status = isRestError(error) && error.statusCode ? `HTTP ${error.statusCode}: ` : "";
        // A 400 to the first page is Resource Graph refusing the query itself (InvalidQuery, BadRequest). A 429 not
        // waited out (past the cap, or too many) is final: another query now would be throttled too.
        const refused = isRestError(error) && error.statusCode === 400 && skipToken === undefined && taken === 0;
        const final = isRestError(error) && error.statusCode === 429;
        return { problem: `${status}${ensureError(error).message}`, ...(refused ? { refused: true } : {}), ...(final ? { final: true } : {}) };
      }
    }
  }

  private notePacing(headers: FullOperationResponse["headers"] | undefined): void {
    const remaining = Number(headers?.get("x-ms-user-quota-remaining"));
    if (headers && Number.isFinite(remaining) && remaining <= 0) {
      this.notBefore = Math.max(this.notBefore, Date.now() + quotaWaitMs(headers.get("x-ms-user-quota-resets-after"), undefined));
    }
  }

  /** Waits until the quota allows the next query; a problem instead when that is beyond the cap or the run stopped. */
  private async waitForQuota(signal: AbortSignal | undefined): Promise<string | undefined> {
    if (signal?.aborted) return stoppedReason(signal).message;
    const wait = this.notBefore - Date.now();
    if (wait <= 0) return undefined;
    if (wait > this.maxRetryWaitMs) {
      // Sent now, the query would only be refused; waited out, the run could outlast its timeout.
      return `Resource Graph's query quota is spent for another ${Math.round(wait / 1000)} s, longer than MAX_RETRY_WAIT_SECONDS (${this.maxRetryWaitMs / 1000} s); not queried this run`;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      signal?.addEventListener("abort", done);
      void this.sleep(wait).then(done);
    });
    return signal?.aborted ? stoppedReason(signal).message : undefined;
  }
}

/** Milliseconds to wait from `x-ms-user-quota-resets-after` (hh:mm:ss[.fff]) or Retry-After (seconds). */
export function quotaWaitMs(resetsAfter: string | null | undefined, retryAfter: string | null | undefined): number {
  const m = /^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(resetsAfter ?? "");
  if (m) return Math.ceil((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000) + 50;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  return 1000;
}

interface SeenIds {
  accounts: Set<string>;
  pools: Set<string>;
  subscriptions: Set<string>;
  /**
   * The resource groups (lower-cased ids) of the accounts and pools read whose rows have not come yet. Filled when the
   * accounts are read (`accountsRead`) and as pools come; each leaves when its row is taken.
   */
  groupsWanted: Set<string>;
  /** The resource groups taken, kept only when the scopes may overlap (`scopesMayOverlap`). */
  groupsTaken?: Set<string>;
  /** The read's shared values (RowValues). */
  values: RowValues;
}

const seenByInventory = new WeakMap<TenantInventory, SeenIds>();

/** The ids already in an inventory, kept beside it while it is being filled. */
function seenIds(inventory: TenantInventory): SeenIds {
  let seen = seenByInventory.get(inventory);
  if (!seen) {
    seen = { accounts: new Set(), pools: new Set(), subscriptions: new Set(), groupsWanted: new Set(), values: new RowValues() };
    seenByInventory.set(inventory, seen);
  }
  return seen;
}

/**
 * Every scope's accounts are in: the accounts' ids seen are let go (the rest of the read, most of its time at scale,
 * needs no second copy of 100,000 ids), and their resource groups become the ones wanted.
 */
function accountsRead(inventory: TenantInventory): void {
  const seen = seenIds(inventory);
  seen.accounts = new Set();
  for (const a of inventory.accounts) {
    const key = groupKey(a.subscriptionId, a.resourceGroup);
    seen.groupsWanted.add(key);
  }
}

/**
 * Whether a resource group can come in more than one scope's rows: a management group's scope beside others (it may
 * hold their subscriptions), or a subscription in two batches (named twice, in any case). Within one scope a group's
 * pools come before its row, so a repeated row is not wanted again.
 */
function scopesMayOverlap(queryScopes: readonly QueryScope[]): boolean {
  if (queryScopes.length > 1 && queryScopes.some((q) => (q.managementGroups?.length ?? 0) > 0)) return true;
  const seen = new Set<string>();
  for (const q of queryScopes) {
    for (const id of q.subscriptions ?? []) {
      const key = id.toLowerCase();
      if (seen.has(key)) return true;
      seen.add(key);
    }
  }
  return false;
}

/** A resource group's id as the groups wanted are keyed (lower-cased), the one owner resolution looks it up by. */
function groupKey(subscriptionId: string, resourceGroup: string): string {
  return resourceGroupId(subscriptionId, resourceGroup).toLowerCase();
}

function emptyInventory(): TenantInventory {
  return { subscriptions: [], resourceGroups: [], accounts: [], pools: [], problems: [] };
}

function toContainer(row: Row, values: RowValues): SubscriptionInfo | ResourceGroupInfo {
  return str(row, "type").toLowerCase() === "microsoft.resources/subscriptions" ? toSubscription(row, values) : toResourceGroup(row, values);
}

function str(row: Row, key: string): string {
  const v = row[key];
  if (typeof v !== "string" || v === "") throw new Error(`field "${key}" is missing or not a string`);
  return v;
}


/**
 * One copy of each value rows repeat, for one inventory read (let go with it): accounts and resource groups share
 * their subscription ids, group names and regions (a part of an id is a string of its own, or a slice that keeps the
 * whole id), and a team tags its accounts and groups alike (an owner, a cost centre), so 100,000 accounts and as many
 * groups come with a few thousand distinct tag sets: one frozen object per set, in the order Azure gives them. Bounded,
 * so a tenant of unique values costs no more than none.
 */
class RowValues {
  private static readonly MAX = 50_000;
  private readonly strings = new Map<string, string>();
  private readonly tagSets = new Map<string, Tags>();

  shared(value: string): string {
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    if (this.strings.size >= RowValues.MAX) return value;
    // A copy of its own (joined anew), so that the copy kept does not keep the whole id it was sliced from.
    const copy = Array.from(value).join("");
    this.strings.set(copy, copy);
    return copy;
  }

  tags(row: Row): Tags {
    const t = row.tags;
    if (t === null || t === undefined) return NO_TAGS;
    if (typeof t !== "object" || Array.isArray(t)) throw new Error(`field "tags" is not an object`);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(t)) if (typeof v === "string") out[k] = v;
    const key = JSON.stringify(out);
    if (key === "{}") return NO_TAGS;
    const known = this.tagSets.get(key);
    if (known) return known;
    const frozen = Object.freeze(out);
    if (this.tagSets.size < RowValues.MAX) this.tagSets.set(key, frozen);
    return frozen;
  }
}

const NO_TAGS: Tags = Object.freeze({});

function toSubscription(row: Row, values: RowValues): SubscriptionInfo {
  return { subscriptionId: str(row, "subscriptionId"), displayName: typeof row.name === "string" ? row.name : "", tags: values.tags(row) };
}

function toResourceGroup(row: Row, values: RowValues): ResourceGroupInfo {
  const id = str(row, "id");
  const parsed = parseResourceId(id);
  if (!parsed) throw new Error(`"${id}" is not a resource group id`);
  return { id, subscriptionId: values.shared(parsed.subscriptionId), name: values.shared(parsed.resourceGroup), tags: values.tags(row) };
}

/** One copy of each value Azure gives (PoolAllocationMode: BatchService, UserSubscription): 100,000 accounts hold one each. */
const ALLOCATION_MODES = new Map(["BatchService", "UserSubscription"].map((m) => [m, m]));

function toAccount(row: Row, values: RowValues): BatchAccountInfo {
  const id = str(row, "id");
  const parsed = parseResourceId(id);
  if (!parsed || !accountIdOf(id)) throw new Error(`"${id}" is not a Batch account id`);
  // Names come from the id: Resource Graph lower-cases resourceGroup, and az commands want the real casing.
  return {
    id,
    name: str(row, "name"),
    subscriptionId: values.shared(parsed.subscriptionId),
    resourceGroup: values.shared(parsed.resourceGroup),
    location: typeof row.location === "string" ? values.shared(row.location) : "",
    tags: values.tags(row),
    // A row without the column did not carry it (unknown); null: the account has none set.
    ...("poolAllocationMode" in row ? { poolAllocationMode: typeof row.poolAllocationMode === "string" ? (ALLOCATION_MODES.get(row.poolAllocationMode) ?? row.poolAllocationMode) : null } : {}),
  };
}

/** A fallback pool row; undefined when it is not a pool of a Batch account at all. */
function toReportedPool(row: Row): ReportedPool | undefined {
  const id = typeof row.id === "string" ? row.id : "";
  const parsed = parseResourceId(id);
  const accountId = accountIdOf(id);
  if (!parsed || !accountId) return undefined;
  let certificateReferences: ReportedPool["certificateReferences"] = "not-reported";
  let facts: PoolInfo["facts"];
  try {
    const pool = toPool(row);
    facts = pool.facts;
    // No `certificates` key (null when projected): not reported, never "none".
    if (Array.isArray(row.certificates)) certificateReferences = pool.certificateReferences;
  } catch {
    // An unusable value: not reported either.
  }
  return {
    id,
    name: typeof row.name === "string" ? row.name : (id.split("/").pop() ?? id),
    accountId: id.slice(0, accountId.length),
    accountName: /\/batchaccounts\/([^/]+)/i.exec(id)?.[1] ?? "",
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    certificateReferences,
    ...(facts ? { facts } : {}),
  };
}

/**
 * A pool row: its references (none when the row has no `certificates`: Resource Graph's contract may not carry them,
 * and the audit reads the Batch API where they can matter) and its facts. Nothing of the row is kept but strings.
 */
/** What a problem of this scope names: its subscriptions, or none (the tenant, or management groups). */
function affectedBy(scope: QueryScope): Pick<InventoryProblem, "subscriptionIds"> {
  return scope.subscriptions ? { subscriptionIds: scope.subscriptions } : {};
}

/** Each row converted; a row that cannot be is noted as a problem of the scope and left out. */
function convertRows<T>(rows: readonly Row[], convert: (row: Row) => T, name: string, inventory: TenantInventory, affected: Pick<InventoryProblem, "subscriptionIds">): T[] {
  const items: T[] = [];
  for (const row of rows) {
    try {
      items.push(convert(row));
    } catch (error) {
      inventory.problems.push({ reason: `Resource Graph returned an unusable ${name} row (${ensureError(error).message})`, ...affected });
    }
  }
  return items;
}

/**
 * A row of POOLS_BY_ACCOUNT_QUERY: the account's id, its pools as rows shaped like POOLS_QUERY's (each pool's id the
 * account's id, `/pools/` and its name), and how many rows Resource Graph folded. Throws when the key is not a Batch
 * account's id (the pool ids did not end `/pools/<name>`) or a pool is not its list of fields.
 */
function foldedPools(row: Row): { account: string; pools: Row[]; count: number } {
  const account = str(row, "id");
  if (accountIdOf(`${account}/pools/x`)?.length !== account.length) throw new Error(`"${account}" is not a Batch account id`);
  const lists = row.pools;
  if (!Array.isArray(lists)) throw new Error(`${account}: field "pools" is not an array`);
  const count = row.poolCount;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0) throw new Error(`${account}: field "poolCount" is not a count`);
  const pools = lists.map((fields: unknown): Row => {
    if (!Array.isArray(fields) || fields.length !== FOLDED_POOL_FIELDS.length) throw new Error(`${account}: a pool is not a list of ${FOLDED_POOL_FIELDS.length} fields`);
    const pool: Row = {};
    FOLDED_POOL_FIELDS.forEach((field, i) => (pool[field] = fields[i] ?? null));
    const name = pool.name;
    if (typeof name !== "string" || name === "" || name.includes("/")) throw new Error(`${account}: a pool has no name`);
    pool.id = `${account}/pools/${name}`;
    return pool;
  });
  return { account, pools, count };
}

function toPool(row: Row): PoolInfo {
  const id = str(row, "id");
  const parsed = parseResourceId(id);
  const accountId = accountIdOf(id);
  if (!parsed || !accountId) throw new Error(`"${id}" is not a Batch pool id`);
  const accountName = /\/batchaccounts\/([^/]+)/i.exec(id)?.[1] ?? "";
  const refs = row.certificates ?? [];
  if (!Array.isArray(refs)) throw new Error(`pool ${id}: field "certificates" is not an array`);
  const certificateReferences: PoolCertificateReference[] = refs.map((r, i) => {
    const ref = r as Record<string, unknown>;
    if (!ref || typeof ref.id !== "string") throw new Error(`pool ${id}: certificates[${i}] has no id`);
    return {
      id: ref.id,
      ...(typeof ref.storeLocation === "string" ? { storeLocation: ref.storeLocation } : {}),
      ...(typeof ref.storeName === "string" ? { storeName: ref.storeName } : {}),
      ...(Array.isArray(ref.visibility) ? { visibility: ref.visibility.map(String) } : {}),
    };
  });
  // The account id keeps the pool id's casing, so it joins with the accounts query case-insensitively.
  const accountIdCased = id.slice(0, accountId.length);
  return {
    id,
    name: str(row, "name"),
    accountId: accountIdCased,
    accountName,
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    certificateReferences,
    facts: factsFromGraphRow(row),
  };
}

