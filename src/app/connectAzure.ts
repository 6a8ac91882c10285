// Composition root for talking to Azure (or to the simulated Azure): credentials, SDK clients, adapters.
import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { ArmBatchCertificates } from "../azure/batchCertificates.js";
import { batchClientAtVersion, batchClientFactory, createResourceGraphClient, type ArmConnection } from "../azure/clients.js";
import { SimulatorCredential } from "../azure/credentials.js";
import { armSubscriptionLister } from "../azure/armSubscriptions.js";
import { GraphDirectory } from "../azure/graphDirectory.js";
import { ResourceGraphInventory } from "../azure/resourceGraphInventory.js";
import { RoleAccessReader } from "../azure/roleAccess.js";
import { SubscriptionPacer } from "../azure/subscriptionPacer.js";
import { ArmVmSizeLifecycle, VM_SKUS_API_VERSION } from "../azure/vmSizeLifecycle.js";

export interface AzureTarget {
  /** The simulator's URL and CA; absent for real Azure. */
  simulator?: { url: string; ca: string };
  managedIdentityClientId?: string;
  retry?: ArmConnection["retry"];
  /** Batch requests in flight at once over all subscriptions (BATCH_CONCURRENCY). */
  batchConcurrency?: number;
  /** The longest server-set wait any retry waits out (MAX_RETRY_WAIT_SECONDS); longer ones fail the call at once. */
  maxRetryWaitMs?: number;
  /** Pages one list or query may have (MAX_PAGES_PER_SCOPE). */
  maxPagesPerScope?: number;
  /** Transitive members read per group that holds an owner role (OWNER_GROUP_MAX_MEMBERS). */
  groupMaxMembers?: number;
  log?: (message: string) => void;
}

export interface AzureAdapters {
  inventory: ResourceGraphInventory;
  certificates: ArmBatchCertificates;
  /** Batch's end of support per VM size and region (virtualMachineSkus), through the same pacer. */
  vmSizes: ArmVmSizeLifecycle;
  /** Role holders: Resource Graph's role assignments, Microsoft Graph's users and groups. */
  access: RoleAccessReader;
  graph: GraphDirectory;
  credential: TokenCredential;
}

export function connectAzure(target: AzureTarget): AzureAdapters {
  const credential: TokenCredential = target.simulator
    ? new SimulatorCredential()
    : new DefaultAzureCredential(target.managedIdentityClientId ? { managedIdentityClientId: target.managedIdentityClientId } : {});
  const conn: ArmConnection = {
    credential,
    ...(target.simulator ? { endpoint: target.simulator.url, ca: target.simulator.ca } : {}),
    ...(target.retry ? { retry: target.retry } : {}),
    ...(target.maxRetryWaitMs !== undefined ? { maxRetryWaitMs: target.maxRetryWaitMs } : {}),
  };
  // One pacer for every Batch client: it keeps each subscription within ARM's read bucket and the whole run within
  // batchConcurrency, so callers need no concurrency limit of their own.
  const pacer = new SubscriptionPacer({
    maxInFlight: target.batchConcurrency ?? 16,
    ...(target.maxRetryWaitMs !== undefined ? { maxRetryWaitMs: target.maxRetryWaitMs } : {}),
  });
  const inventory = new ResourceGraphInventory(createResourceGraphClient(conn), {
      // Used when a tenant-scope query says it covered only the first 10,000 subscriptions.
      listSubscriptions: armSubscriptionLister(conn),
      ...(target.maxRetryWaitMs !== undefined ? { maxRetryWaitMs: target.maxRetryWaitMs } : {}),
      ...(target.maxPagesPerScope !== undefined ? { maxPages: target.maxPagesPerScope } : {}),
      ...(target.log ? { log: target.log } : {}),
    });
  // Microsoft Graph through the same credential; in simulate mode the simulator serves /v1.0 on the same URL.
  const graph = new GraphDirectory({
    credential,
    ...(target.simulator ? { endpoint: target.simulator.url, ca: target.simulator.ca } : {}),
    ...(target.retry ? { retry: target.retry } : {}),
    ...(target.maxRetryWaitMs !== undefined ? { maxRetryWaitMs: target.maxRetryWaitMs } : {}),
    ...(target.maxPagesPerScope !== undefined ? { maxPages: target.maxPagesPerScope } : {}),
  });
  return {
    inventory,
    certificates: new ArmBatchCertificates(batchClientFactory(conn, pacer), pacer, target.maxPagesPerScope),
    vmSizes: new ArmVmSizeLifecycle(batchClientAtVersion(conn, VM_SKUS_API_VERSION, pacer), target.maxPagesPerScope),
    access: new RoleAccessReader(inventory, graph, { groupMaxMembers: target.groupMaxMembers ?? 20, ...(target.log ? { log: target.log } : {}) }),
    graph,
    credential,
  };
}
