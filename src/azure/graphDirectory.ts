// Principals to people, over Microsoft Graph v1.0 with @azure/core-rest-pipeline (no Graph SDK), with only the
// application permissions the deployment grants (User.Read.All, GroupMember.Read.All; infra/app/graphPermissions.bicep):
// - users named by role assignments: GET /users?$filter=id in (...), at most 15 ids a request (Learn, "Use the $filter
//   query parameter": with `in`, a request is limited to 15 expressions by default); User.Read.All
//   (Learn, "List users": least privileged application permission User.Read.All);
// - groups named by role assignments: GET /groups/{id}; GroupMember.Read.All (Learn, "Get group");
// - members of groups that hold a role: GET /groups/{id}/transitiveMembers, paged with @odata.nextLink, capped by
//   OWNER_GROUP_MAX_MEMBERS; GroupMember.Read.All (Learn, "List group transitive members"), and Member.Read.Hidden for
//   a group whose membership is hidden.
// Role assignments carry the principal's type, so nothing needs POST /directoryObjects/getByIds, whose least
// privileged application permission is Directory.Read.All (Learn, "directoryObject: getByIds"). Service principals are
// not read at all (that would need Application.Read.All): they are not people, and their id is enough to say so.
// Where Graph may not show an object's properties to the caller it returns the object with only `id` and
// `@odata.type` (Learn, "List group transitive members": "limited information"); such an answer is a missing
// permission, never a person without a mail address, and is thrown as OWNERS.GRAPH_FORBIDDEN.
// Calls go one at a time (a run asks for a few hundred objects at most, far below Graph's limits), and the pipeline's
// retry policy retries 429 (after its Retry-After, capped by MAX_RETRY_WAIT_SECONDS) and 5xx. What still fails is
// thrown as an AuditError: owner resolution then falls back and says why; the audit goes on.
import type { TokenCredential } from "@azure/core-auth";
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineFromOptions,
  createPipelineRequest,
  type HttpClient,
  type Pipeline,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { AuditError, ensureError } from "../core/errors.js";
import type { DirectoryPrincipal } from "../core/owners.js";
import { DEFAULT_MAX_PAGES, PagingGuard, stoppedReason } from "./armAnswers.js";
import { retryWaitCapPolicy } from "./retryWaitCap.js";
import { signInFailure } from "./signIn.js";

export const GRAPH_SCOPE = "https://graph.microsoft.com/.default";
export const GRAPH_ENDPOINT = "https://graph.microsoft.com";
/** Learn, "Use the $filter query parameter": a filter with `in` is limited to 15 expressions by default. */
export const USERS_PER_FILTER = 15;

/** Only what owner resolution reads. `userPrincipalName` is never empty on a user, so its absence means a stripped answer. */
const USER_SELECT = "id,mail,userPrincipalName,accountEnabled,userType";
const GROUP_SELECT = "id,displayName,mail,mailEnabled";
/** Members may be users, groups, service principals or devices: what each of those tells. */
const MEMBER_SELECT = "id,displayName,mail,userPrincipalName,accountEnabled,userType,mailEnabled,servicePrincipalType";

/** A principal named by a role assignment: its object id and the assignment's principalType. */
export interface PrincipalRef {
  id: string;
  principalType: string;
}

export interface GraphConnection {
  credential: TokenCredential;
  /** https://graph.microsoft.com, or the simulator's URL. */
  endpoint?: string;
  ca?: string;
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  maxRetryWaitMs?: number;
  maxPages?: number;
  httpClient?: HttpClient;
}

export class GraphDirectory {
  private readonly pipeline: Pipeline;
  private readonly httpClient: HttpClient;
  private readonly endpoint: string;
  private readonly maxPages: number;
  /** Requests sent, for tests and logs. */
  readonly stats = { requests: 0 };

