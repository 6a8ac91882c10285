// Simulated Batch management API (Microsoft.Batch): account list per subscription, certificate and pool lists per
// account, with nextLink paging. From api-version 2025-06-01 the certificate API is gone and pools no longer carry
// `certificates`, as in the published 2025-06-01 / 2026-08-01 contracts.
import { ArmThrottle, type ArmThrottleOptions } from "./armThrottle.js";
import { armError, type Route, type RouteContext, type RouteRequest, type RouteResponse } from "./routes.js";
import type { SnapshotResource, SnapshotSupportedSku } from "./snapshot.js";
import { POOL_CERTIFICATES_REMOVED_IN, poolPropertiesAt } from "./state.js";

const CERTIFICATES_REMOVED_IN = POOL_CERTIFICATES_REMOVED_IN;

export interface BatchApiOptions {
  pageSize?: number;
  /** ARM's per-subscription read token bucket; off when absent. */
  readThrottle?: ArmThrottleOptions;
  /** Told of every Batch call with its status, e.g. for a benchmark counting one subscription's calls. */
  onCall?: (subscriptionId: string, status: number) => void;
}

export function batchRoutes(ctx: RouteContext, options: BatchApiOptions): Route[] {
  const defaultPageSize = options.pageSize ?? 1000;
  const throttle = options.readThrottle ? new ArmThrottle(options.readThrottle) : undefined;
  const account = String.raw`^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Batch\/batchAccounts\/([^/]+)`;

  function page<T>(req: RouteRequest, items: readonly T[], project: (r: T) => unknown): RouteResponse {
    const requested = Number(req.query.get("maxresults") ?? req.query.get("maxResults") ?? defaultPageSize);
    const size = Number.isInteger(requested) && requested > 0 ? Math.min(requested, defaultPageSize) : defaultPageSize;
    const skip = Number(req.query.get("$skiptoken") ?? 0) || 0;
    const slice = items.slice(skip, skip + size);
    const body: { value: unknown[]; nextLink?: string } = { value: slice.map(project) };
    if (skip + size < items.length) {
      const next = new URL(req.path, ctx.baseUrl());
      next.searchParams.set("api-version", req.query.get("api-version") ?? "");
      next.searchParams.set("maxresults", String(size));
      next.searchParams.set("$skiptoken", String(skip + size));
      body.nextLink = next.toString();
    }
    return { status: 200, body };
  }

  const unknownSubscription = (sub: string): RouteResponse | undefined =>
    ctx.state.subscriptionIds.has(sub.toLowerCase())
      ? undefined
      : { status: 404, body: armError("SubscriptionNotFound", `The subscription '${sub}' could not be found.`) };

  function findAccount(req: RouteRequest): SnapshotResource | RouteResponse {
    const [, sub = "", rg = "", name = ""] = req.match;
    const noSubscription = unknownSubscription(sub);
    if (noSubscription) return noSubscription;
    const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Batch/batchAccounts/${name}`.toLowerCase();
    const found = ctx.state.accounts.get(id);
    if (!found) {
      return {
        status: 404,
        body: armError("ResourceNotFound", `The Resource 'Microsoft.Batch/batchAccounts/${name}' under resource group '${rg}' was not found.`),
      };
    }
    return found;
  }

  const apiVersionError = (req: RouteRequest): RouteResponse | undefined =>
    req.query.get("api-version") ? undefined : { status: 400, body: armError("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.") };

  /**
   * The snapshot's switch `batchApi.refuseApiVersionsBefore`: ARM's answer once the api-versions before it are retired,
   * 400 NoRegisteredProviderFound naming the version, type and the versions still supported (the message as quoted
   * in Azure/azure-cli#28496 and pulumi/pulumi-azure-native#584).
   */
  const retiredVersion = (req: RouteRequest, type: string): RouteResponse | undefined => {
    const floor = ctx.snapshot.batchApi?.refuseApiVersionsBefore;
    const version = req.query.get("api-version") ?? "";
    if (floor === undefined || version >= floor) return undefined;
    return {
      status: 400,
      body: armError(
        "NoRegisteredProviderFound",
        `No registered resource provider found for location 'westeurope' and API version '${version}' for type '${type}'. The supported api-versions are '${floor}'. The supported locations are 'westeurope, eastus'.`,
      ),
    };
  };

  // Every Batch route is a subscription-scoped ARM read: it spends a token of that subscription's bucket.
  // (The handlers here all answer synchronously.)
  const answerThrottled = (route: Route, req: RouteRequest): RouteResponse => {
    if (!throttle) return route.handle(req) as RouteResponse;
    const decision = throttle.take(req.match[1] ?? "");
    if (!decision.allowed) {
      return {
        status: 429,
        headers: { "retry-after": String(decision.retryAfterSeconds), "x-ms-ratelimit-remaining-subscription-reads": "0" },
        body: armError("SubscriptionRequestsThrottled", `Number of 'read' requests for subscription '${req.match[1]}' exceeded the limit. Please try again after '${decision.retryAfterSeconds}' seconds.`),
      };
    }
    const answer = route.handle(req) as RouteResponse;
    return { ...answer, headers: { ...answer.headers, "x-ms-ratelimit-remaining-subscription-reads": String(decision.remaining) } };
  };
  const throttled = (route: Route): Route => ({
    ...route,
    handle(req) {
      ctx.stats.batchCalls++;
      const answer = answerThrottled(route, req);
      options.onCall?.(req.match[1] ?? "", answer.status);
      return answer;
    },
  });

  const routes: Route[] = [
    {
      // Location_ListSupportedVirtualMachineSkus: GET /subscriptions/{subscriptionId}/providers/Microsoft.Batch/locations/
      // {locationName}/virtualMachineSkus, paged by nextLink (SupportedSkusResult { value, nextLink }), `maxresults`
      // bounding a page (azure-rest-api-specs, specification/batch/resource-manager/Microsoft.Batch/stable/2024-07-01/
      // BatchManagement.json and examples/LocationListVirtualMachineSkus.json).
      method: "GET",
      pattern: /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Batch\/locations\/([^/]+)\/virtualMachineSkus$/i,
      auth: "bearer",
      handle(req) {
        ctx.stats.vmSkuCalls++;
        const missing = apiVersionError(req);
        if (missing) return missing;
        const sub = req.match[1] ?? "";
        const noSubscription = unknownSubscription(sub);
        if (noSubscription) return noSubscription;
        const location = decodeURIComponent(req.match[2] ?? "").toLowerCase().replace(/\s+/g, "");
        const version = req.query.get("api-version") ?? "";
        const skus = ctx.snapshot.batchVmSkus?.[location] ?? DEFAULT_VM_SKUS;
        return page(req, skus, (sku) => supportedSku(sku, version));
      },
    },
    {
      method: "GET",
      pattern: /^\/subscriptions\/([^/]+)\/providers\/Microsoft\.Batch\/batchAccounts$/i,
      auth: "bearer",
      handle(req) {
        const missing = apiVersionError(req);
        if (missing) return missing;
        const sub = req.match[1] ?? "";
        return unknownSubscription(sub) ?? page(req, ctx.state.accountsBySubscription.get(sub.toLowerCase()) ?? [], armResource);
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`${account}\\/certificates$`, "i"),
      auth: "bearer",
      handle(req) {
        const missing = apiVersionError(req);
        if (missing) return missing;
        const refused = retiredVersion(req, "batchAccounts/certificates");
        if (refused) return refused;
        const version = req.query.get("api-version") ?? "";
        if (version >= CERTIFICATES_REMOVED_IN) {
          return {
            status: 400,
            body: armError("NoRegisteredProviderFound", `No registered resource provider found for location and API version '${version}' for type 'batchAccounts/certificates'.`),
          };
        }
        const found = findAccount(req);
        if ("status" in found) return found;
        return page(req, ctx.state.certificatesByAccount.get(found.id.toLowerCase()) ?? [], armResource);
      },
    },
    {
      method: "GET",
      pattern: new RegExp(`${account}\\/pools$`, "i"),
      auth: "bearer",
      handle(req) {
        const missing = apiVersionError(req) ?? retiredVersion(req, "batchAccounts/pools");
        if (missing) return missing;
        const found = findAccount(req);
        if ("status" in found) return found;
        const version = req.query.get("api-version") ?? undefined;
        return page(req, ctx.state.poolsByAccount.get(found.id.toLowerCase()) ?? [], (r) => {
          const resource = armResource(r) as { properties: Record<string, unknown> };
          resource.properties = poolPropertiesAt(resource.properties, version);
          return resource;
        });
      },
    },
  ];
  return [...routes.map(throttled), createPoolRoute(ctx, findAccount, apiVersionError)];
}

/**
 * Pool_Create (`PUT …/batchAccounts/{a}/pools/{p}`), enough for the migration kit's conditional create. The
 * 2024-07-01 spec's Pool_Create takes `If-None-Match`: "Set to '*' to allow a new pool to be created, but to prevent
 * updating an existing pool" (azure-rest-api-specs, Microsoft.Batch stable 2024-07-01 BatchManagement.json); ARM's
 * RPC answers such a request for an existing resource with 412 Precondition Failed. A pool id is case-insensitive
 * (PoolNameParameter). A new pool is kept for the Batch reads only (not added to Resource Graph's tables), with the
 * body's properties as given and provisioningState Succeeded; an unconditional PUT on an existing pool replaces
 * its properties (an update).
 */
function createPoolRoute(
  ctx: RouteContext,
  findAccount: (req: RouteRequest) => SnapshotResource | RouteResponse,
  apiVersionError: (req: RouteRequest) => RouteResponse | undefined,
): Route {
  return {
    method: "PUT",
    pattern: /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Batch\/batchAccounts\/([^/]+)\/pools\/([^/]+)$/i,
    auth: "bearer",
    handle(req) {
      const missing = apiVersionError(req);
      if (missing) return missing;
      const account = findAccount(req);
      if ("status" in account) return account;
      const name = decodeURIComponent(req.match[4] ?? "");
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) return { status: 400, body: armError("InvalidParameter", `The pool name '${name}' is not valid.`) };
      let body: { properties?: Record<string, unknown>; identity?: Record<string, unknown> };
      try {
        body = JSON.parse(req.body || "{}") as typeof body;
      } catch {
        return { status: 400, body: armError("InvalidRequestContent", "The request content is not valid JSON.") };
      }
      const key = account.id.toLowerCase();
      const pools = ctx.state.poolsByAccount.get(key) ?? [];
      const existing = pools.find((p) => p.name.toLowerCase() === name.toLowerCase());
      const ifNoneMatch = String(req.headers["if-none-match"] ?? "").trim();
      if (existing && ifNoneMatch === "*") {
        return { status: 412, body: armError("PreconditionFailed", `The pool '${existing.name}' already exists and If-None-Match: * was given, so it was not updated.`) };
      }
      const resource = {
        id: `${account.id}/pools/${existing?.name ?? name}`,
        name: existing?.name ?? name,
        type: "Microsoft.Batch/batchAccounts/pools",
        properties: { ...(body.properties ?? {}), provisioningState: "Succeeded" },
        ...(body.identity ? { identity: body.identity } : {}),
      } as SnapshotResource;
      if (existing) pools[pools.indexOf(existing)] = resource;
      else pools.push(resource);
      ctx.state.poolsByAccount.set(key, pools);
      return { status: existing ? 200 : 201, body: armResource(resource) };
    },
  };
}

/** The published example's sizes (LocationListVirtualMachineSkus.json, stable/2024-07-01), for a region the snapshot does not list. */
export const DEFAULT_VM_SKUS: readonly SnapshotSupportedSku[] = [
  { name: "Standard_D1_v2", familyName: "standardDFamily" },
  { name: "Standard_A1", familyName: "standardA0_A7Family", batchSupportEndOfLife: "2024-08-31T00:00:00Z" },
];

/** `batchSupportEndOfLife` is in SupportedSku from api-version 2024-02-01 (absent from the 2023-11-01 contract). */
const END_OF_LIFE_FROM = "2024-02-01";

function supportedSku(sku: SnapshotSupportedSku, apiVersion: string): unknown {
  return {
    name: sku.name,
    ...(sku.familyName ? { familyName: sku.familyName } : {}),
    capabilities: [],
    ...(sku.batchSupportEndOfLife && apiVersion >= END_OF_LIFE_FROM ? { batchSupportEndOfLife: sku.batchSupportEndOfLife } : {}),
  };
}

function armResource(r: SnapshotResource): unknown {
  return {
    id: r.id,
    name: r.name,
    type: r.type,
    ...(r.etag ? { etag: r.etag } : {}),
    ...(r.location ? { location: r.location } : {}),
    ...(r.tags ? { tags: r.tags } : {}),
    ...(r.identity ? { identity: r.identity } : {}),
    properties: r.properties ?? {},
  };
}
