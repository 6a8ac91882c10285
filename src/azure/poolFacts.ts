// What the retirement rules read of a pool (PoolFacts), from the two reads the audit makes: Resource Graph's pool rows
// (every pool, a few projected paths) and the Batch management API's pool list (the pools of some accounts, whole).
//
// Property paths are Batch management's (azure-rest-api-specs, specification/batch/resource-manager/Microsoft.Batch/
// stable/2024-07-01/BatchManagement.json, PoolProperties / DeploymentConfiguration / VirtualMachineConfiguration /
// ImageReference / ScaleSettings / NetworkConfiguration). Which api-version Resource Graph serialises pools with is
// not documented (../shared/reference/batch-retirements.md, section 2), so a property that a later contract dropped
// is "not carried" (undefined: the rules that need it say "unknown") when a row holds null for it, never "absent":
//  - cloudServiceConfiguration: gone from DeploymentConfiguration at 2024-07-01;
//  - certificates, applicationLicenses, target/currentNodeCommunicationMode: `@removed(Versions.v2025_06_01)` in
//    specification/batch/resource-manager/Microsoft.Batch/Batch/models.tsp.
// Properties every contract has (vmSize, imageReference, nodeAgentSkuId, scaleSettings, currentLowPriorityNodes,
// networkConfiguration) are read as absent (null) when a row holds null for them.
import type { PoolFacts } from "../core/model.js";


type Row = Record<string, unknown>;
type StringFact = "vmSize" | "imagePublisher" | "imageOffer" | "imageSku" | "imageId" | "nodeAgentSkuId" | "autoScaleFormula" | "publicIpProvision";

const STABLE_STRINGS: readonly StringFact[] = ["vmSize", "imagePublisher", "imageOffer", "imageSku", "imageId", "nodeAgentSkuId", "autoScaleFormula", "publicIpProvision"];

/**
 * The facts a Resource Graph pool row carries (projected with POOL_FACT_COLUMNS, src/azure/queries.ts). A column missing from the row is
 * not carried; a null is "absent" for properties every contract has and "not carried" for the ones later contracts
 * dropped (see the top of this file). `location` (the account's) is added by the audit.
 */
export function factsFromGraphRow(row: Row): PoolFacts {
  const facts: PoolFacts = {};
  for (const key of STABLE_STRINGS) setString(facts, key, row, row[key], true);
  setNumber(facts, "targetLowPriorityNodes", row, true);
  setNumber(facts, "currentLowPriorityNodes", row, true);
  // Dropped by later contracts: null says nothing.
  setString(facts, "targetNodeCommunicationMode", row, row.targetNodeCommunicationMode, false);
  setString(facts, "currentNodeCommunicationMode", row, row.currentNodeCommunicationMode, false);
  if (Array.isArray(row.applicationLicenses)) facts.applicationLicenses = strings(row.applicationLicenses);
  if (typeof row.cloudServiceOsFamily === "string") facts.cloudServiceOsFamily = row.cloudServiceOsFamily;
  // A pool with a virtualMachineConfiguration is not a CloudServiceConfiguration pool, whatever the contract.
  else if (typeof facts.nodeAgentSkuId === "string") facts.cloudServiceOsFamily = null;
  return intern(facts);
}

/**
 * The facts of a pool's wire `properties` as the Batch management API returned them at an api-version whose contract
 * has every property the rules read (the auditor's, 2023-11-01): a missing key is absent (null).
 */
export function factsFromBatchProperties(properties: Row | undefined): PoolFacts | undefined {
  if (!properties) return undefined;
  const deployment = object(properties.deploymentConfiguration);
  const vm = object(deployment?.virtualMachineConfiguration);
  const image = object(vm?.imageReference);
  const cloudService = object(deployment?.cloudServiceConfiguration);
  const scale = object(properties.scaleSettings);
  const publicIp = object(object(properties.networkConfiguration)?.publicIPAddressConfiguration);
  const flat: Row = {
    vmSize: properties.vmSize,
    imagePublisher: image?.publisher,
    imageOffer: image?.offer,
    imageSku: image?.sku,
    imageId: image?.id,
    nodeAgentSkuId: vm?.nodeAgentSkuId,
    autoScaleFormula: object(scale?.autoScale)?.formula,
    publicIpProvision: publicIp?.provision,
    targetLowPriorityNodes: object(scale?.fixedScale)?.targetLowPriorityNodes,
    currentLowPriorityNodes: properties.currentLowPriorityNodes,
  };
  const facts: PoolFacts = {};
  for (const key of STABLE_STRINGS) setString(facts, key, flat, flat[key], true);
  setNumber(facts, "targetLowPriorityNodes", flat, true);
  setNumber(facts, "currentLowPriorityNodes", flat, true);
  facts.targetNodeCommunicationMode = typeof properties.targetNodeCommunicationMode === "string" ? properties.targetNodeCommunicationMode : null;
  facts.currentNodeCommunicationMode = typeof properties.currentNodeCommunicationMode === "string" ? properties.currentNodeCommunicationMode : null;
  facts.applicationLicenses = Array.isArray(properties.applicationLicenses) ? strings(properties.applicationLicenses) : null;
  facts.cloudServiceOsFamily = typeof cloudService?.osFamily === "string" ? cloudService.osFamily : null;
  return intern(facts);
}

function setString(facts: PoolFacts, key: keyof PoolFacts, row: Row, value: unknown, nullIsAbsent: boolean): void {
  // `key in row`: the read carried the column (a Resource Graph row without it did not).
  if (typeof value === "string") (facts as Record<string, unknown>)[key] = value;
  else if ((value === null || value === undefined) && nullIsAbsent && key in row) (facts as Record<string, unknown>)[key] = null;
}

function setNumber(facts: PoolFacts, key: "targetLowPriorityNodes" | "currentLowPriorityNodes", row: Row, nullIsAbsent: boolean): void {
  const value = row[key];
  if (typeof value === "number" && Number.isFinite(value)) facts[key] = value;
  else if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value))) facts[key] = Number(value);
  else if (nullIsAbsent && key in row && (value === null || value === undefined)) facts[key] = null;
}

function object(value: unknown): Row | undefined {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Row) : undefined;
}

function strings(values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === "string");
}

// Pools share facts: a tenant's pools come in few shapes (a handful of sizes and images per team). One frozen copy per
// shape keeps 500,000 pools' facts to the shapes' count instead of an object each. Bounded, so a tenant of unique
// shapes costs no more than no interning.
const INTERNED_MAX = 20_000;
const interned = new Map<string, PoolFacts>();

function intern(facts: PoolFacts): PoolFacts {
  const key = JSON.stringify(facts);
  const known = interned.get(key);
  if (known) return known;
  if (interned.size >= INTERNED_MAX) return Object.freeze(facts);
  const frozen = Object.freeze(facts);
  interned.set(key, frozen);
  return frozen;
}
