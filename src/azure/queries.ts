// Every Resource Graph (KQL) query the auditor sends lives here, so that one test can validate them all against
// the official Kusto language service and the simulator can be held to exactly this subset.
// Each query projects `id` and orders by it: Resource Graph pages are only stable that way.

/** Batch accounts, from the `resources` table. */
export const BATCH_ACCOUNTS_QUERY = `resources
| where type =~ 'microsoft.batch/batchaccounts'
| project id, name, type, subscriptionId, resourceGroup, location, tags
| order by id asc`;

/** Pools whose `properties.certificates` is a non-empty array, from the `batchresources` table. */
export const POOLS_WITH_CERTIFICATES_QUERY = `batchresources
| where type =~ 'microsoft.batch/batchaccounts/pools'
| where array_length(properties.certificates) > 0
| project id, name, type, subscriptionId, resourceGroup, certificates = properties.certificates
| order by id asc`;

/** Subscriptions and resource groups with their names and tags (owner resolution falls back to them). */
export const CONTAINERS_QUERY = `resourcecontainers
| where type =~ 'microsoft.resources/subscriptions' or type =~ 'microsoft.resources/subscriptions/resourcegroups'
| project id, name, type, subscriptionId, resourceGroup, tags
| order by id asc`;

export const ALL_QUERIES = {
  BATCH_ACCOUNTS_QUERY,
  POOLS_WITH_CERTIFICATES_QUERY,
  CONTAINERS_QUERY,
} as const;
