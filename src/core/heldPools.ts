// The Batch API's pools of an account while the audit waits to merge them with Resource Graph's rows, which go on
// coming until the inventory has read every pool: held as deflated JSON, outside V8's heap (./deflatedJson.ts). At
// 100,000 accounts they were 36 MB of the 148 MB reachable 75 s into the reads (docs/benchmarks.md, issue 26).
import type { Deflated, DeflatedStore } from "./deflatedJson.js";
import { compactPoolConfigurationOfText, poolConfigurationText } from "./migrationKit.js";
import type { BatchAccountInfo, PoolInfo } from "./model.js";

/** An account's pools, kept deflated in the audit's store. */
export type HeldPools = Deflated<Record<string, unknown>[]>;

/** What an account's pools share with it (the field in the account): read back as the account's own string when equal. */
const FROM_ACCOUNT: ReadonlyMap<string, keyof BatchAccountInfo> = new Map([
  ["accountId", "id"],
  ["accountName", "name"],
  ["subscriptionId", "subscriptionId"],
  ["resourceGroup", "resourceGroup"],
]);

/**
 * The pools, held. Nothing is lost that JSON keeps: a pool's fields are strings, numbers, null and lists and records
 * of them. A configuration is held, as its text, only for a pool with certificate references: what a migration kit
 * rebuilds (at 100,000 accounts every pool's was about 30 MB).
 */
export function holdPools(store: DeflatedStore, pools: readonly PoolInfo[]): HeldPools {
  return store.put(pools.map(({ configuration, ...pool }) => (configuration && pool.certificateReferences.length > 0 ? { ...pool, configuration: poolConfigurationText(configuration) } : pool)));
}

/** The pools held, as they were given (a configuration compact, read when asked; the account's fields its own strings). */
export function poolsHeld(store: DeflatedStore, account: BatchAccountInfo, held: HeldPools): PoolInfo[] {
  const pools = store.get(held);
  for (const pool of pools) {
    for (const [key, field] of FROM_ACCOUNT) if (pool[key] === account[field]) pool[key] = account[field];
    if (typeof pool.configuration === "string") pool.configuration = compactPoolConfigurationOfText(pool.configuration);
  }
  return pools as unknown as PoolInfo[];
}
