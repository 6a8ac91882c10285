// Every Resource Graph (KQL) query the auditor sends lives here, so that one test can validate them all against
// the official Kusto language service and the simulator can be held to exactly this subset.
// Each query projects `id` and orders by it: Resource Graph pages are only stable that way.

/** Batch accounts, from the `resources` table (poolAllocationMode for the low-priority rule). */
export const BATCH_ACCOUNTS_QUERY = `resources
| where type =~ 'microsoft.batch/batchaccounts'
| project id, name, type, subscriptionId, resourceGroup, location, tags, poolAllocationMode = properties.poolAllocationMode
| order by id asc`;

/**
 * The facts the retirement rules read, one per pool property path (a pool's row or list holds a few short strings,
 * never its whole `properties`). Names are the PoolFacts keys they fill (src/azure/poolFacts.ts reads them).
 */
const POOL_FACTS: ReadonlyArray<readonly [name: string, path: string]> = [
  ["vmSize", "properties.vmSize"],
  ["imagePublisher", "properties.deploymentConfiguration.virtualMachineConfiguration.imageReference.publisher"],
  ["imageOffer", "properties.deploymentConfiguration.virtualMachineConfiguration.imageReference.offer"],
  ["imageSku", "properties.deploymentConfiguration.virtualMachineConfiguration.imageReference.sku"],
  ["imageId", "properties.deploymentConfiguration.virtualMachineConfiguration.imageReference.id"],
  ["nodeAgentSkuId", "properties.deploymentConfiguration.virtualMachineConfiguration.nodeAgentSkuId"],
  ["cloudServiceOsFamily", "properties.deploymentConfiguration.cloudServiceConfiguration.osFamily"],
  ["targetNodeCommunicationMode", "properties.targetNodeCommunicationMode"],
  ["currentNodeCommunicationMode", "properties.currentNodeCommunicationMode"],
  ["targetLowPriorityNodes", "properties.scaleSettings.fixedScale.targetLowPriorityNodes"],
  ["currentLowPriorityNodes", "properties.currentLowPriorityNodes"],
  ["autoScaleFormula", "properties.scaleSettings.autoScale.formula"],
  ["applicationLicenses", "properties.applicationLicenses"],
  ["publicIpProvision", "properties.networkConfiguration.publicIPAddressConfiguration.provision"],
];

/** The facts as KQL projection columns (`vmSize = properties.vmSize, ...`). */
const POOL_FACT_COLUMNS = POOL_FACTS.map(([name, path]) => `${name} = ${path}`).join(", ");

/**
 * Every pool, one row each, from the `batchresources` table: its certificate references and the properties the
 * retirement rules read (a few paths each, not the whole `properties`: at 500,000 pools the rows must stay small).
 * The fallback of POOLS_BY_ACCOUNT_QUERY, sent for a scope where Resource Graph does not answer that one in full.
 */
export const POOLS_QUERY = `batchresources
| where type =~ 'microsoft.batch/batchaccounts/pools'
| project id, name, type, subscriptionId, resourceGroup, certificates = properties.certificates, ${POOL_FACT_COLUMNS}
| order by id asc`;

/**
 * The fields of each pool in POOLS_BY_ACCOUNT_QUERY's lists, in order: the pool's name (its id after the account's id
 * and `/pools/`), its certificate references, then the facts (POOL_FACTS' names). Arrays rather than bags, and the
 * name rather than the id: at five pools an account a page holds 5,000 pools, and keys or account ids repeated in
 * every pool would be most of its bytes.
 */
export const FOLDED_POOL_FIELDS: readonly string[] = ["name", "certificates", ...POOL_FACTS.map(([name]) => name)];

/**
 * Every pool again, folded into one row per Batch account: `id` is the account's id as the pool ids spell it (the
 * part before the last `/pools/`), `pools` the account's pools, each an array of FOLDED_POOL_FIELDS (the columns
 * POOLS_QUERY projects; a pool's id is the account's id, `/pools/` and its name), and `poolCount` how many rows were
 * folded, so a list that came back shorter is seen. A page holds up to 1,000 rows either way (Learn, "Guidance for
 * pagination": $top at most 1,000), so an account per row takes a fifth of the pages at five pools an account: the
 * pool pages are most of the audit's queries, and Resource Graph's quota (15 queries per 5 s per user) is what bounds
 * its time. The key column is a string, so the result pages with $skipToken (paging is refused only when every
 * output column is dynamic, or with take/limit/sample: the same page). The regular expressions are greedy up to the
 * last `/pools/`, so a resource group named "pools" does not cut an id short.
 */
export const POOLS_BY_ACCOUNT_QUERY = `batchresources
| where type =~ 'microsoft.batch/batchaccounts/pools'
| summarize pools = make_list(pack_array(extract(@'/pools/([^/]+)$', 1, id), properties.certificates, ${POOL_FACTS.map(([, path]) => path).join(", ")})), poolCount = count() by id = extract(@'^(.+)/pools/[^/]+$', 1, id)
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
  POOLS_BY_ACCOUNT_QUERY,
  CONTAINERS_QUERY,
  ACCOUNT_POOLS_QUERY_EXAMPLE: accountPoolsQuery([
    "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/rg-a/providers/Microsoft.Batch/batchAccounts/one",
    "/subscriptions/00000000-0000-4000-8000-000000000002/resourceGroups/rg-b/providers/Microsoft.Batch/batchAccounts/two",
  ]),
} as const;
