// Values put in order without all of them held as objects: an external merge sort whose runs are held deflated
// (./deflatedJson.ts). The audit sorts its findings so (into the report's order), and the daily job the page's two
// orders: at 100,000 accounts the 45,000 findings are tens of MB as objects, and a sort of them whole held them all.
import TinyQueue from "tinyqueue";
import { DeflatedList, eachOf } from "./deflatedJson.js";

export interface DeflatedSortOptions<T, K> {
  /**
   * What the order compares of a value: made once as the value is added, and once as it is read back to be merged.
   * Absent: each value's key is given with it (`add`) and kept beside its run, as it is (for keys that are not the
   * value's own: a position, a group's rank).
   */
  key?: (value: T) => K;
  compare: (a: K, b: K) => number;
  /** Values held as objects until they are sorted and deflated as a run (2,048 unless told). */
  runSize?: number;
  /** Values per deflated page of a run (64 unless told: a page's JSON stays under V8's largest young object). */
  pageSize?: number;
  /** Fields kept as they are, not deflated (DeflatedList's `byReference`: a migration kit, known by its identity). */
  byReference?: readonly string[];
}

interface Keyed<T, K> {
  key: K;
  value: T;
}

/** A run: its values deflated, and their keys when they are kept. */
interface Run<T, K> {
  values: DeflatedList<T>;
  keys: K[] | undefined;
}

/** A run being merged: its values a page at a time, and the one it is at. */
interface Cursor<T, K> extends Keyed<T, K> {
  run: number;
  /** The value's position in its run. */
  index: number;
  page: T[];
  at: number;
  pages: Iterator<T[]>;
}

/**
 * Values added one at a time and read back once, in order (equal keys in the order they were added: a stable sort).
 * Held as objects `runSize` at a time; each full run is sorted and deflated, and the runs are merged as they are read
 * back, a page of each at a time. Fewer values than a run are sorted as objects and never deflated.
 */
export class DeflatedSort<T, K> {
  readonly #key: ((value: T) => K) | undefined;
  readonly #compare: (a: K, b: K) => number;
  readonly #runSize: number;
  readonly #pageSize: number;
  readonly #byReference: readonly string[];
  #buffer: Keyed<T, K>[] = [];
  readonly #runs: Run<T, K>[] = [];
  #length = 0;
  #read = false;

  constructor(options: DeflatedSortOptions<T, K>) {
    this.#key = options.key;
    this.#compare = options.compare;
    this.#runSize = options.runSize ?? 2048;
    this.#pageSize = options.pageSize ?? 64;
    this.#byReference = options.byReference ?? [];
    for (const [name, value] of [["runSize", this.#runSize], ["pageSize", this.#pageSize]] as const) {
      if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`${name} must be a whole number above 0 (${value})`);
    }
  }

  /** How many values were added. */
  get length(): number {
    return this.#length;
  }

  /** How many runs are held deflated (0 while fewer values than a run were added). */
  get runs(): number {
    return this.#runs.length;
  }

  /** Adds a value; its key is given where the sort has no `key` function (and only there). */
  add(value: T, key?: K): void {
    if (this.#read) throw new Error("a deflated sort takes no value once it is read");
    if ((key === undefined) === (this.#key === undefined)) throw new Error(this.#key ? "a deflated sort with a key function takes no key" : "a deflated sort without a key function takes each value's key");
    this.#buffer.push({ key: key ?? (this.#key as (value: T) => K)(value), value });
    this.#length++;
    if (this.#buffer.length >= this.#runSize) this.#spill();
  }

  /** The values held as objects, sorted and deflated as a run. */
  #spill(): void {
    const sorted = this.#sortedBuffer();
    this.#runs.push({
      values: new DeflatedList(sorted.map((k) => k.value), this.#pageSize, { byReference: this.#byReference }),
      keys: this.#key ? undefined : sorted.map((k) => k.key),
    });
  }

  /** The values held as objects, in order; the sort holds them no longer. */
  #sortedBuffer(): Keyed<T, K>[] {
    const buffer = this.#buffer;
    this.#buffer = [];
    return buffer.sort((a, b) => this.#compare(a.key, b.key));
  }

  /**
   * Every value added so far, in no particular order: each run's read back (copies), then those not in a run yet.
   * Nothing may be added while it is read.
   */
  *unordered(): Generator<T> {
    for (const run of this.#runs) yield* eachOf(run.values.pages());
    for (const { value } of this.#buffer) yield value;
  }

  /**
   * Every value, in order, once: the runs are let go as they are read (all of them, should the reader stop early).
   * Nothing can be added from the call on.
   */
  sorted(): Generator<T> {
    if (this.#read) throw new Error("a deflated sort is read once");
    this.#read = true;
    return this.#merged();
  }

  *#merged(): Generator<T> {
    if (this.#runs.length === 0) {
      for (const { value } of this.#sortedBuffer()) yield value;
      return;
    }
    if (this.#buffer.length > 0) this.#spill();
    try {
      // The runs' next values, least first (tinyqueue: a binary heap); equal keys, the earlier run first.
      const heads = new TinyQueue<Cursor<T, K>>([], (a, b) => this.#compare(a.key, b.key) || a.run - b.run);
      this.#runs.forEach((run, index) => {
        const cursor = this.#advance({ run: index, index: -1, page: [], at: -1, pages: run.values.pages() } as unknown as Cursor<T, K>);
        if (cursor) heads.push(cursor);
      });
      for (let top = heads.pop(); top !== undefined; top = heads.pop()) {
        yield top.value;
        if (this.#advance(top)) heads.push(top);
        else {
          const run = this.#runs[top.run] as Run<T, K>;
          run.values.clear();
          run.keys = undefined;
        }
      }
    } finally {
      for (const run of this.#runs) run.values.clear();
      this.#runs.length = 0;
    }
  }

  /** The cursor moved to its run's next value (a page read when the last is done); undefined at the run's end. */
  #advance(cursor: Cursor<T, K>): Cursor<T, K> | undefined {
    cursor.at++;
    if (cursor.at >= cursor.page.length) {
      const next = cursor.pages.next();
      if (next.done) return undefined;
      cursor.page = next.value;
      cursor.at = 0;
    }
    cursor.index++;
    cursor.value = cursor.page[cursor.at] as T;
    cursor.key = this.#key ? this.#key(cursor.value) : ((this.#runs[cursor.run] as Run<T, K>).keys?.[cursor.index] as K);
    return cursor;
  }
}
