// Principals to people, over Microsoft Graph v1.0 with @azure/core-rest-pipeline (no Graph SDK): the objects behind
// role assignments (POST /directoryObjects/getByIds, at most 1000 ids per call) and the members of groups that hold a
// role (GET /groups/{id}/transitiveMembers, paged with @odata.nextLink, capped by OWNER_GROUP_MAX_MEMBERS). Calls go
// one at a time (a run asks for a few hundred objects at most, far below Graph's limits), and the pipeline's retry
// policy retries 429 (after its Retry-After, capped by MAX_RETRY_WAIT_SECONDS) and 5xx. What still fails is thrown as
// an AuditError: owner resolution then falls back and says why; the audit goes on.
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
/** Learn, "directoryObject: getByIds": up to 1000 ids per request. */
export const GET_BY_IDS_MAX = 1000;

/** Only what owner resolution reads (users: mail, enabled, guest; groups: mail; service principals: their kind). */
const SELECT = "id,displayName,mail,userPrincipalName,accountEnabled,userType,mailEnabled,servicePrincipalType";

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

  /** The directory objects with these ids (unknown ids are left out, as Graph does), in batches of 1000. */
  async getByIds(ids: readonly string[], signal?: AbortSignal): Promise<DirectoryPrincipal[]> {
    const unique = [...new Set(ids.map((id) => id.toLowerCase()))];
    const out: DirectoryPrincipal[] = [];
    for (let i = 0; i < unique.length; i += GET_BY_IDS_MAX) {
      const batch = unique.slice(i, i + GET_BY_IDS_MAX);
      const body = await this.send("POST", `${this.endpoint}/v1.0/directoryObjects/getByIds?$select=${SELECT}`, { ids: batch, types: ["user", "group", "servicePrincipal"] }, signal);
      out.push(...valueOf(body, "getByIds").map(toPrincipal));
    }
    return out;
  }

  /** Up to `max` transitive members of a group, and whether there were more. */
  async groupMembers(groupId: string, max: number, signal?: AbortSignal): Promise<{ members: DirectoryPrincipal[]; more: boolean }> {
    const members: DirectoryPrincipal[] = [];
    let url: string | undefined = `${this.endpoint}/v1.0/groups/${encodeURIComponent(groupId)}/transitiveMembers?$select=${SELECT}&$top=${Math.min(999, Math.max(1, max))}`;
    const guard = new PagingGuard(`Microsoft Graph members of group ${groupId}`, this.maxPages);
    while (url) {
      const body = await this.send("GET", url, undefined, signal);
      for (const item of valueOf(body, "transitiveMembers")) {
        if (members.length >= max) return { members, more: true };
        members.push(toPrincipal(item));
      }
      const next = (body as { "@odata.nextLink"?: unknown })["@odata.nextLink"];
      if (typeof next !== "string") return { members, more: false };
      if (members.length >= max) return { members, more: true };
      guard.page(next, "nextLink");
      url = this.sameHost(next);
    }
    return { members, more: false };
  }

  /** A nextLink must stay on the Graph endpoint the token was meant for. */
  private sameHost(next: string): string {
    const url = new URL(next);
    if (url.origin !== new URL(this.endpoint).origin) throw new AuditError("OWNERS.GRAPH_FAILED", `Microsoft Graph gave a nextLink to another host (${url.host}); not followed`);
    return url.toString();
  }

  private async send(method: "GET" | "POST", url: string, json: unknown, signal: AbortSignal | undefined): Promise<unknown> {
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
        `Microsoft Graph answered 403 ${code || "Forbidden"}: the identity lacks the Graph permissions User.Read.All and GroupMember.Read.All (docs/deploy.md has the command; or set OWNER_SOURCES=tags)${message ? ` (${message})` : ""}`,
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
