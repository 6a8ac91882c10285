// The store that keeps the audit's per-account lists deflated: every value read back as it was put, across the
// store's buffers, until the store is cleared.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DeflatedStore } from "../../../src/core/deflatedJson.js";

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

  it("leaves out an undefined field, as JSON does, and lets every value go when cleared", () => {
    const store = new DeflatedStore();
    const held = store.put({ a: 1, b: undefined });
    expect(store.get(held)).toStrictEqual({ a: 1 });
    store.clear();
    expect(store.bytes).toBe(0);
    expect(() => store.get(held)).toThrow(RangeError);
  });
});
