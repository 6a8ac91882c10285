// The Batch API's pools are held deflated while the audit waits to merge them: what is read back must be what was held,
// field for field and in the same order, whatever the pools carry.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DeflatedStore } from "../../../src/core/deflatedJson.js";
import { holdPools, poolsHeld } from "../../../src/core/heldPools.js";
import type { BatchAccountInfo, PoolInfo } from "../../../src/core/model.js";

const account: BatchAccountInfo = {
  id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg-a/providers/Microsoft.Batch/batchAccounts/acct",
  name: "acct",
  subscriptionId: "00000000-0000-0000-0000-000000000001",
  resourceGroup: "rg-a",
  location: "westeurope",
  tags: {},
};

const text = fc.string({ unit: "grapheme", maxLength: 12 });
const fact = fc.option(fc.oneof(text, fc.integer(), fc.array(text, { maxLength: 3 })), { nil: null });
const reference = fc.record(
  { id: text, storeLocation: text, storeName: text, visibility: fc.array(fc.constantFrom("task", "startTask", "remoteUser"), { maxLength: 3 }) },
  { requiredKeys: ["id"] },
);
/** The account's fields as a pool may carry them: the account's own, cased otherwise, or others. */
const accountFields = fc.oneof(
  fc.constant({ accountId: account.id, accountName: account.name, subscriptionId: account.subscriptionId, resourceGroup: account.resourceGroup }),
  fc.constant({ accountId: account.id.toUpperCase(), accountName: account.name.toUpperCase(), subscriptionId: account.subscriptionId, resourceGroup: "RG-A" }),
  fc.record({ accountId: text, accountName: text, subscriptionId: text, resourceGroup: text }),
);
/** A pool as the Batch API's reader makes one: facts and configuration optional. */
const pool: fc.Arbitrary<PoolInfo> = fc
  .record({
    name: text,
    fields: accountFields,
    certificateReferences: fc.array(reference, { maxLength: 3 }),
    configuration: fc.option(fc.record({ properties: fc.dictionary(text, fc.jsonValue({ maxDepth: 3 })), identity: fc.option(fc.dictionary(text, text), { nil: undefined }) }), { nil: undefined }),
    facts: fc.option(fc.dictionary(fc.constantFrom("vmSize", "imageSku", "targetLowPriorityNodes", "applicationLicenses", "publicIpProvision"), fact), { nil: undefined }),
    disagreement: fc.option(text, { nil: undefined }),
  })
  .map(({ name, fields, certificateReferences, configuration, facts, disagreement }) => ({
    id: `${account.id}/pools/${name}`,
    name,
    ...fields,
    certificateReferences,
    ...(configuration ? { configuration } : {}),
    ...(facts ? { facts } : {}),
    ...(disagreement === undefined ? {} : { disagreement }),
    sources: ["batch-api" as const],
  }));

/** A pool of the account, as the Batch API's reader makes one, with `rest` after the account's fields. */
const accountPool = (name: string, rest: Pick<PoolInfo, "certificateReferences"> & Partial<PoolInfo>): PoolInfo => ({
  id: `${account.id}/pools/${name}`,
  name,
  accountId: account.id,
  accountName: account.name,
  subscriptionId: account.subscriptionId,
  resourceGroup: account.resourceGroup,
  ...rest,
});

/** A pool as plain data, in its field order (a configuration as what it reads). */
const plain = (p: PoolInfo) => JSON.parse(JSON.stringify(p)) as unknown;
/** What is held of a pool: its configuration only where it has references (what a kit rebuilds), after its other fields. */
const heldOf = ({ configuration, ...p }: PoolInfo): PoolInfo => (configuration && p.certificateReferences.length > 0 ? { ...p, configuration } : p);

describe("the Batch API's pools held while the reads go on", () => {
  it("reads back every pool as it was held, field for field and in the same order, a configuration only with references", () => {
    fc.assert(
      fc.property(fc.array(pool, { maxLength: 6 }), (pools) => {
        const store = new DeflatedStore();
        const back = poolsHeld(store, account, holdPools(store, pools));
        expect(back.map(plain)).toStrictEqual(pools.map(heldOf).map(plain));
        expect(back.map((p) => Object.keys(p))).toStrictEqual(pools.map(heldOf).map((p) => Object.keys(p)));
        // A configuration comes back compact (its text, parsed when read), not as parsed objects.
        for (const p of back) if (p.configuration) expect(Object.getPrototypeOf(p.configuration)).not.toBe(Object.prototype);
      }),
      { numRuns: 500 },
    );
  });

  it("gives a configuration that reads as the one held, and the account's own strings to its pools", () => {
    const configuration = { properties: { vmSize: "STANDARD_D2S_V3", certificates: [{ id: "c" }] }, identity: { type: "UserAssigned" } };
    const held = accountPool("p1", { certificateReferences: [{ id: "c" }], configuration });
    const store = new DeflatedStore();
    const [back] = poolsHeld(store, account, holdPools(store, [held]));
    expect(back?.configuration?.properties).toStrictEqual(configuration.properties);
    expect(back?.configuration?.identity).toStrictEqual(configuration.identity);
    expect(back?.accountId).toBe(account.id);
  });

  it("holds a list of like pools in a fraction of its JSON", () => {
    const pools = Array.from({ length: 5 }, (_, i) =>
      accountPool(`pool-${i}`, {
        certificateReferences: [{ id: `${account.id}/certificates/sha1-${"0a1b2c3d4e".repeat(4)}`, storeLocation: "LocalMachine", storeName: "My", visibility: ["task"] }],
        facts: { vmSize: "standard_d2s_v3", imagePublisher: "microsoft-azure-batch", imageOffer: "ubuntu-server-container", imageSku: "20-04-lts", imageId: null },
      }),
    );
    // Many accounts' lists, as the audit holds them: the store's bytes against their JSON.
    const store = new DeflatedStore();
    for (let i = 0; i < 200; i++) holdPools(store, pools);
    expect(store.bytes).toBeLessThan((200 * JSON.stringify(pools).length) / 4);
  });
});
