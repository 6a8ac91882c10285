// The store that keeps the audit's per-account lists deflated: every value read back as it was put, across the
// store's buffers, until the store is cleared.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DeflatedList, DeflatedStore } from "../../../src/core/deflatedJson.js";

describe("the deflated store", () => {
  it("reads back every value as it was put, across its buffers and beside one larger than a buffer", () => {
    const store = new DeflatedStore();
    // Random text, which deflate cannot shrink much: the values fill several 64 KB buffers, and one alone is larger than a buffer.
    const values = Array.from({ length: 300 }, (_, i) => ({ i, text: randomBytes(i === 150 ? 100_000 : 600).toString("base64"), list: [i, null, "é"] }));
    const held = values.map((v) => store.put(v));
    expect(held[0]).toBe(0);
    // The large value (about 100 KB deflated) took a buffer of its own size beside the 64 KB ones.
    expect(store.bytes % (64 * 1024)).not.toBe(0);
    expect(held.map((h) => store.get(h))).toStrictEqual(values);
  });

  it("reads back values larger than the pieces zlib was told to write into, both ways", () => {
    const store = new DeflatedStore({ pieceBytes: 64 });
    const values = [{ text: randomBytes(5_000).toString("base64") }, { text: "short" }, { list: Array.from({ length: 500 }, (_, i) => i) }];
    expect(values.map((v) => store.put(v)).map((h) => store.get(h))).toStrictEqual(values);
  });

  it("leaves out an undefined field, as JSON does, and lets every value go when cleared", () => {
    const store = new DeflatedStore();
    const held = store.put({ a: 1, b: undefined });
    expect(store.get(held)).toStrictEqual({ a: 1 });
    store.clear();
    expect(store.bytes).toBe(0);
    expect(() => store.get(held)).toThrow(RangeError);
  });
});

describe("the deflated list", () => {
  it("reads back every value in order across its pages, the last one short, as often as asked, until cleared", () => {
    const values = Array.from({ length: 6_203 }, (_, i) => ({ findingId: `pool:/subscriptions/${i}/resourcegroups/rg/providers/microsoft.batch/batchaccounts/account${i}`, owners: [`owner${i % 7}@contoso.com`], resolvedOn: i % 3 === 0 ? "2026-11-26" : undefined }));
    const list = new DeflatedList(values, 500);
    const asJson = values.map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    expect(list.read()).toStrictEqual(asJson);
    // A new copy each time: changing one read changes nothing the next reads.
    const first = list.read();
    (first[0] as { owners: string[] }).owners.push("someone@contoso.com");
    expect(list.read()).toStrictEqual(asJson);
    // Alike records in pages (its buffers are 64 KB each): far smaller than their JSON.
    expect(list.bytes).toBeLessThan(JSON.stringify(values).length / 4);
    list.clear();
    expect(list.read()).toStrictEqual([]);
    expect(new DeflatedList([]).read()).toStrictEqual([]);
  });
});
