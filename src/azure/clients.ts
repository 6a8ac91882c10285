// Builds the real SDK clients, pointed at Azure or at the local simulated Azure.
import { BatchManagementClient } from "@azure/arm-batch";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { TokenCredential } from "@azure/core-auth";
import { createClientPipeline } from "@azure/core-client";
import { ARM_SCOPE } from "./credentials.js";
import { retryWaitCapPolicy } from "./retryWaitCap.js";
import type { SubscriptionPacer } from "./subscriptionPacer.js";

export interface ArmConnection {
  credential: TokenCredential;
  /** https://management.azure.com, or the simulator's URL. */
  endpoint?: string;
  /** Extra CA to trust (the simulator's self-signed certificate). */
  ca?: string;
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
  /** The longest Retry-After any retry waits out (MAX_RETRY_WAIT_SECONDS); longer ones fail the call at once. */
  maxRetryWaitMs?: number;
}

/** The wait cap as a policy behind the SDK's retry policy (perRetry), so it sees each throttled answer first. */
export function waitCapPolicies(conn: Pick<ArmConnection, "maxRetryWaitMs">) {
  return conn.maxRetryWaitMs === undefined ? [] : [{ policy: retryWaitCapPolicy(conn.maxRetryWaitMs), position: "perRetry" as const }];
}

export function createResourceGraphClient(conn: ArmConnection): ResourceGraphClient {
  return new ResourceGraphClient(conn.credential, {
    ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
    credentials: { scopes: [ARM_SCOPE] },
    ...(conn.ca ? { tlsOptions: { ca: conn.ca } } : {}),
    ...(conn.retry ? { retryOptions: conn.retry } : {}),
    additionalPolicies: waitCapPolicies(conn),
  });
}

/**
 * Batch clients over one shared pipeline. A client is bound to its subscription, but its pipeline need not be: with
 * one pipeline for all of them, a client costs microseconds instead of building its own policies (13x cheaper here),
 * keep-alive connections are shared, and so is the bearer policy's token cache, so a credential is asked for a token
 * once per run rather than once per subscription (an `az login` credential starts a process for each). With a pacer,
 * every request (each page) waits for its subscription's turn in the pacer instead of meeting ARM's throttling and
 * sleeping inside the SDK's retry policy.
 */
export function batchClientFactory(conn: ArmConnection, pacer?: SubscriptionPacer): (subscriptionId: string) => BatchManagementClient {
  const pipeline = createClientPipeline({
    credentialOptions: { credential: conn.credential, credentialScopes: [ARM_SCOPE] },
    ...(conn.ca ? { tlsOptions: { ca: conn.ca } } : {}),
    ...(conn.retry ? { retryOptions: conn.retry } : {}),
  });
  // The cap goes first (outside the pacer), so the pacer sees a 429 before the cap turns it into an error. Added to
  // the pipeline here, once: a client given `additionalPolicies` would add them to the shared pipeline again.
  for (const { policy } of waitCapPolicies(conn)) pipeline.addPolicy(policy, { afterPhase: "Retry" });
  if (pacer) pipeline.addPolicy(pacer.policy(), { afterPhase: "Retry" });
  return (subscriptionId) =>
    new BatchManagementClient(conn.credential, subscriptionId, {
      pipeline,
      ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
      // The scope stays the real ARM audience even when the endpoint is the simulator.
      credentialScopes: [ARM_SCOPE],
    });
}

/**
 * A Batch client at another api-version than the SDK's own (2023-11-01), for one read. It has its own pipeline: the
 * SDK sets a custom api-version by adding a policy to the client's pipeline, which on the shared one would move every
 * other client to that version too. Cheap enough for what it serves (one read per region per run).
 */
export function batchClientAtVersion(conn: ArmConnection, apiVersion: string, pacer?: SubscriptionPacer): (subscriptionId: string) => BatchManagementClient {
  return (subscriptionId) =>
    new BatchManagementClient(conn.credential, subscriptionId, {
      apiVersion,
      ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
      credentialScopes: [ARM_SCOPE],
      ...(conn.ca ? { tlsOptions: { ca: conn.ca } } : {}),
      ...(conn.retry ? { retryOptions: conn.retry } : {}),
      additionalPolicies: [...waitCapPolicies(conn), ...(pacer ? [{ policy: pacer.policy(), position: "perRetry" as const }] : [])],
    });
}
