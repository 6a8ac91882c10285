// The Batch API's pools of an account while the audit waits to merge them with Resource Graph's rows, which go on
// coming until the inventory has read every pool: held as deflated JSON, outside V8's heap (./deflatedJson.ts). At
// 100,000 accounts they were 36 MB of the 148 MB reachable 75 s into the reads (docs/benchmarks.md, issue 26).
import type { Deflated, DeflatedStore } from "./deflatedJson.js";
import { compactPoolConfigurationOfText, poolConfigurationText } from "./migrationKit.js";
import type { BatchAccountInfo, PoolConfiguration, PoolInfo } from "./model.js";

/** An account's pools, kept deflated in the audit's store. */
export type HeldPools = Deflated<Record<string, unknown>[]>;

/** What an account's pools share with it (the field in the account): held as null, and put back from the account. */
const FROM_ACCOUNT: ReadonlyMap<string, keyof BatchAccountInfo> = new Map([
  ["accountId", "id"],
  ["accountName", "name"],
  ["subscriptionId", "subscriptionId"],
  ["resourceGroup", "resourceGroup"],
]);

/**
 * The pools, held. Nothing is lost that JSON keeps: a pool's fields are strings, numbers, null and lists and records
 * of them, and a configuration is held as its text. A field the pool shares with its account is held as null.
 */
export function holdPools(store: DeflatedStore, account: BatchAccountInfo, pools: readonly PoolInfo[]): HeldPools {
  const held = pools.map((pool) => {
    // Field by field, in their order (what is made of a pool later, a kit or a report, reads as before).
    const own: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(pool)) {
      const shared = FROM_ACCOUNT.get(key);
      own[key] = key === "configuration" ? poolConfigurationText(value as PoolConfiguration) : shared !== undefined && value === account[shared] ? null : value;
    }
    return own;
  });
  return store.put(held);
}

/** The pools held, as they were given (a configuration compact, read when asked; the account's fields its own strings). */
export function poolsHeld(store: DeflatedStore, account: BatchAccountInfo, held: HeldPools): PoolInfo[] {
  const pools = store.get(held);
  for (const pool of pools) {
    for (const [key, field] of FROM_ACCOUNT) if (pool[key] === null) pool[key] = account[field];
    if (typeof pool.configuration === "string") pool.configuration = compactPoolConfigurationOfText(pool.configuration);
  }
  return pools as unknown as PoolInfo[];
}
