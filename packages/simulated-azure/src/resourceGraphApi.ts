// Simulated Resource Graph: POST /providers/Microsoft.ResourceGraph/resources (api-version 2024-04-01 contract).
// It runs the KQL the app sends over the snapshot's tables, pages with $skipToken, and enforces the per-user quota
// with the headers real Resource Graph sends (x-ms-user-quota-remaining / x-ms-user-quota-resets-after).
import { createHash } from "node:crypto";
import { executeKql, KqlUnsupportedError } from "./kql/index.js";
import { armError, type Route, type RouteContext, type RouteResponse } from "./routes.js";
import type { TableRow } from "./state.js";

export interface ResourceGraphOptions {
  /** Rows per page when the request sets no $top (Resource Graph's own default is 100; $top may raise it to 1000). */
  defaultPageSize?: number;
  /** Queries allowed per user per window; real Resource Graph allows about 15 per 5 seconds. */
  quota?: { queries: number; windowMs: number };
  /** A tenant-scope query covers at most this many subscriptions, as real Resource Graph does (10,000). */
  tenantSubscriptionLimit?: number;
}

interface QueryBody {
  subscriptions?: string[];
  managementGroups?: string[];
  query?: string;
  options?: { $top?: number; $skip?: number; $skipToken?: string; resultFormat?: string; authorizationScopeFilter?: string };
}

/**
 * QueryRequestOptions.authorizationScopeFilter (azure-rest-api-specs, specification/resourcegraph/resource-manager/
 * Microsoft.ResourceGraph/stable/2024-04-01/resourcegraph.json): "Defines what level of authorization resources should
 * be returned based on the which subscriptions and management groups are passed as scopes", default AtScopeAndBelow.
 * Modelled for subscription scopes: "at" is an assignment on a queried subscription itself, "below" one on its
 * resource groups or resources, "above" one on a management group in its ancestor chain or on the root scope `/`.
 * Only `authorizationresources` rows are filtered this way; other tables keep the subscription filter.
 */
const AUTHORIZATION_SCOPE_FILTERS = {
  AtScopeAndBelow: { at: true, below: true, above: false },
  AtScopeAndAbove: { at: true, below: false, above: true },
  AtScopeExact: { at: true, below: false, above: false },
  AtScopeAboveAndBelow: { at: true, below: true, above: true },
} as const;

