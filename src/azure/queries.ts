// Every Resource Graph (KQL) query the auditor sends lives here, so that one test can validate them all against
// the official Kusto language service and the simulator can be held to exactly this subset.
// Each query projects `id` and orders by it: Resource Graph pages are only stable that way.

/** Batch accounts, from the `resources` table (poolAllocationMode for the low-priority rule). */
export const BATCH_ACCOUNTS_QUERY = `resources
| where type =~ 'microsoft.batch/batchaccounts'
| project id, name, type, subscriptionId, resourceGroup, location, tags, poolAllocationMode = properties.poolAllocationMode
| order by id asc`;

/**
 * The KQL projection of the facts (one column per path, so a row holds a few short strings, never the pool's whole
 * `properties`). Column names are the PoolFacts keys they fill (src/azure/poolFacts.ts reads them).
 */
const POOL_FACT_COLUMNS = [
  "vmSize = properties.vmSize",
  "imagePublisher = properties.deploymentConfiguration.virtualMachineConfiguration.imageReference.publisher",
  "imageOffer = properties.deploymentConfiguration.virtualMachineConfiguration.imageReference.offer",
  "imageSku = properties.deploymentConfiguration.virtualMachineConfiguration.imageReference.sku",
  "imageId = properties.deploymentConfiguration.virtualMachineConfiguration.imageReference.id",
  "nodeAgentSkuId = properties.deploymentConfiguration.virtualMachineConfiguration.nodeAgentSkuId",
  "cloudServiceOsFamily = properties.deploymentConfiguration.cloudServiceConfiguration.osFamily",
  "targetNodeCommunicationMode = properties.targetNodeCommunicationMode",
  "currentNodeCommunicationMode = properties.currentNodeCommunicationMode",
  "targetLowPriorityNodes = properties.scaleSettings.fixedScale.targetLowPriorityNodes",
  "currentLowPriorityNodes = properties.currentLowPriorityNodes",
  "autoScaleFormula = properties.scaleSettings.autoScale.formula",
  "applicationLicenses = properties.applicationLicenses",
  "publicIpProvision = properties.networkConfiguration.publicIPAddressConfiguration.provision",
].join(", ");

/**
 * Every pool, from the `batchresources` table: its certificate references and the properties the retirement rules
 * read (a few paths each, not the whole `properties`: at 500,000 pools the rows must stay small).
 */
export const POOLS_QUERY = `batchresources
| where type =~ 'microsoft.batch/batchaccounts/pools'
| project id, name, type, subscriptionId, resourceGroup, certificates = properties.certificates, ${POOL_FACT_COLUMNS}
| order by id asc`;

/** Subscriptions and resource groups with their names and tags (owner resolution falls back to them). */
export const CONTAINERS_QUERY = `resourcecontainers
| where type =~ 'microsoft.resources/subscriptions' or type =~ 'microsoft.resources/subscriptions/resourcegroups'
| project id, name, type, subscriptionId, resourceGroup, tags
| order by id asc`;

/**
 * Every pool of some Batch accounts, with `certificates` as Resource Graph holds it: the fallback when the Batch API
 * could not list an account's pools. A null `certificates` is "not reported" (Resource Graph reads pools at the
 * provider's latest api-version, whose contract may not have the property), never "none".
 */
export function accountPoolsQuery(accountIds: readonly string[]): string {
  if (accountIds.length === 0) throw new Error("accountPoolsQuery needs at least one account id");
  const prefixes = accountIds.map((id) => {
    // ARM ids never hold quotes or backslashes; refuse rather than escape, so no id can change the query.
    if (/['"\\\r\n]/.test(id)) throw new Error(`"${id}" is not a Batch account id`);
    return `id startswith '${id}/pools/'`;
  });
  return `batchresources
| where type =~ 'microsoft.batch/batchaccounts/pools'
| where ${prefixes.join(" or ")}
| project id, name, type, subscriptionId, resourceGroup, certificates = properties.certificates, ${POOL_FACT_COLUMNS}
| order by id asc`;
}

// Role assignments and definitions live in the `authorizationresources` table (Learn: "Azure Resource Graph table and
// resource type reference", authorizationresources: microsoft.authorization/roleassignments and
// microsoft.authorization/roledefinitions). Their `properties` are ARM's: an assignment's roleDefinitionId,
// principalId, principalType and scope; a definition's roleName and type (BuiltInRole or CustomRole).

/** Role definitions, built-in and custom, by name (owner resolution matches OWNER_ROLE_NAMES against `roleName`). */
export const ROLE_DEFINITIONS_QUERY = `authorizationresources
| where type =~ 'microsoft.authorization/roledefinitions'
| project id, name, type, roleName = properties.roleName, roleType = properties.type
| order by id asc`;

/**
 * Role assignments that apply in the queried subscriptions. Sent with authorizationScopeFilter AtScopeAboveAndBelow
 * (src/azure/roleAccess.ts): at a subscription, a resource group or a resource, and at the management groups above
 * the subscriptions and the root scope `/`.
 */
export const ROLE_ASSIGNMENTS_QUERY = `authorizationresources
| where type =~ 'microsoft.authorization/roleassignments'
| project id, name, type, subscriptionId, roleDefinitionId = properties.roleDefinitionId, principalId = properties.principalId, principalType = properties.principalType, scope = properties.scope
| order by id asc`;

/** The management groups above each subscription, nearest first (`properties.managementGroupAncestorsChain`). */
export const SUBSCRIPTION_ANCESTORS_QUERY = `resourcecontainers
| where type =~ 'microsoft.resources/subscriptions'
| project id, subscriptionId, managementGroups = properties.managementGroupAncestorsChain
| order by id asc`;

export const ALL_QUERIES = {
  ROLE_DEFINITIONS_QUERY,
  ROLE_ASSIGNMENTS_QUERY,
  SUBSCRIPTION_ANCESTORS_QUERY,
  BATCH_ACCOUNTS_QUERY,
  POOLS_QUERY,
  CONTAINERS_QUERY,
  ACCOUNT_POOLS_QUERY_EXAMPLE: accountPoolsQuery([
    "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-a/providers/Microsoft.Batch/batchAccounts/one",
    "/subscriptions/00000000-0000-4000-8000-000000000002/resourceGroups/rg-b/providers/Microsoft.Batch/batchAccounts/two",
  ]),
} as const;
