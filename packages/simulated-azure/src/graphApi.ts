// Simulated Microsoft Graph (v1.0), the calls owner resolution makes, over the snapshot's `principals[]`, answered as
// an identity holding the application permissions in `GraphOptions.permissions` would be answered:
// - GET /v1.0/users?$filter=id in ('..',..) (Learn: "List users"; least privileged application permission
//   User.Read.All): at most 15 values in `in` (Learn: "Use the $filter query parameter": with `in`, requests are limited
//   to 15 expressions by default), answered as `{ value: [...] }`; ids not found are left out.
// - GET /v1.0/groups/{id} (Learn: "Get group"; GroupMember.Read.All): the group, or 404 Request_ResourceNotFound.
// - GET /v1.0/groups/{id}/transitiveMembers (Learn: "List group transitive members"; GroupMember.Read.All, and
//   Member.Read.Hidden when the group's visibility is HiddenMembership): members of nested groups included, paged with
//   `$top` and `@odata.nextLink`; an unknown group is 404 Request_ResourceNotFound. A member of a type the caller may
//   not read comes back with only `id` and `@odata.type` ("limited information"): users without User.Read.All,
//   service principals without Application.Read.All.
// - POST /v1.0/directoryObjects/getByIds (Learn: "directoryObject: getByIds"; least privileged application permission
//   Directory.Read.All): at most 1000 ids per call, optional `types`; without Directory.Read.All every object comes
//   back with only `id` and `@odata.type`. The app does not call it; it is here so a test can show why.
// Without the permission a call needs, the answer is 403 Authorization_RequestDenied. Directory.Read.All covers every
// read here. `$select` is honoured (id and @odata.type always come back). Throttling (429 with Retry-After) and server
// errors come from the snapshot's `faults`, as for the other APIs.
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

/** What the app's deployment grants (infra/app/graphPermissions.bicep). */
export const DEFAULT_GRAPH_PERMISSIONS = ["User.Read.All", "GroupMember.Read.All"] as const;
const MAX_IN_VALUES = 15;

export interface GraphOptions {
  /** Most objects per transitiveMembers page, below `$top` if need be: Graph may return fewer than asked and a nextLink. */
  maxPageSize?: number;
  /** The Graph application permissions the caller holds (default DEFAULT_GRAPH_PERMISSIONS). */
  permissions?: readonly string[];
}

/** The permissions that let a caller read each kind of object, Directory.Read.All reading them all. */
const READS: Record<string, readonly string[]> = {
  "#microsoft.graph.user": ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All"],
  "#microsoft.graph.group": ["GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"],
  "#microsoft.graph.serviceprincipal": ["Application.Read.All", "Directory.Read.All"],
};

const denied = () => graphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");

export function graphRoutes(ctx: RouteContext, options: GraphOptions = {}): Route[] {
  const byId = new Map<string, SnapshotPrincipal>();
  for (const p of ctx.snapshot.principals ?? []) byId.set(p.id.toLowerCase(), p);

  const held = new Set((options.permissions ?? DEFAULT_GRAPH_PERMISSIONS).map((p) => p.toLowerCase()));
  const holds = (...permissions: readonly string[]) => permissions.some((p) => held.has(p.toLowerCase()));
  const canRead = (p: SnapshotPrincipal) => holds(...(READS[p["@odata.type"].toLowerCase()] ?? ["Directory.Read.All"]));

  const shape = (p: SnapshotPrincipal, select: string[] | undefined): Record<string, unknown> => {
    if (!canRead(p)) return { "@odata.type": p["@odata.type"], id: p.id };
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
          .map((p) => (holds("Directory.Read.All") ? shape(p, select) : { "@odata.type": p["@odata.type"], id: p.id }));
        return { status: 200, body: { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#directoryObjects", value } };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\.0\/users$/i,
      auth: "bearer",
      handle(req) {
        if (!holds(...(READS["#microsoft.graph.user"] ?? []))) return denied();
        const ids = inFilterIds(req.query.get("$filter"));
        if ("error" in ids) return graphError(400, "Request_UnsupportedQuery", ids.error);
        const select = selectOf(req.query);
        const value = ids.values
          .map((id) => byId.get(id.toLowerCase()))
          .filter((p): p is SnapshotPrincipal => p !== undefined && p["@odata.type"] === "#microsoft.graph.user")
          .map((p) => shape(p, select));
        return { status: 200, body: { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users", value } };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\.0\/groups\/([^/]+)$/i,
      auth: "bearer",
      handle(req) {
        if (!holds(...(READS["#microsoft.graph.group"] ?? []))) return denied();
        const id = decodeURIComponent(req.match[1] ?? "");
        const group = byId.get(id.toLowerCase());
        if (!group || group["@odata.type"] !== "#microsoft.graph.group") return notFound(id);
        return { status: 200, body: { "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#groups/$entity", ...shape(group, selectOf(req.query)) } };
      },
    },
    {
      method: "GET",
      pattern: /^\/v1\.0\/groups\/([^/]+)\/transitiveMembers$/i,
      auth: "bearer",
      handle(req) {
        if (!holds(...(READS["#microsoft.graph.group"] ?? []))) return denied();
        const id = decodeURIComponent(req.match[1] ?? "");
        const group = byId.get(id.toLowerCase());
        if (!group || group["@odata.type"] !== "#microsoft.graph.group") return notFound(id);
        if ("visibility" in group && group.visibility === "HiddenMembership" && !holds("Member.Read.Hidden")) return denied();
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

function notFound(id: string): RouteResponse {
  return graphError(404, "Request_ResourceNotFound", `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`);
}

/** The ids of `id in ('a','b')` (OData string literals, a quote inside doubled), at most MAX_IN_VALUES of them. */
function inFilterIds(filter: string | null): { values: string[] } | { error: string } {
  const match = /^\s*id\s+in\s+\((.*)\)\s*$/i.exec(filter ?? "");
  if (!match) return { error: "Only $filter=id in ('...') is simulated." };
  const values: string[] = [];
  const literal = /\s*'((?:[^']|'')*)'\s*(,|$)/y;
  const list = match[1] ?? "";
  let at = 0;
  while (at < list.length) {
    literal.lastIndex = at;
    const m = literal.exec(list);
    if (!m) return { error: "Invalid filter clause: the values of 'in' must be string literals." };
    values.push((m[1] ?? "").replace(/''/g, "'"));
    at = literal.lastIndex;
  }
  if (values.length > MAX_IN_VALUES) return { error: `Too many expressions in the 'in' operator: at most ${MAX_IN_VALUES}.` };
  return { values };
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
