// Composition root for talking to Azure (or to the simulated Azure): credentials, SDK clients, adapters.
import type { TokenCredential } from "@azure/core-auth";
import { DefaultAzureCredential } from "@azure/identity";
import { ArmBatchCertificates } from "../azure/batchCertificates.js";
import { batchClientFactory, createResourceGraphClient, type ArmConnection } from "../azure/clients.js";
import { SimulatorCredential } from "../azure/credentials.js";
import { ResourceGraphInventory } from "../azure/resourceGraphInventory.js";

export interface AzureTarget {
  /** The simulator's URL and CA; absent for real Azure. */
  simulator?: { url: string; ca: string };
  managedIdentityClientId?: string;
  retry?: ArmConnection["retry"];
  log?: (message: string) => void;
}

export interface AzureAdapters {
  inventory: ResourceGraphInventory;
  certificates: ArmBatchCertificates;
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
  };
  return {
    inventory: new ResourceGraphInventory(createResourceGraphClient(conn), target.log ? { log: target.log } : {}),
    certificates: new ArmBatchCertificates(batchClientFactory(conn)),
    credential,
  };
}
