// Builds the real SDK clients, pointed at Azure or at the local simulated Azure.
import { BatchManagementClient } from "@azure/arm-batch";
import { ResourceGraphClient } from "@azure/arm-resourcegraph";
import type { TokenCredential } from "@azure/core-auth";
import { ARM_SCOPE } from "./credentials.js";

export interface ArmConnection {
  credential: TokenCredential;
  /** https://management.azure.com, or the simulator's URL. */
  endpoint?: string;
  /** Extra CA to trust (the simulator's self-signed certificate). */
  ca?: string;
  retry?: { maxRetries?: number; retryDelayInMs?: number; maxRetryDelayInMs?: number };
}

export function createResourceGraphClient(conn: ArmConnection): ResourceGraphClient {
  return new ResourceGraphClient(conn.credential, {
    ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
    credentials: { scopes: [ARM_SCOPE] },
    ...(conn.ca ? { tlsOptions: { ca: conn.ca } } : {}),
    ...(conn.retry ? { retryOptions: conn.retry } : {}),
  });
}

/** One client per subscription, created on first use. */
export function batchClientFactory(conn: ArmConnection): (subscriptionId: string) => BatchManagementClient {
  const clients = new Map<string, BatchManagementClient>();
  return (subscriptionId) => {
    let client = clients.get(subscriptionId);
    if (!client) {
      client = new BatchManagementClient(conn.credential, subscriptionId, {
        ...(conn.endpoint ? { endpoint: conn.endpoint } : {}),
        // The scope stays the real ARM audience even when the endpoint is the simulator.
        credentialScopes: [ARM_SCOPE],
        ...(conn.ca ? { tlsOptions: { ca: conn.ca } } : {}),
        ...(conn.retry ? { retryOptions: conn.retry } : {}),
      });
      clients.set(subscriptionId, client);
    }
    return client;
  };
}
