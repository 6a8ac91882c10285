// Seeded randomness for everything the simulator makes up (tenants, latency, transient faults), so a run can be
// repeated exactly: the same seed gives the same sequence of draws.

/** mulberry32: a tiny, well-known seeded PRNG giving numbers in [0, 1); enough for test data and fault schedules. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw from two uniform ones (Box-Muller). */
export function standardNormal(random: () => number): number {
  // 1 - u keeps the logarithm away from 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
