// What the audit waits on per account while the reads go on, held as deflated JSON outside V8's heap.
//
// Why outside: V8 lets the heap grow to about four times what survived its last full collection before it collects
// again (its largest growing factor, taken when the old generation fills fast, as the Batch requests in flight make
// it), so every megabyte held through the reads costs about four of the peak. Bytes outside the heap count once, and
// deflated these lists (alike records, ids that share their account's prefix) take about a tenth of their JSON.
import { deflateRawSync, inflateRawSync } from "node:zlib";

/** A value in a DeflatedStore: its number there. */
export type Deflated<T> = number & { readonly __deflated?: T };

/**
 * Bytes for a store's values are taken in pieces of this size (a buffer per value would cost two heap objects, about
 * 150 bytes, for a value of a few hundred).
 */
const CHUNK_BYTES = 64 * 1024;

/** JSON values kept deflated, side by side in large buffers, until the store is let go. */
export class DeflatedStore {
  readonly #deflate: { level: number; chunkSize?: number };
  readonly #inflate: { chunkSize?: number };
  /**
   * `pieceBytes`: the size of the pieces zlib writes into (its chunkSize; 16 KB unless told), each outside the heap
   * until V8 collects it. For many small values read back in a burst: under 4 KB they come from Node's shared pool.
   */
  constructor(options: { pieceBytes?: number } = {}) {
    const pieces = options.pieceBytes === undefined ? {} : { chunkSize: options.pieceBytes };
    this.#deflate = { level: 1, ...pieces };
    this.#inflate = pieces;
  }

  readonly #chunks: Uint8Array[] = [];
  /** Bytes used of the last chunk. */
  #used = 0;
  /** Per value, three numbers: its chunk, where it starts there, and its length. */
  readonly #places: number[] = [];

