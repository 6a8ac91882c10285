// V8's heap growing factor, paced where V8 would let the heap grow fourfold (README, Decisions: "Where V8 would let the
// heap grow fourfold, the app paces it"; the figures are in docs/benchmarks.md, twenty-first pass).
//
// After each full collection V8 sets the next one's threshold at what survived times a factor, at most one it derives
// from the old generation's limit (V8's src/heap/heap-controller.cc, `MaxGrowingFactor`, in Node 22's V8 12.4, whose
// 64-bit builds do not compress pointers): from 1.3 at 256 MB to 2 just under 2 GB, and 4 from 2 GB on. A set
// `--heap-growing-percent` takes the place of that factor (1 + percent / 100). Node sizes the limit from the memory it
// sees: about 1,048 MB in the 2,048 MB Flex Consumption instance, which is left to V8's own factor, and 2 GB or more
// in a 4,096 MB instance or where the worker has no memory limit. The threshold below is on the whole heap's limit,
// which is the old generation's and the young generation's (a few tens of MB): an old generation just under 2 GB is
// paced where V8's factor would be about 2. The flag does nothing before the first full collection (V8's initial limit
// stands until then), and it overrides V8's own back-off under memory pressure (to 1.3 or less) too.
import { getHeapStatistics, setFlagsFromString } from "node:v8";

/** From about this heap limit on, V8 lets the heap grow to four times what survived its last full collection. */
export const LOOSE_HEAP_LIMIT_BYTES = 2 * 1024 ** 3;

/** The V8 flag for a HEAP_GROWING_PERCENT. */
export function heapGrowingFlag(percent: number): string {
  if (!Number.isInteger(percent) || percent <= 0) throw new RangeError(`not a heap growing percent: ${percent}`);
  return `--heap-growing-percent=${percent}`;
}

export interface Heap {
  /** V8's heap limit for this process, in bytes. */
  limitBytes: number;
  setFlags: (flags: string) => void;
}

const processHeap = (): Heap => ({ limitBytes: getHeapStatistics().heap_size_limit, setFlags: setFlagsFromString });

/**
 * Paces this process's heap at `percent` where V8 would let it grow fourfold (0: never). V8 reads the factor at every
 * full collection, so setting it after start takes effect from the next one. Node's documentation warns that a flag
 * set after start may do nothing, or worse; a test holds a fresh process that sets this one to a heap far below what
 * a factor of four gives. Each composition sets it again (the same value: the configuration is read once); 0 after a
 * set value does not undo it. Answers whether it set it.
 */
export function applyHeapGrowth(percent: number, heap: Heap = processHeap()): boolean {
  if (percent === 0 || heap.limitBytes < LOOSE_HEAP_LIMIT_BYTES) return false;
  heap.setFlags(heapGrowingFlag(percent));
  return true;
}
