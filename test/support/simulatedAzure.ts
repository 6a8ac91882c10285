// Starts the simulated Azure for a test and wires the real SDK clients to it.
import { readFileSync } from "node:fs";
import { ArmBatchCertificates } from "../../src/azure/batchCertificates.js";
import { batchClientFactory, createResourceGraphClient } from "../../src/azure/clients.js";
import { SimulatorCredential } from "../../src/azure/credentials.js";
import { ResourceGraphInventory, type ResourceGraphInventoryOptions } from "../../src/azure/resourceGraphInventory.js";
import { startSimulator, type SimulatedAzure, type SimulatorOptions } from "@batch-cert-auditor/simulated-azure";
import { parseSnapshot, type TenantSnapshot } from "@batch-cert-auditor/simulated-azure";

export const DEMO_TENANT_PATH = new URL("../../examples/demo-tenant.json", import.meta.url);

export function demoTenant(): TenantSnapshot {
  return parseSnapshot(JSON.parse(readFileSync(DEMO_TENANT_PATH, "utf8")));
}

export interface Harness {
  sim: SimulatedAzure;
  credential: SimulatorCredential;
  inventory: ResourceGraphInventory;
  certificates: ArmBatchCertificates;
}

export async function startHarness(
  options: SimulatorOptions,
  inventoryOptions: ResourceGraphInventoryOptions = {},
): Promise<Harness> {
  const sim = await startSimulator(options);
  const credential = new SimulatorCredential();
  const conn = { credential, endpoint: sim.url, ca: sim.ca, retry: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50 } };
  return {
    sim,
    credential,
    inventory: new ResourceGraphInventory(createResourceGraphClient(conn), inventoryOptions),
    certificates: new ArmBatchCertificates(batchClientFactory(conn)),
  };
}
