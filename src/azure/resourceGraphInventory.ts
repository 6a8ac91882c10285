// InventoryReader over Azure Resource Graph (@azure/arm-resourcegraph). Every query is paged to the end with
// $skipToken, subscriptions are sent in batches of at most 1000, the per-user quota is paced from its headers, and a
// page that says it was truncated without a $skipToken makes that scope incomplete, never empty.
import type { ResourceGraphClient } from "@azure/arm-resourcegraph";
import { isRestError, type HttpHeaders } from "@azure/core-rest-pipeline";
import { accountIdOf, parseResourceId } from "../core/certificateReference.js";
import { ensureError } from "../core/errors.js";
import type { BatchAccountInfo, PoolCertificateReference, PoolInfo, ResourceGroupInfo, SubscriptionInfo, Tags } from "../core/model.js";
import type { AuditScope, InventoryReader, TenantInventory } from "../core/ports.js";
import { BATCH_ACCOUNTS_QUERY, CONTAINERS_QUERY, POOLS_WITH_CERTIFICATES_QUERY } from "./queries.js";

export interface ResourceGraphInventoryOptions {
  /** Rows per page ($top, at most 1000). */
  pageSize?: number;
  /** Subscriptions per request (Resource Graph accepts at most 1000). */
  subscriptionBatchSize?: number;
  /** How many times one page may be throttled before its scope is given up as failed. */
  maxThrottleWaits?: number;
  sleep?: (ms: number) => Promise<void>;
  log?: (message: string) => void;
}

type Row = Record<string, unknown>;
interface QueryScope {
  label: string;
  subscriptions?: string[];
  managementGroups?: string[];
}

export class ResourceGraphInventory implements InventoryReader {
  private readonly pageSize: number;
  private readonly batchSize: number;
  private readonly maxThrottleWaits: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** When the quota headers say it is spent, the earliest time the next query may go. */
  private notBefore = 0;
  /** Queries sent and 429s met, for benchmarks and logs. */
  readonly stats = { queries: 0, throttled: 0 };