export function resourceGraphRoutes(ctx: RouteContext, options: ResourceGraphOptions): Route[] {
  const quota = new QuotaWindows(options.quota);
  const defaultPageSize = options.defaultPageSize ?? 100;
  const tenantLimit = options.tenantSubscriptionLimit ?? 10_000;
  const results = new Map<string, TableRow[]>();

  return [
    {
      method: "POST",
      pattern: /^\/providers\/Microsoft\.ResourceGraph\/resources$/i,
      auth: "bearer",
      handle(req): RouteResponse {
        ctx.stats.resourceGraphQueries++;
        const user = req.headers.authorization ?? "anonymous";
        const q = quota.take(user);
        const quotaHeaders = { "x-ms-user-quota-remaining": String(q.remaining), "x-ms-user-quota-resets-after": q.resetsAfter };
        if (!q.allowed) {
          // Real Resource Graph often sends no Retry-After: clients must read the quota headers.
          return { status: 429, headers: quotaHeaders, body: armError("RateLimiting", "Please provide below info when asking for support: the request was throttled: too many requests for this user.") };
        }

        let body: QueryBody;
        try {
          body = JSON.parse(req.body) as QueryBody;
        } catch {
          return { status: 400, headers: quotaHeaders, body: armError("BadRequest", "The request body is not valid JSON.") };
        }
        if (typeof body.query !== "string" || body.query.trim() === "") {
          return { status: 400, headers: quotaHeaders, body: armError("BadRequest", "The query is required.") };
        }
        const top = body.options?.$top;
        if (top !== undefined && (!Number.isInteger(top) || top < 1 || top > 1000)) {
          return { status: 400, headers: quotaHeaders, body: armError("BadRequest", "$top must be an integer between 1 and 1000.") };
        }

        const authorizationFilter = body.options?.authorizationScopeFilter ?? "AtScopeAndBelow";
        if (!(authorizationFilter in AUTHORIZATION_SCOPE_FILTERS)) {
          return { status: 400, headers: quotaHeaders, body: armError("BadRequest", `authorizationScopeFilter must be one of ${Object.keys(AUTHORIZATION_SCOPE_FILTERS).join(", ")}.`) };
        }
        const headers: Record<string, string> = { ...quotaHeaders };
        const scope = scopeFilter(ctx, body, tenantLimit, headers);
        const authorizationScope = authorizationScopeRows(ctx, body, AUTHORIZATION_SCOPE_FILTERS[authorizationFilter as keyof typeof AUTHORIZATION_SCOPE_FILTERS]);
        const scopeKey = JSON.stringify([body.subscriptions ?? null, body.managementGroups ?? null, authorizationFilter]);
        const queryHash = createHash("sha256").update(body.query).update(scopeKey).digest("hex").slice(0, 16);

        let offset = body.options?.$skip ?? 0;
        const token = body.options?.$skipToken;
        if (token) {
          const decoded = decodeSkipToken(token);
          if (!decoded || decoded.h !== queryHash) {
            return { status: 400, headers, body: armError("BadRequest", "The $skipToken is not valid for this query and scope.") };
          }
          offset = decoded.o;
        }

        let rows: TableRow[];
        try {
          // Later pages of a query reuse its evaluated rows: the snapshot does not change, and re-running a query
          // over the whole tenant for each of its pages would make the simulator the bottleneck at scale.
          const cached = results.get(queryHash);
          if (cached) rows = cached;
          else {
            const tables = ctx.state.tables();
            const scoped: Record<string, TableRow[]> = {};
            for (const [name, table] of Object.entries(tables)) scoped[name] = table.filter(name === "authorizationresources" && authorizationScope ? authorizationScope : scope);
            rows = executeKql(body.query, scoped);
            results.set(queryHash, rows);
            // A handful of recent queries is all paging needs; drop the oldest so memory stays flat.
            if (results.size > 16) results.delete(results.keys().next().value ?? "");
          }
        } catch (error) {
          const message = error instanceof KqlUnsupportedError ? error.message : `Query could not be evaluated: ${(error as Error).message}`;
          return {
            status: 400,
            headers,
            body: { error: { code: "BadRequest", message: "Please provide below info when asking for support: query is invalid.", details: [{ code: "InvalidQuery", message }] } },
          };
        }

        const pageSize = top ?? defaultPageSize;
        const page = rows.slice(offset, offset + pageSize);
        const next = offset + page.length;
        return {
          status: 200,
          headers,
          body: {
            totalRecords: rows.length,
            count: page.length,
            data: body.options?.resultFormat === "table" ? toTable(page) : page,
            facets: [],
            resultTruncated: "false",
            ...(next < rows.length ? { $skipToken: encodeSkipToken({ o: next, h: queryHash }) } : {}),
          },
        };
      },
    },
  ];
}

function scopeFilter(ctx: RouteContext, body: QueryBody, tenantLimit: number, headers: Record<string, string>): (row: TableRow) => boolean {
  if (body.subscriptions && body.subscriptions.length > 0) {
    const wanted = new Set(body.subscriptions.map((s) => s.toLowerCase()));
    return (row) => wanted.has(String(row.subscriptionId).toLowerCase());
  }
  if (body.managementGroups && body.managementGroups.length > 0) {
    const groups = new Set(body.managementGroups.map((g) => g.toLowerCase()));
    const inScope = new Set(
      ctx.snapshot.subscriptions
        .filter((s) => (s.managementGroups ?? []).some((g) => groups.has(g.toLowerCase())))
        .map((s) => s.subscriptionId.toLowerCase()),
    );
    return (row) => inScope.has(String(row.subscriptionId).toLowerCase());
  }
  // Tenant scope silently covers only the first N subscriptions and says so in a header.
  const all = ctx.snapshot.subscriptions.map((s) => s.subscriptionId.toLowerCase());
  if (all.length <= tenantLimit) return () => true;
  headers["x-ms-tenant-subscription-limit-hit"] = "true";
  const covered = new Set(all.slice(0, tenantLimit));
  return (row) => covered.has(String(row.subscriptionId).toLowerCase());
}

