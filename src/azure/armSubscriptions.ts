// Lists every subscription the identity can read: ARM GET /subscriptions (api-version 2022-12-01), following nextLink.
//
// Needed when a tenant-scope Resource Graph query answers x-ms-tenant-subscription-limit-hit: Resource Graph itself
// cannot say which subscriptions it left out (a `resourcecontainers` query at tenant scope is capped the same way),
// while ARM's list has no such cap. @azure/arm-resources-subscriptions is not a dependency, so this is one plain GET
// over @azure/core-rest-pipeline with the same credential, ARM scope, TLS settings and retry policy as the SDK clients.
import {
  bearerTokenAuthenticationPolicy,
  createDefaultHttpClient,
  createPipelineFromOptions,
  createPipelineRequest,
  RestError,
  type HttpClient,
  type Pipeline,
} from "@azure/core-rest-pipeline";
import { AuditError } from "../core/errors.js";
import type { ArmConnection } from "./clients.js";
import { ARM_SCOPE } from "./credentials.js";
import { retryWaitCapPolicy } from "./retryWaitCap.js";

const API_VERSION = "2022-12-01";
const DEFAULT_ENDPOINT = "https://management.azure.com";

export type SubscriptionLister = () => Promise<string[]>;

export function armSubscriptionLister(conn: ArmConnection): SubscriptionLister {
  const pipeline: Pipeline = createPipelineFromOptions({
    ...(conn.ca ? { tlsOptions: { ca: conn.ca } } : {}),
    ...(conn.retry ? { retryOptions: conn.retry } : {}),
  });
  pipeline.addPolicy(bearerTokenAuthenticationPolicy({ credential: conn.credential, scopes: ARM_SCOPE }));
  if (conn.maxRetryWaitMs !== undefined) pipeline.addPolicy(retryWaitCapPolicy(conn.maxRetryWaitMs), { afterPhase: "Sign" });
  const httpClient: HttpClient = createDefaultHttpClient();
  const endpoint = (conn.endpoint ?? DEFAULT_ENDPOINT).replace(/\/$/, "");

  return async () => {
    const ids: string[] = [];
    let url: string | undefined = `${endpoint}/subscriptions?api-version=${API_VERSION}`;
    while (url) {
      const response = await pipeline.sendRequest(httpClient, createPipelineRequest({ url, method: "GET" }));
      if (response.status !== 200) {
        throw new AuditError("INVENTORY.QUERY_FAILED", `Listing subscriptions failed: HTTP ${response.status} ${response.bodyAsText?.slice(0, 300) ?? ""}`, {
          statusCode: response.status,
          retryable: response.status === 429 || response.status >= 500,
          cause: new RestError(`HTTP ${response.status}`, { statusCode: response.status, response }),
        });
      }
      const page = JSON.parse(response.bodyAsText ?? "{}") as { value?: { subscriptionId?: unknown; state?: unknown }[]; nextLink?: unknown };
      for (const s of page.value ?? []) {
        // Disabled and deleted subscriptions hold nothing Resource Graph or Batch will answer for.
        if (typeof s.subscriptionId === "string" && s.state !== "Disabled" && s.state !== "Deleted") ids.push(s.subscriptionId);
      }
      url = typeof page.nextLink === "string" && page.nextLink !== "" ? page.nextLink : undefined;
    }
    return ids;
  };
}