  constructor(conn: GraphConnection) {
    this.endpoint = (conn.endpoint ?? GRAPH_ENDPOINT).replace(/\/+$/, "");
    this.maxPages = conn.maxPages ?? DEFAULT_MAX_PAGES;
    this.httpClient = conn.httpClient ?? createDefaultHttpClient();
    this.pipeline = createPipelineFromOptions({
      ...(conn.retry ? { retryOptions: conn.retry } : {}),
      ...(conn.ca ? { tlsOptions: { ca: conn.ca } } : {}),
    });
    // The scope stays Graph's own audience even when the endpoint is the simulator.
    this.pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: conn.credential, scopes: GRAPH_SCOPE }));
    // Behind the retry policy, so each throttled answer is checked against the cap before it is waited out.
    if (conn.maxRetryWaitMs !== undefined) this.pipeline.addPolicy(retryWaitCapPolicy(conn.maxRetryWaitMs), { afterPhase: "Retry" });
  }

  /**
   * The directory objects behind role assignments, read by their principalType: users in batches of 15, groups one by
   * one, service principals not at all (they are known to be service principals). Ids Graph does not know (deleted
   * principals, principalType "Unknown") are left out, so owner resolution says they were not found.
   */
  async principals(refs: readonly PrincipalRef[], signal?: AbortSignal): Promise<DirectoryPrincipal[]> {
    const byType = new Map<string, Set<string>>();
    for (const ref of refs) {
      const type = ref.principalType.toLowerCase();
      const ids = byType.get(type) ?? new Set<string>();
      ids.add(ref.id.toLowerCase());
      byType.set(type, ids);
    }
    const out: DirectoryPrincipal[] = [];
    const users = [...(byType.get("user") ?? [])];
    for (let i = 0; i < users.length; i += USERS_PER_FILTER) {
      // OData string literals: a quote inside is doubled, so an id cannot end the literal.
      const filter = `id in (${users.slice(i, i + USERS_PER_FILTER).map((id) => `'${id.replace(/'/g, "''")}'`).join(",")})`;
      const url = `${this.endpoint}/v1.0/users?$filter=${encodeURIComponent(filter)}&$select=${USER_SELECT}`;
      for (const item of await this.list(url, "users", Infinity, "User.Read.All", signal)) out.push(readable(item));
    }
    for (const id of byType.get("group") ?? []) {
      const group = await this.get(`${this.endpoint}/v1.0/groups/${encodeURIComponent(id)}?$select=${GROUP_SELECT}`, "GroupMember.Read.All", signal);
      if (group) out.push(readable(group));
    }
    for (const id of byType.get("serviceprincipal") ?? []) out.push({ kind: "servicePrincipal", id });
    for (const [type, ids] of byType) {
      if (type === "user" || type === "group" || type === "serviceprincipal" || type === "unknown") continue;
      for (const id of ids) out.push({ kind: "other", id, odataType: type });
    }
    return out;
  }

  /** Up to `max` transitive members of a group, and whether there were more. */
  async groupMembers(groupId: string, max: number, signal?: AbortSignal): Promise<{ members: DirectoryPrincipal[]; more: boolean }> {
    const url = `${this.endpoint}/v1.0/groups/${encodeURIComponent(groupId)}/transitiveMembers?$select=${MEMBER_SELECT}&$top=${Math.min(999, Math.max(1, max))}`;
    const items = await this.list(url, `members of group ${groupId}`, max + 1, "GroupMember.Read.All (and Member.Read.Hidden for a group with hidden membership)", signal);
    const members = items.slice(0, max).map((item) => readable(item));
    return { members, more: items.length > max };
  }

  /** The items of a collection, following @odata.nextLink, until `max` items are read (one more tells there are more). */
  private async list(firstUrl: string, what: string, max: number, permission: string, signal: AbortSignal | undefined): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let url: string | undefined = firstUrl;
    const guard = new PagingGuard(`Microsoft Graph ${what}`, this.maxPages);
    while (url) {
      const body = await this.send("GET", url, undefined, permission, signal);
      for (const item of valueOf(body, what)) {
        items.push(item);
        if (items.length >= max) return items;
      }
      const next = (body as { "@odata.nextLink"?: unknown })["@odata.nextLink"];
      if (typeof next !== "string") return items;
      guard.page(next, "nextLink");
      url = this.sameHost(next);
    }
    return items;
  }

  /** One object, or undefined when Graph does not know it (404). */
  private async get(url: string, permission: string, signal: AbortSignal | undefined): Promise<Record<string, unknown> | undefined> {
    try {
      const body = await this.send("GET", url, undefined, permission, signal);
      return typeof (body as { id?: unknown }).id === "string" ? (body as Record<string, unknown>) : undefined;
    } catch (error) {
      if (error instanceof AuditError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  /** A nextLink must stay on the Graph endpoint the token was meant for. */
  private sameHost(next: string): string {
    const url = new URL(next);
    if (url.origin !== new URL(this.endpoint).origin) throw new AuditError("OWNERS.GRAPH_FAILED", `Microsoft Graph gave a nextLink to another host (${url.host}); not followed`);
    return url.toString();
  }

  private async send(method: "GET" | "POST", url: string, json: unknown, permission: string, signal: AbortSignal | undefined): Promise<unknown> {
    if (signal?.aborted) throw stoppedReason(signal);
    const request = createPipelineRequest({
      url,
      method,
      headers: createHttpHeaders({ accept: "application/json", ...(json === undefined ? {} : { "content-type": "application/json" }) }),
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      ...(signal ? { abortSignal: signal } : {}),
    });
    let response: PipelineResponse;
    try {
      this.stats.requests++;
      response = await this.pipeline.sendRequest(this.httpClient, request);
    } catch (error) {
      const signIn = signInFailure(error);
      if (signIn) throw signIn;
      if (signal?.aborted) throw stoppedReason(signal);
      throw new AuditError("OWNERS.GRAPH_FAILED", `Microsoft Graph could not be asked: ${ensureError(error).message}`, { cause: error, retryable: true });
    }
    let body: unknown;
    try {
      body = response.bodyAsText ? JSON.parse(response.bodyAsText) : undefined;
    } catch {
      body = undefined;
    }
    if (response.status >= 200 && response.status < 300) {
      if (body === undefined || typeof body !== "object" || body === null) throw new AuditError("OWNERS.GRAPH_FAILED", `Microsoft Graph answered ${response.status} without a JSON body`);
      return body;
    }
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    const code = typeof error?.code === "string" ? error.code : "";
    const message = typeof error?.message === "string" ? error.message : (response.bodyAsText ?? "").slice(0, 200);
    if (response.status === 403) {
      throw new AuditError(
        "OWNERS.GRAPH_FORBIDDEN",
        `Microsoft Graph answered 403 ${code || "Forbidden"}: the identity lacks the Graph application permission ${permission} ` +
          `(GRANT_GRAPH_PERMISSIONS=true, or the command in docs/deploy.md; or set OWNER_SOURCES=tags)${message ? ` (${message})` : ""}`,
        { statusCode: 403 },
      );
    }
    throw new AuditError("OWNERS.GRAPH_FAILED", `Microsoft Graph answered ${response.status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}`, {
      statusCode: response.status,
      retryable: response.status === 429 || response.status >= 500,
    });
  }
}

function valueOf(body: unknown, what: string): Record<string, unknown>[] {
  const value = (body as { value?: unknown }).value;
  if (!Array.isArray(value)) throw new AuditError("OWNERS.GRAPH_FAILED", `Microsoft Graph ${what} answer has no "value" list`);
  return value.filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null && typeof (v as { id?: unknown }).id === "string");
}

/**
 * The object as owner resolution reads it, unless Graph answered it stripped (only `id` and `@odata.type`, which it
 * does when the caller may not read that type): a user without userPrincipalName, a group without displayName.
 * Service principals and other types are never read in full here, so their bare answer is expected.
 */
function readable(item: Record<string, unknown>): DirectoryPrincipal {
  const type = String(item["@odata.type"] ?? "").toLowerCase();
  const permission = type === "#microsoft.graph.user" ? "User.Read.All" : "GroupMember.Read.All";
  const stripped = (type === "#microsoft.graph.user" && !("userPrincipalName" in item)) || (type === "#microsoft.graph.group" && !("displayName" in item));
  if (stripped) {
    throw new AuditError(
      "OWNERS.GRAPH_FORBIDDEN",
      `Microsoft Graph answered ${type.replace("#microsoft.graph.", "")} ${String(item.id)} with only its id and type: the identity may not read its properties ` +
        `(the Graph application permission ${permission} is missing; GRANT_GRAPH_PERMISSIONS=true, or the command in docs/deploy.md; or set OWNER_SOURCES=tags)`,
    );
  }
  return toPrincipal(item);
}

const optionalString = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/** Graph's object, by its @odata.type, into the few fields owner resolution reads. */
export function toPrincipal(item: Record<string, unknown>): DirectoryPrincipal {
  const id = String(item.id);
  const type = String(item["@odata.type"] ?? "").toLowerCase();
  const displayName = optionalString(item.displayName);
  const mail = optionalString(item.mail);
  if (type === "#microsoft.graph.user") {
    const upn = optionalString(item.userPrincipalName);
    const userType = optionalString(item.userType);
    return {
      kind: "user",
      id,
      ...(mail ? { mail } : {}),
      ...(upn ? { userPrincipalName: upn } : {}),
      ...(typeof item.accountEnabled === "boolean" ? { accountEnabled: item.accountEnabled } : {}),
      ...(userType ? { userType } : {}),
    };
  }
  if (type === "#microsoft.graph.group") {
    return { kind: "group", id, ...(displayName ? { displayName } : {}), ...(mail ? { mail } : {}), ...(typeof item.mailEnabled === "boolean" ? { mailEnabled: item.mailEnabled } : {}) };
  }
  if (type === "#microsoft.graph.serviceprincipal") {
    const spType = optionalString(item.servicePrincipalType);
    return { kind: "servicePrincipal", id, ...(displayName ? { displayName } : {}), ...(spType ? { servicePrincipalType: spType } : {}) };
  }
  return { kind: "other", id, odataType: type || "unknown" };
}
