// A short, stable fingerprint of a text: FNV-1a, 64 bits, as 16 hex digits. Pure (core does no I/O, and node:crypto
// would be one more thing core depends on); not a cryptographic hash, and it need not be one: a collision only makes
// a changed owner tag look unchanged, so an undeliverable mark stands until UNDELIVERABLE_RETRY_DAYS as before.
//
// Computed in four 16-bit limbs with plain numbers: the same value as the BigInt arithmetic it replaced (ledger rows
// hold these, so it must not change; a property test holds it to the BigInt form), without allocating a BigInt per
// byte. It runs for every owner tag on the way to every finding, about 185 MB of garbage per 10,000-account run before.
const utf8 = new TextEncoder();
/** FNV-1a 64-bit offset basis 0xcbf29ce484222325, low limb first. */
const OFFSET = [0x2325, 0x8422, 0x9ce4, 0xcbf2] as const;
/** The FNV 64-bit prime is 2^40 + 0x1b3. */
const PRIME_LOW = 0x1b3;

export function fingerprint(text: string): string {
  let [h0, h1, h2, h3] = OFFSET as readonly number[] as [number, number, number, number];
  for (const byte of utf8.encode(text)) {
    h0 ^= byte;
    // hash * (2^40 + 0x1b3) mod 2^64: each limb times 0x1b3, plus the hash shifted left by 40 bits (2 limbs + 8 bits).
    const t0 = h0 * PRIME_LOW;
    const t1 = h1 * PRIME_LOW + (t0 >>> 16);
    const t2 = h2 * PRIME_LOW + (h0 << 8) + (t1 >>> 16);
    const t3 = h3 * PRIME_LOW + (h1 << 8) + (t2 >>> 16);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  }
  return hex4(h3) + hex4(h2) + hex4(h1) + hex4(h0);
}

function hex4(limb: number): string {
  return limb.toString(16).padStart(4, "0");
}
