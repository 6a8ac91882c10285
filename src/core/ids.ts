// Identifier shapes shared by configuration, the CLI and the HTTP API, and the ARM ids the audit builds and indexes.

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A GUID in its usual 8-4-4-4-12 hex form (subscription ids, client ids), either case. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}

/**
 * The ARM id of a resource group. The inventory keeps the groups of Batch accounts and pools by it and owner resolution
 * looks them up by it, so both build it here (ARM ids compare case-insensitively: callers lower-case it to compare).
 */
export function resourceGroupId(subscriptionId: string, resourceGroup: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}`;
}

/**
 * `items` by lower-cased id, only those whose id is in `wanted` (the last of each, as a Map of them all would keep): at
 * 100,000 accounts an index of every account is tens of MB, and the ids asked about are usually a fraction of them.
 */
export function indexWanted<T>(items: Iterable<T>, idOf: (item: T) => string, wanted: ReadonlySet<string>): Map<string, T> {
  const index = new Map<string, T>();
  for (const item of items) {
    const key = idOf(item).toLowerCase();
    if (wanted.has(key)) index.set(key, item);
  }
  return index;
}

/**
 * Values by ARM id, compared case-insensitively, without a lower-cased copy of each id: keyed by a hash of the id's
 * lower-cased form, each value's id read back through `idOf` to tell apart ids that share a hash. At 100,000 accounts
 * a map keyed by lower-cased ids held 14 MB of key strings. Iterates in the order values were first set, but for a
 * value whose hash an earlier value's id took: it comes right after that one. `V` must not be an array (a hash shared
 * by several ids keeps them in one).
 */
export class ResourceIdMap<V extends object> {
  private readonly byHash = new Map<number, V | V[]>();
  private count = 0;

  constructor(private readonly idOf: (value: V) => string) {}

  get size(): number {
    return this.count;
  }

  get(id: string): V | undefined {
    const slot = this.byHash.get(lowerCaseHash(id));
    if (slot === undefined) return undefined;
    if (!Array.isArray(slot)) return sameResourceId(this.idOf(slot), id) ? slot : undefined;
    return slot.find((v) => sameResourceId(this.idOf(v), id));
  }

  /** Sets the value of its id (`idOf(value)`), replacing the value of the same id in any case. */
  set(value: V): void {
    const id = this.idOf(value);
    const hash = lowerCaseHash(id);
    const slot = this.byHash.get(hash);
    if (slot === undefined) {
      this.byHash.set(hash, value);
      this.count++;
    } else if (!Array.isArray(slot)) {
      if (sameResourceId(this.idOf(slot), id)) this.byHash.set(hash, value);
      else {
        this.byHash.set(hash, [slot, value]);
        this.count++;
      }
    } else {
      const at = slot.findIndex((v) => sameResourceId(this.idOf(v), id));
      if (at >= 0) slot[at] = value;
      else {
        slot.push(value);
        this.count++;
      }
    }
  }

  delete(id: string): boolean {
    const hash = lowerCaseHash(id);
    const slot = this.byHash.get(hash);
    if (slot === undefined) return false;
    if (!Array.isArray(slot)) {
      if (!sameResourceId(this.idOf(slot), id)) return false;
      this.byHash.delete(hash);
    } else {
      const at = slot.findIndex((v) => sameResourceId(this.idOf(v), id));
      if (at < 0) return false;
      slot.splice(at, 1);
      if (slot.length === 1) this.byHash.set(hash, slot[0] as V);
    }
    this.count--;
    return true;
  }

  clear(): void {
    this.byHash.clear();
    this.count = 0;
  }

  *values(): IterableIterator<V> {
    for (const slot of this.byHash.values()) {
      if (Array.isArray(slot)) yield* [...slot];
      else yield slot;
    }
  }
}

/** Whether two ARM ids name the same resource (ids compare case-insensitively: `toLowerCase` equal). */
export function sameResourceId(a: string, b: string): boolean {
  if (a === b) return true;
  if (a.length === b.length) {
    let ascii = true;
    for (let i = 0; i < a.length; i++) {
      const x = a.charCodeAt(i);
      const y = b.charCodeAt(i);
      if (x > 127 || y > 127) {
        ascii = false;
        break;
      }
      // Different units are the same only as the two cases of one letter (not "@" and "`", "[" and "{").
      if (x !== y && ((x | 32) !== (y | 32) || (x | 32) < 97 || (x | 32) > 122)) return false;
    }
    if (ascii) return true;
  }
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * FNV-1a over the UTF-16 units of `id.toLowerCase()`, without making that string when the id is ASCII, folded to 30 bits
 * so that it is a small integer on any V8 build (exported for tests). ASCII letters are lower-cased as they are read;
 * at the first non-ASCII unit the hash starts again over `id.toLowerCase()`, whose units it takes as they are.
 */
export function lowerCaseHash(id: string): number {
  let text = id;
  let lowered = false;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c > 127 && !lowered) {
      text = id.toLowerCase();
      lowered = true;
      hash = 0x811c9dc5;
      i = -1;
      continue;
    }
    if (c >= 65 && c <= 90) c += 32;
    hash = Math.imul(hash ^ c, 0x01000193);
  }
  return (hash ^ (hash >>> 30)) & 0x3fffffff;
}

/**
 * Orders two strings as their lower-cased forms compare by UTF-16 unit (`a.toLowerCase() < b.toLowerCase()`), without
 * making them while both are ASCII up to where they differ.
 */
export function compareLowerCased(a: string, b: string): number {
  const shorter = Math.min(a.length, b.length);
  for (let i = 0; i < shorter; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    // A non-ASCII unit may lower-case into several: what follows it no longer lines up.
    if (x > 127 || y > 127) {
      const la = a.toLowerCase();
      const lb = b.toLowerCase();
      return la < lb ? -1 : la > lb ? 1 : 0;
    }
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return x - y;
  }
  // Equal so far: what is left of the longer lower-cases into at least one unit each.
  return a.length - b.length;
}
