// Simulated ARM subscription list: GET /subscriptions?api-version=2022-12-01, paged with nextLink, in the shape of
// the published Subscriptions_List example. Unlike a tenant-scope Resource Graph query it has no 10,000 cap, so it
// is how a client learns every subscription once Resource Graph says it covered only part of the tenant.
import { armError, type Route, type RouteContext } from "./routes.js";

export function subscriptionRoutes(ctx: RouteContext, options: { pageSize?: number }): Route[] {
  const pageSize = options.pageSize ?? 1000;
  return [
    {
      method: "GET",
      pattern: /^\/subscriptions$/i,
      auth: "bearer",
      handle(req) {
        const version = req.query.get("api-version");
        if (!version) return { status: 400, body: armError("MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.") };
        const skip = Math.max(0, Number(req.query.get("$skiptoken") ?? 0) || 0);
        const all = ctx.snapshot.subscriptions;
        const value = all.slice(skip, skip + pageSize).map((s) => ({
          id: `/subscriptions/${s.subscriptionId}`,
          authorizationSource: "RoleBased",
          managedByTenants: [],
          subscriptionId: s.subscriptionId,
          tenantId: ctx.snapshot.tenantId,
          displayName: s.displayName,
          state: s.state ?? "Enabled",
          subscriptionPolicies: { locationPlacementId: "Public_2014-09-01", quotaId: "PayAsYouGo_2014-09-01", spendingLimit: "Off" },
          ...(s.tags ? { tags: s.tags } : {}),
        }));
        const body: { value: unknown[]; nextLink?: string } = { value };
        if (skip + pageSize < all.length) {
          const next = new URL("/subscriptions", ctx.baseUrl());
          next.searchParams.set("api-version", version);
          next.searchParams.set("$skiptoken", String(skip + pageSize));
          body.nextLink = next.toString();
        }
        return { status: 200, body };
      },
    },
  ];
}
