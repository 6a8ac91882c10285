import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fingerprint } from "../../../src/core/fingerprint.js";

/** FNV-1a 64 as first written, in BigInt arithmetic: the stored fingerprints were made this way. */
function reference(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, "0");
}

describe("fingerprint", () => {
  it("is FNV-1a 64 (published test vectors)", () => {
    // Test vectors from the FNV reference (isthe.com/chongo/tech/comp/fnv): "" and "a" and "foobar".
    expect(fingerprint("")).toBe("cbf29ce484222325");
    expect(fingerprint("a")).toBe("af63dc4c8601ec8c");
    expect(fingerprint("foobar")).toBe("85944171f73967e8");
  });

  it("gives the same value as the BigInt form for any text, so ledger rows written before still match", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (text) => {
        expect(fingerprint(text)).toBe(reference(text));
      }),
      { numRuns: 2000 },
    );
  });
});
