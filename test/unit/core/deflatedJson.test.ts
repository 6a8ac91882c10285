// The store that keeps the audit's per-account lists deflated: every value read back as it was put, across the
// store's buffers, until the store is cleared.
import { describe, expect, it } from "vitest";
import { DeflatedStore } from "../../../src/core/deflatedJson.js";

describe("the deflated store", () => {
  it("reads back every value as it was put, across its buffers and beside one larger than a buffer", () => {
    const store = new DeflatedStore();
    // Incompressible text, so that the values fill several 64 KB buffers; one of them alone is larger than a buffer.
    let seed = 7;
    const noise = (length: number) =>
      Array.from({ length }, () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return String.fromCharCode(33 + (seed % 90));
      }).join("");
    const values = Array.from({ length: 300 }, (_, i) => ({ i, text: noise(i === 150 ? 200_000 : 1_000), list: [i, null, "é"] }));
    const held = values.map((v) => store.put(v));
    expect(held[0]).toBe(0);
    expect(store.bytes).toBeGreaterThan(2 * 64 * 1024);
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
