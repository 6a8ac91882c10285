// Simulated Microsoft Graph (v1.0), the two calls owner resolution makes, over the snapshot's `principals[]`:
// - POST /v1.0/directoryObjects/getByIds (Learn: "directoryObject: getByIds"): at most 1000 ids per call, optional
//   `types`, answered as `{ value: [...] }` with each object's `@odata.type`; ids not found are left out, as Graph does.
// - GET /v1.0/groups/{id}/transitiveMembers (Learn: "List group transitive members"): members of nested groups
//   included, paged with `$top` and `@odata.nextLink`; an unknown group is 404 Request_ResourceNotFound.
// `$select` is honoured (id and @odata.type always come back). Throttling (429 with Retry-After) and server errors come
// from the snapshot's `faults`, as for the other APIs.
import type { Route, RouteContext, RouteResponse } from "./routes.js";
import type { SnapshotPrincipal } from "./snapshot.js";

/** Graph's error body (Learn: "Microsoft Graph error responses and resource types"). */
function graphError(status: number, code: string, message: string): RouteResponse {
  return { status, body: { error: { code, message, innerError: { date: new Date().toISOString(), "request-id": "00000000-0000-4000-8000-000000000000" } } } };
}

const MAX_IDS = 1000;
/** Graph's default page size for directory collections is 100; `$top` may ask for up to 999. */
const DEFAULT_PAGE = 100;
const MAX_PAGE = 999;

export interface GraphOptions {
  /** Most objects per transitiveMembers page, below `$top` if need be: Graph may return fewer than asked and a nextLink. */
  maxPageSize?: number;
}

export function graphRoutes(ctx: RouteContext, options: GraphOptions = {}): Route[] {
  const byId = new Map<string, SnapshotPrincipal>();
  for (const p of ctx.snapshot.principals ?? []) byId.set(p.id.toLowerCase(), p);

  const shape = (p: SnapshotPrincipal, select: string[] | undefined): Record<string, unknown> => {
    const { members: _members, ...visible } = p as SnapshotPrincipal & { members?: string[] };
    void _members;
    if (!select) return visible;
    const out: Record<string, unknown> = { "@odata.type": p["@odata.type"], id: p.id };
    for (const key of select) if (key in visible) out[key] = (visible as Record<string, unknown>)[key];
    return out;
  };
  const selectOf = (query: URLSearchParams) => query.get("$select")?.split(",").map((s) => s.trim()).filter(Boolean);

  return [
    {
      method: "POST",
      pattern: /^\/v1\.0\/directoryObjects\/getByIds$/i,
      auth: "bearer",
      handle(req) {
        let body: { ids?: unknown; types?: unknown };
        try {
          body = JSON.parse(req.body) as { ids?: unknown; types?: unknown };
        } catch {
          return graphError(400, "BadRequest", "Unable to read JSON request payload.");
        }
        if (!Array.isArray(body.ids) || body.ids.some((id) => typeof id !== "string")) return graphError(400, "Request_BadRequest", "ids must be a collection of strings.");
        if (body.ids.length > MAX_IDS) return graphError(400, "Request_BadRequest", `At most ${MAX_IDS} ids may be given in one request.`);
        const types = Array.isArray(body.types) ? new Set(body.types.map((t) => `#microsoft.graph.${String(t)}`.toLowerCase())) : undefined;
        const select = selectOf(req.query);
        const value = (body.ids as string[])
          .map((id) => byId.get(id.toLowerCase()))
          .filter((p): p is SnapshotPrincipal => p !== undefined && (!types || types.has(p["@odata.type"].toLowerCase())))
          .map((p) => shape(p, select));
        return { status: 200, body: { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", value } };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\.0\/groups\/([^/]+)\/transitiveMembers$/i,
      auth: "bearer",
      handle(req) {
        const id = decodeURIComponent(req.match[1] ?? "");
        const group = byId.get(id.toLowerCase());
        if (!group || group["@odata.type"] !== "#microsoft.graph.group") {
          return graphError(404, "Request_ResourceNotFound", `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
        }
        const members = transitiveMembers(group, byId);
        const topRaw = req.query.get("$top");
        const top = topRaw === null ? DEFAULT_PAGE : Number(topRaw);
        if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE) return graphError(400, "Request_BadRequest", `Invalid value for $top: it must be between 1 and ${MAX_PAGE}.`);
        const offset = Number(req.query.get("$skiptoken") ?? "0");
        if (!Number.isInteger(offset) || offset < 0) return graphError(400, "Request_BadRequest", "The $skiptoken is not valid.");
        const page = members.slice(offset, offset + Math.min(top, options.maxPageSize ?? MAX_PAGE));
        const next = offset + page.length;
        const select = selectOf(req.query);
        const nextLink = new URL(`/v1.0/groups/${encodeURIComponent(id)}/transitiveMembers`, ctx.baseUrl());
        nextLink.searchParams.set("$top", String(top));
        if (select) nextLink.searchParams.set("$select", select.join(","));
        nextLink.searchParams.set("$skiptoken", String(next));
        return {
          status: 200,
          body: {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects",
            value: page.map((p) => shape(p, select)),
            ...(next < members.length ? { "@odata.nextLink": nextLink.toString() } : {}),
          },
        };
      },
    },
  ];
}

/** Every member, nested groups' members included (each once), in the order found. */
function transitiveMembers(group: SnapshotPrincipal, byId: ReadonlyMap<string, SnapshotPrincipal>): SnapshotPrincipal[] {
  const out: SnapshotPrincipal[] = [];
  const seen = new Set<string>([group.id.toLowerCase()]);
  const queue = [...("members" in group ? group.members : [])];
  while (queue.length > 0) {
    const id = (queue.shift() ?? "").toLowerCase();
    if (seen.has(id)) continue;
    seen.add(id);
    const member = byId.get(id);
    if (!member) continue;
    out.push(member);
    if ("members" in member) queue.push(...member.members);
  }
  return out;
}