  constructor(
    private readonly client: ResourceGraphClient,
    private readonly options: ResourceGraphInventoryOptions = {},
  ) {
    this.pageSize = Math.min(1000, Math.max(1, options.pageSize ?? 1000));
    this.batchSize = Math.min(1000, Math.max(1, options.subscriptionBatchSize ?? 1000));
    this.maxThrottleWaits = options.maxThrottleWaits ?? 20;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async readInventory(scope: AuditScope): Promise<TenantInventory> {
    const inventory: TenantInventory = { subscriptions: [], resourceGroups: [], accounts: [], pools: [], problems: [] };
    for (const queryScope of this.scopes(scope)) {
      const affected = queryScope.subscriptions ? { subscriptionIds: queryScope.subscriptions } : {};
      const run = async (query: string, name: string, take: (row: Row) => void) => {
        const result = await this.queryAll(query, queryScope);
        for (const row of result.rows) {
          try {
            take(row);
          } catch (error) {
            inventory.problems.push({ reason: `Resource Graph returned an unusable ${name} row (${ensureError(error).message})`, ...affected });
          }
        }
        if (result.problem) inventory.problems.push({ reason: `${name} query, ${queryScope.label}: ${result.problem}`, ...affected });
      };
      await run(CONTAINERS_QUERY, "subscription and resource group", (row) => {
        const type = str(row, "type").toLowerCase();
        if (type === "microsoft.resources/subscriptions") inventory.subscriptions.push(toSubscription(row));
        else inventory.resourceGroups.push(toResourceGroup(row));
      });
      await run(BATCH_ACCOUNTS_QUERY, "Batch account", (row) => inventory.accounts.push(toAccount(row)));
      await run(POOLS_WITH_CERTIFICATES_QUERY, "Batch pool", (row) => inventory.pools.push(toPool(row)));
    }
    return inventory;
  }

  private *scopes(scope: AuditScope): Generator<QueryScope> {
    if (scope.subscriptions.length > 0) {
      for (let i = 0; i < scope.subscriptions.length; i += this.batchSize) {
        const batch = scope.subscriptions.slice(i, i + this.batchSize);
        yield { label: `subscriptions ${i + 1}-${i + batch.length} of ${scope.subscriptions.length}`, subscriptions: [...batch] };
      }
    }
    if (scope.managementGroups.length > 0) {
      yield { label: `management groups ${scope.managementGroups.join(", ")}`, managementGroups: [...scope.managementGroups] };
    }
    if (scope.subscriptions.length === 0 && scope.managementGroups.length === 0) yield { label: "tenant" };
  }

  /** Every row of a query over one scope; a problem when the rows are known to be incomplete. */
  private async queryAll(query: string, scope: QueryScope): Promise<{ rows: Row[]; problem?: string }> {
    const rows: Row[] = [];
    let skipToken: string | undefined;
    let throttled = 0;
    for (;;) {
      await this.waitForQuota();
      let headers: HttpHeaders | undefined;
      try {
        this.stats.queries++;
        const response = await this.client.resources(
          {
            query,
            ...(scope.subscriptions ? { subscriptions: scope.subscriptions } : {}),
            ...(scope.managementGroups ? { managementGroups: scope.managementGroups } : {}),
            options: { top: this.pageSize, ...(skipToken ? { skipToken } : {}), resultFormat: "objectArray" },
          },
          { onResponse: (raw) => (headers = raw.headers) },
        );
        this.notePacing(headers);
        if (!Array.isArray(response.data)) return { rows, problem: "the answer had no data array" };
        rows.push(...(response.data as Row[]));
        if (headers?.get("x-ms-tenant-subscription-limit-hit") === "true") {
          return { rows, problem: "Resource Graph covered only part of the tenant's subscriptions (tenant subscription limit hit)" };
        }
        if (response.skipToken) {
          skipToken = response.skipToken;
          continue;
        }
        if (response.resultTruncated === "true") {
          return { rows, problem: `the result was truncated after ${rows.length} of ${response.totalRecords} rows with no $skipToken to continue` };
        }
        return { rows };
      } catch (error) {
        if (isRestError(error) && error.statusCode === 429 && throttled < this.maxThrottleWaits) {
          throttled++;
          this.stats.throttled++;
          // Resource Graph often answers 429 without Retry-After: wait out the quota window it reports, then ask
          // again for the same page with the same $skipToken.
          const wait = quotaWaitMs(error.response?.headers.get("x-ms-user-quota-resets-after"), error.response?.headers.get("retry-after"));
          this.options.log?.(`Resource Graph throttled (${scope.label}); waiting ${wait} ms`);
          this.notBefore = Math.max(this.notBefore, Date.now() + wait);
          continue;
        }
        const status = isRestError(error) && error.statusCode ? `HTTP ${error.statusCode}: ` : "";
        return { rows, problem: `${status}${ensureError(error).message}` };
      }
    }
  }

  private notePacing(headers: HttpHeaders | undefined): void {
    const remaining = Number(headers?.get("x-ms-user-quota-remaining"));
    if (headers && Number.isFinite(remaining) && remaining <= 0) {
      this.notBefore = Math.max(this.notBefore, Date.now() + quotaWaitMs(headers.get("x-ms-user-quota-resets-after"), undefined));
    }
  }

  private async waitForQuota(): Promise<void> {
    const wait = this.notBefore - Date.now();
    if (wait > 0) await this.sleep(wait);
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

function str(row: Row, key: string): string {
  const v = row[key];
  if (typeof v !== "string" || v === "") throw new Error(`field "${key}" is missing or not a string`);
  return v;
}

function tagsOf(row: Row): Tags {
  const t = row.tags;
  if (t === null || t === undefined) return {};
  if (typeof t !== "object" || Array.isArray(t)) throw new Error(`field "tags" is not an object`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(t)) if (typeof v === "string") out[k] = v;
  return out;
}

function toSubscription(row: Row): SubscriptionInfo {
  return { subscriptionId: str(row, "subscriptionId"), displayName: typeof row.name === "string" ? row.name : "", tags: tagsOf(row) };
}

function toResourceGroup(row: Row): ResourceGroupInfo {
  const id = str(row, "id");
  const parsed = parseResourceId(id);
  if (!parsed) throw new Error(`"${id}" is not a resource group id`);
  return { id, subscriptionId: parsed.subscriptionId, name: parsed.resourceGroup, tags: tagsOf(row) };
}

function toAccount(row: Row): BatchAccountInfo {
  const id = str(row, "id");
  const parsed = parseResourceId(id);
  if (!parsed || !accountIdOf(id)) throw new Error(`"${id}" is not a Batch account id`);
  // Names come from the id: Resource Graph lower-cases resourceGroup, and az commands want the real casing.
  return {
    id,
    name: str(row, "name"),
    subscriptionId: parsed.subscriptionId,
    resourceGroup: parsed.resourceGroup,
    location: typeof row.location === "string" ? row.location : "",
    tags: tagsOf(row),
  };
}

function toPool(row: Row): PoolInfo {
  const id = str(row, "id");
  const parsed = parseResourceId(id);
  const accountId = accountIdOf(id);
  if (!parsed || !accountId) throw new Error(`"${id}" is not a Batch pool id`);
  const accountName = /\/batchaccounts\/([^/]+)/i.exec(id)?.[1] ?? "";
  const refs = row.certificates;
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
  };
}

