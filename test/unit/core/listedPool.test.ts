// A Resource Graph pool is matched to the Batch API's list by name, letter case aside: a scan for short lists, a map
// made once for long ones; both give the same pool.
import { describe, expect, it } from "vitest";
import { listedPool } from "../../../src/core/accountReads.js";
import type { PoolInfo } from "../../../src/core/model.js";

const ACCOUNT = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a";
const pool = (name: string): PoolInfo => ({ id: `${ACCOUNT}/pools/${name}`, name, accountId: ACCOUNT, accountName: "a", subscriptionId: "s", resourceGroup: "rg", certificateReferences: [] });

describe("listedPool", () => {
  for (const size of [5, 32, 33, 400]) {
    it(`finds a pool by name in any letter case in a list of ${size}, and nothing for a name not listed`, () => {
      const pools = Array.from({ length: size }, (_, i) => pool(`Pool-${i}-Ä`));
      for (const i of [0, Math.floor(size / 2), size - 1]) {
        expect(listedPool(pools, `pool-${i}-ä`)).toBe(pools[i]);
        expect(listedPool(pools, `POOL-${i}-Ä`)).toBe(pools[i]);
        expect(listedPool(pools, `Pool-${i}-Ä`)).toBe(pools[i]);
      }
      expect(listedPool(pools, `pool-${size}-ä`)).toBeUndefined();
      expect(listedPool(pools, "pool-1")).toBeUndefined();
    });
  }
});
