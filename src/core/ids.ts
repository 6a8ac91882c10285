// Identifier shapes shared by configuration, the CLI and the HTTP API, and the ARM ids the audit builds and indexes.

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID in its usual 8-4-4-4-12 hex form (subscription ids, client ids), either case. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/**
 * The ARM id of a resource group. The inventory keeps the groups of Batch accounts and pools by it and owner resolution
 * looks them up by it, so both build it here (ARM ids compare case-insensitively: callers lower-case it to compare).
 */
export function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

/**
 * `items` by lower-cased id, only those whose id is in `wanted` (the last of each, as a Map of them all would keep): at
 * 100,000 accounts an index of every account is tens of MB, and the ids asked about are usually a fraction of them.
 */
export function indexWanted<T>(items: readonly T[], idOf: (item: T) => string, wanted: ReadonlySet<string>): Map<string, T> {
  const index = new Map<string, T>();
  for (const item of items) {
    const key = idOf(item).toLowerCase();
    if (wanted.has(key)) index.set(key, item);
  }
  return index;
}