/**
 * The authorizationresources rows of a query over subscriptions (named, or at tenant scope every subscription of the
 * tenant), by the filter's at / below / above; undefined for a management-group scoped query. So a tenant-scope query
 * with the default filter returns no assignment made on a management group: those come only "above" a subscription.
 */
function authorizationScopeRows(
  ctx: RouteContext,
  body: QueryBody,
  filter: { at: boolean; below: boolean; above: boolean },
): ((row: TableRow) => boolean) | undefined {
  const named = body.subscriptions && body.subscriptions.length > 0;
  if (!named && body.managementGroups && body.managementGroups.length > 0) return undefined;
  const wanted = new Set((named ? (body.subscriptions ?? []) : ctx.snapshot.subscriptions.map((s) => s.subscriptionId)).map((s) => s.toLowerCase()));
  const ancestors = new Set(
    ctx.snapshot.subscriptions
      .filter((s) => wanted.has(s.subscriptionId.toLowerCase()))
      .flatMap((s) => (s.managementGroups ?? []).map((g) => `/providers/microsoft.management/managementgroups/${g.toLowerCase()}`)),
  );
  return (row) => {
    const raw = (row.properties as { scope?: unknown } | undefined)?.scope;
    const scope = typeof raw === "string" ? (raw === "/" ? "/" : raw.toLowerCase().replace(/\/+$/, "")) : undefined;
    const subscription = String(row.subscriptionId).toLowerCase();
    // Role definitions carry no scope: built-in ones (no subscription) come at tenant scope, custom ones with theirs.
    if (scope === undefined) return named ? wanted.has(subscription) : true;
    if (subscription !== "" && wanted.has(subscription)) return scope === `/subscriptions/${subscription}` ? filter.at : filter.below;
    return filter.above && (scope === "/" || ancestors.has(scope));
  };
}

function toTable(rows: TableRow[]): { columns: { name: string; type: string }[]; rows: unknown[][] } {
  const names = rows.length > 0 ? Object.keys(rows[0] ?? {}) : [];
  return {
    columns: names.map((name) => ({ name, type: "object" })),
    rows: rows.map((r) => names.map((n) => r[n] ?? null)),
  };
}

function encodeSkipToken(token: { o: number; h: string }): string {
  return Buffer.from(JSON.stringify(token)).toString("base64");
}

function decodeSkipToken(token: string): { o: number; h: string } | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as { o?: unknown; h?: unknown };
    if (typeof value.o === "number" && Number.isInteger(value.o) && value.o >= 0 && typeof value.h === "string") return { o: value.o, h: value.h };
  } catch {
    /* falls through to "not valid" */
  }
  return undefined;
}

/** Fixed quota windows per user, as Resource Graph documents its throttling. */
class QuotaWindows {
  private readonly windows = new Map<string, { start: number; used: number }>();
  constructor(private readonly quota: { queries: number; windowMs: number } | undefined) {}

  take(user: string): { allowed: boolean; remaining: number; resetsAfter: string } {
    if (!this.quota) return { allowed: true, remaining: 999, resetsAfter: "00:00:00" };
    const now = Date.now();
    let w = this.windows.get(user);
    if (!w || now - w.start >= this.quota.windowMs) {
      w = { start: now, used: 0 };
      this.windows.set(user, w);
    }
    const resetsInMs = Math.max(0, w.start + this.quota.windowMs - now);
    if (w.used >= this.quota.queries) return { allowed: false, remaining: 0, resetsAfter: formatTimeSpan(resetsInMs) };
    w.used++;
    return { allowed: true, remaining: this.quota.queries - w.used, resetsAfter: formatTimeSpan(resetsInMs) };
  }
}

/** hh:mm:ss with fractional seconds, as the real header carries it (e.g. 00:00:03.4560000). */
function formatTimeSpan(ms: number): string {
  const totalSeconds = ms / 1000;
  const h = Math.floor(totalSeconds / 3600);
  const m = Math.floor((totalSeconds % 3600) / 60);
  const s = totalSeconds % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(h)}:${pad(m)}:${s.toFixed(7).padStart(10, "0")}`;
}