  /** Keeps the value (as JSON keeps it: an undefined field is left out, as absent). */
  put<T>(value: T): Deflated<T> {
    // The fastest level: on small, alike lists it keeps most of the gain.
    const bytes = deflateRawSync(JSON.stringify(value), this.#deflate);
    let chunk = this.#chunks.at(-1);
    if (chunk === undefined || this.#used + bytes.length > chunk.length) {
      chunk = new Uint8Array(Math.max(CHUNK_BYTES, bytes.length));
      this.#chunks.push(chunk);
      this.#used = 0;
    }
    chunk.set(bytes, this.#used);
    this.#places.push(this.#chunks.length - 1, this.#used, bytes.length);
    this.#used += bytes.length;
    return this.#places.length / 3 - 1;
  }

  /** The value kept as `held`, read back (a new copy each time). */
  get<T>(held: Deflated<T>): T {
    const at = held * 3;
    const [chunk, start, length] = [this.#places[at], this.#places[at + 1], this.#places[at + 2]];
    if (chunk === undefined || start === undefined || length === undefined) throw new RangeError(`no value ${held} in this store`);
    return JSON.parse(inflateRawSync((this.#chunks[chunk] as Uint8Array).subarray(start, start + length), this.#inflate).toString("utf8")) as T;
  }

  /** Lets every value go (reading one after this throws). */
  clear(): void {
    this.#chunks.length = 0;
    this.#places.length = 0;
    this.#used = 0;
  }

  /** The bytes the store holds. */
  get bytes(): number {
    return this.#chunks.reduce((sum, c) => sum + c.length, 0);
  }
}

/** A list read a page at a time, in order: what a writer that goes through it once needs, not the list whole. */
export interface PagedList<T> {
  readonly length: number;
  /** The values, a page at a time, in order (each page a new copy). */
  pages(): Iterable<readonly T[]>;
}

/**
 * A list kept deflated in pages of `pageSize` values, each page one deflated value (alike records compress far better
 * together than one by one), and read back a page at a time or whole, a new copy each time. The entries' fields named
 * in `byReference` are not deflated: each is kept as it is (the same object: a migration kit, whose recipe is known by
 * its identity) and put back in its place on read, the entry's keys in their order.
 */
export class DeflatedList<T> implements PagedList<T> {
  readonly #store = new DeflatedStore();
  readonly #pages: Deflated<T[]>[] = [];
  readonly #pageSize: number;
  readonly #byReference: readonly string[];
  /** Per field kept by reference, its value per entry (absent where the entry has none). */
  readonly #kept: (unknown[] | undefined)[];
  #length = 0;
  /** Values pushed and not yet deflated: less than a page. */
  #pending: T[] = [];
  constructor(values: readonly T[], pageSize = 500, options: { byReference?: readonly string[] } = {}) {
    if (!(Number.isInteger(pageSize) && pageSize > 0)) throw new RangeError(`pageSize must be a whole number above 0 (${pageSize})`);
    this.#pageSize = pageSize;
    this.#byReference = options.byReference ?? [];
    this.#kept = this.#byReference.map(() => undefined);
    for (let start = 0; start < values.length; start += pageSize) this.#putPage(values.slice(start, start + pageSize));
  }

  /** A page made of `page`, which starts at the list's length. */
  #putPage(page: readonly T[]): void {
    const start = this.#length;
    this.#pages.push(this.#store.put<T[]>(this.#byReference.length === 0 ? (page as T[]) : page.map((value, i) => this.#setAside(value, start + i))));
    this.#length += page.length;
  }

  /**
   * Adds a value at the end: deflated with the values before it once they fill a page (until then it is held as it
   * is, and not read back). `done` deflates a page that is not full; a list is read once it is done.
   */
  push(value: T): void {
    if (this.#length % this.#pageSize !== 0) throw new Error("a deflated list grows only until its last page is short");
    this.#pending.push(value);
    if (this.#pending.length === this.#pageSize) {
      const page = this.#pending;
      this.#pending = [];
      this.#putPage(page);
    }
  }

  /** Deflates the values pushed that did not fill a page; the list is read as it is from here. Answers the list. */
  done(): this {
    if (this.#pending.length > 0) {
      const page = this.#pending;
      this.#pending = [];
      this.#putPage(page);
    }
    return this;
  }

  /** The entry with its fields kept by reference set aside: `true` in their place, so that its keys keep their order. */
  #setAside(value: T, index: number): T {
    if (value === null || typeof value !== "object") return value;
    let copy: Record<string, unknown> | undefined;
    this.#byReference.forEach((field, f) => {
      const kept = (value as Record<string, unknown>)[field];
      if (kept === undefined) return;
      copy ??= { ...(value as Record<string, unknown>) };
      copy[field] = true;
      (this.#kept[f] ??= [])[index] = kept;
    });
    return (copy ?? value) as T;
  }

  /** How many values it holds deflated (those pushed are counted once they fill a page, or once it is done). */
  get length(): number {
    return this.#length;
  }

  /** Whether every value pushed is deflated (`done`), so that it can be read. */
  get isDone(): boolean {
    return this.#pending.length === 0;
  }

  /** The values a page at a time, in order, as JSON read them back (an undefined field absent). */
  *pages(): Generator<T[]> {
    this.#assertDone();
    for (let p = 0; p < this.#pages.length; p++) yield this.#page(p);
  }

  /** Page `p` read back, the fields kept by reference in their places. */
  #page(p: number): T[] {
    const values = this.#store.get(this.#pages[p] as Deflated<T[]>);
    if (this.#byReference.length > 0) this.#putBack(values, p * this.#pageSize);
    return values;
  }

  #putBack(values: T[], first: number): void {
    this.#byReference.forEach((field, f) => {
      const kept = this.#kept[f];
      if (kept === undefined) return;
      values.forEach((value, i) => {
        const original = kept[first + i];
        if (original !== undefined) (value as Record<string, unknown>)[field] = original;
      });
    });
  }

  /** Every value, in order, as JSON read it back (an undefined field absent). */
  read(): T[] {
    const values: T[] = [];
    for (const page of this.pages()) for (const value of page) values.push(value);
    return values;
  }

  /** The values at these positions, in the order given, each page they are on read once (a new copy each time). */
  pick(positions: readonly number[]): T[] {
    this.#assertDone();
    const picked = new Array<T>(positions.length);
    const byPage = new Map<number, number[]>();
    positions.forEach((at, i) => {
      if (!Number.isInteger(at) || at < 0 || at >= this.#length) throw new RangeError(`no value at ${at} in a list of ${this.#length}`);
      const page = Math.floor(at / this.#pageSize);
      const wanted = byPage.get(page) ?? [];
      wanted.push(i);
      byPage.set(page, wanted);
    });
    for (const [page, wanted] of byPage) {
      const values = this.#page(page);
      for (const i of wanted) picked[i] = values[(positions[i] as number) - page * this.#pageSize] as T;
    }
    return picked;
  }

  #assertDone(): void {
    if (!this.isDone) throw new Error("a deflated list is read once it is done (values pushed are not deflated yet)");
  }

  /** Lets every value go (the list reads as empty after this). */
  clear(): void {
    this.#store.clear();
    this.#pages.length = 0;
    this.#pending = [];
    this.#kept.fill(undefined);
    this.#length = 0;
  }

  /** The bytes the list holds (its deflated pages; not the values kept by reference). */
  get bytes(): number {
    return this.#store.bytes;
  }
}

/** A list `holdArrayDeflated` holds, and the fields its reads share again. */
interface Held {
  list: DeflatedList<unknown>;
  share: readonly string[];
}

/** The lists `holdArrayDeflated` holds, by object and key, for writers that read them a page at a time. */
const held = new WeakMap<object, Map<string, Held>>();

/**
 * The list `holdArrayDeflated` holds at `object[key]`, to read a page at a time (reading the key itself inflates it
 * whole); undefined where it holds none there (the key holds a plain value).
 */
export function heldList<T = unknown>(object: object, key: string): DeflatedList<T> | undefined {
  return held.get(object)?.get(key)?.list as DeflatedList<T> | undefined;
}

/** The type of the entries of the array at `O[K]`. */
type EntryOf<O, K extends keyof O> = O[K] extends readonly (infer T)[] ? T : never;

/** The array at `object[key]` a page at a time: its held list's pages (`holdArrayDeflated`), or the array as one page. */
export function pagesOf<O extends object, K extends keyof O & string>(object: O, key: K): Iterable<readonly EntryOf<O, K>[]> {
  type T = EntryOf<O, K>;
  const list = heldList<T>(object, key);
  if (list) return list.pages();
  const value = object[key] as unknown;
  return Array.isArray(value) ? [value as T[]] : [];
}

/** The values of pages, one after another. */
export function* eachOf<T>(pages: Iterable<readonly T[]>): Generator<T> {
  for (const page of pages) yield* page;
}

/**
 * The entries of the array at `object[key]` at these positions, in the order given: read from its held list's pages
 * (`holdArrayDeflated`: only the pages they are on), or taken from the array.
 */
export function entriesAt<O extends object, K extends keyof O & string>(object: O, key: K, positions: readonly number[]): EntryOf<O, K>[] {
  type T = EntryOf<O, K>;
  const list = heldList<T>(object, key);
  if (list) return list.pick(positions);
  const values = object[key] as unknown as readonly T[];
  return positions.map((at) => {
    if (!(at in values)) throw new RangeError(`no value at ${at} in a list of ${values.length}`);
    return values[at] as T;
  });
}

/**
 * Holds the array at `object[key]` deflated (a DeflatedList) behind an enumerable accessor in its place, so the object
 * reads, spreads and serialises (JSON.stringify, the report's streamed JSON) as one with the array would. A read gives
 * the array inflated and frozen (only the array: a reader that changed an entry would lose the change once it is
 * collected), the same one for as long as something holds it (a weak reference: the store keeps none); assigning an
 * array holds that instead, as a plain value. The entries' fields named in `share` are shared again on each read, one
 * value per distinct JSON (inflated, every entry would hold a copy of what the array held once); those named in
 * `byReference` are kept as they are (DeflatedList, in pages of `pageSize`: 500 unless told). `heldList` gives the
 * list itself, to read a page at a time or by position; `copyWith` copies the object holding it still. An absent key,
 * or a value that is not an array, is left as it is. Answers the bytes held.
 */
export function holdArrayDeflated<O extends object>(object: O, key: keyof O & string, share: readonly string[] = [], options: { byReference?: readonly string[]; pageSize?: number } = {}): number {
  const value: unknown = object[key];
  if (!Array.isArray(value)) return 0;
  const list = new DeflatedList(value, options.pageSize ?? 500, options);
  hold(object, key, { list, share });
  return list.bytes;
}

/**
 * Holds `list` at `object[key]` as `holdArrayDeflated` holds the list it makes: for a list made a value at a time
 * (`push`, then `done`). The key keeps its place where the object has it.
 */
export function holdList<O extends object, K extends keyof O & string>(object: O, key: K, list: DeflatedList<EntryOf<O, K>>, share: readonly string[] = []): void {
  if (!list.isDone) throw new Error("a deflated list is held once it is done");
  hold(object, key, { list: list as DeflatedList<unknown>, share });
}

/** `object[key]` made the accessor of a held list (holdArrayDeflated). */
function hold(object: object, key: string, kept: Held): void {
  let last: WeakRef<readonly unknown[]> | undefined;
  const lists = held.get(object) ?? new Map<string, Held>();
  lists.set(key, kept);
  held.set(object, lists);
  Object.defineProperty(object, key, {
    enumerable: true,
    configurable: true,
    get() {
      let read = last?.deref();
      if (read === undefined) {
        read = Object.freeze(shareFields(kept.list.read(), kept.share));
        last = new WeakRef(read);
      }
      return read;
    },
    // The list is let go with the last object that holds it (a copy may hold it too: copyWith).
    set(replacement: unknown) {
      lists.delete(key);
      Object.defineProperty(object, key, { value: replacement, enumerable: true, configurable: true, writable: true });
    },
  });
}

/**
 * `{ ...object, ...changes }` for an object with string keys only (a report), its keys in the same order, but the
 * arrays `object` holds deflated (holdArrayDeflated) are held by the copy too, the same lists: a spread reads each of
 * them whole, and the copy would hold them inflated.
 */
export function copyWith<O extends object, K extends keyof O & string>(object: O, changes: Pick<O, K>): O {
  const copy: Record<string, unknown> = {};
  const lists = held.get(object);
  for (const key of Object.keys(object)) {
    const kept = lists?.get(key);
    if (Object.hasOwn(changes, key)) copy[key] = (changes as Record<string, unknown>)[key];
    else if (kept) {
      copy[key] = undefined;
      hold(copy, key, kept);
    } else copy[key] = (object as Record<string, unknown>)[key];
  }
  for (const key of Object.keys(changes)) if (!Object.hasOwn(copy, key)) copy[key] = (changes as Record<string, unknown>)[key];
  return copy as O;
}

/** The entries with each of their `fields` one value per distinct JSON across them. */
function shareFields<T>(entries: T[], fields: readonly string[]): T[] {
  if (fields.length === 0) return entries;
  const seen = new Map<string, unknown>();
  for (const entry of entries) {
    if (entry === null || typeof entry !== "object") continue;
    const record = entry as Record<string, unknown>;
    for (const field of fields) {
      const value = record[field];
      if (value === undefined) continue;
      const text = `${field}\u0000${typeof value === "string" ? value : JSON.stringify(value)}`;
      const first = seen.get(text);
      if (first === undefined) seen.set(text, value);
      else record[field] = first;
    }
  }
  return entries;
}
