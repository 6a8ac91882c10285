// Builds the real SDK clients, pointed at Azure or at the local simulated Azure.
import { BatchManagementClient } from "@azure/arm-batch";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { TokenCredential } from "@azure/core-auth";
import type { TlsSettings } from "@azure/core-rest-pipeline";
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

/** Clients kept for reuse; beyond this the least recently used is dropped, so memory does not grow with the
 * number of subscriptions (a client costs ~12 KB; 100,000 subscriptions would otherwise hold 1.2 GB). */
const MAX_CACHED_CLIENTS = 512;

/**
 * One client per subscription, created on first use. With a pacer, every request (each page) waits for its
 * subscription's turn in the pacer instead of meeting ARM's throttling and sleeping inside the SDK's retry policy.
 */
export function batchClientFactory(conn: ArmConnection, pacer?: SubscriptionPacer): (subscriptionId: string) => BatchManagementClient {
  const clients = new Map<string, BatchManagementClient>();
  // The HTTP client caches its keep-alive agent per TLS settings object: one shared object means one agent and one
  // pool of warm connections for every subscription's client, instead of a new TLS handshake per subscription.
  const tlsOptions: TlsSettings | undefined = conn.ca ? { ca: conn.ca } : undefined;
  // The cap goes first (outside the pacer), so the pacer sees a 429 before the cap turns it into an error.
  const pacing = [...waitCapPolicies(conn), ...(pacer ? [{ policy: pacer.policy(), position: "perRetry" as const }] : [])];
  return (subscriptionId) => {
    let client = clients.get(subscriptionId);
    if (client) {
      // Map order is insertion order: moving a used client to the end keeps the least recently used first.
      clients.delete(subscriptionId);
      clients.set(subscriptionId, client);
    } else {
      client = new BatchManagementClient(conn.credential, subscriptionId, {
        ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
        // The scope stays the real ARM audience even when the endpoint is the simulator.
        credentialScopes: [ARM_SCOPE],
        ...(tlsOptions ? { tlsOptions } : {}),
        ...(conn.retry ? { retryOptions: conn.retry } : {}),
        additionalPolicies: pacing,
      });
      clients.set(subscriptionId, client);
      if (clients.size > MAX_CACHED_CLIENTS) clients.delete(clients.keys().next().value ?? "");
    }
    return client;
  };
}
