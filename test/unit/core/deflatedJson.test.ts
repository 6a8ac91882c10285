// The store that keeps the audit's per-account lists deflated: every value read back as it was put, across the
// store's buffers, until the store is cleared.
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DeflatedList, DeflatedStore, copyWith, eachOf, entriesAt, heldList, holdArrayDeflated, pagesOf } from "../../../src/core/deflatedJson.js";
import { jsonChunks } from "../../../src/report/textChunks.js";

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

describe("the deflated list read a page at a time, with fields kept by reference", () => {
  /** A kit stands for what is known by its identity: a class whose fields are made on read. */
  class Kit {
    /** What deflate cannot shrink much, as a kit's pool body is larger than its finding. */
    readonly body = randomBytes(1_500).toString("base64");
    constructor(readonly pool: string) {}
    get commands(): string[] {
      return [`az batch pool create --id ${this.pool}`];
    }
    toJSON() {
      return { pool: this.pool, commands: this.commands, body: this.body };
    }
  }
  const findings = () =>
    Array.from({ length: 1_234 }, (_, i) => ({
      id: `pool:/subscriptions/s${i % 40}/pools/p${i}`,
      severity: i % 3 === 0 ? "critical" : "warning",
      ...(i % 4 === 0 ? {} : { migration: new Kit(`p${i}`) }),
      owners: [{ address: `owner${i % 9}@contoso.com` }],
    }));

  it("gives every value in order a page at a time, each field kept by reference the same object in its place", () => {
    const values = findings();
    const list = new DeflatedList(values, 100, { byReference: ["migration"] });
    expect(list.length).toBe(1_234);
    const pages = [...list.pages()];
    expect(pages.map((p) => p.length)).toStrictEqual([...Array.from({ length: 12 }, () => 100), 34]);
    const read = pages.flat();
    read.forEach((f, i) => {
      const original = values[i]!;
      // The kit itself, not a copy of its JSON; a finding without one has none (not `true`, the placeholder).
      expect(f.migration).toBe(original.migration);
      expect(Object.keys(f)).toStrictEqual(Object.keys(original));
    });
    expect(JSON.stringify(read)).toBe(JSON.stringify(values));
    expect(list.read()).toStrictEqual(read);
    // The kits are not in the deflated pages (deflated with them, the pages take about 1.7 MB).
    expect(list.bytes).toBeLessThan(new DeflatedList(values, 100).bytes / 10);
    list.clear();
    expect(list.length).toBe(0);
    expect([...list.pages()]).toStrictEqual([]);
  });

  it("picks values by position, in the order asked, across pages, each kept field the same object; refuses a position it lacks", () => {
    const values = findings();
    const list = new DeflatedList(values, 100, { byReference: ["migration"] });
    const positions = [1_233, 0, 517, 99, 100, 517, 4];
    const picked = list.pick(positions);
    expect(picked.map((f) => f.id)).toStrictEqual(positions.map((at) => values[at]?.id));
    picked.forEach((f, i) => expect(f.migration).toBe(values[positions[i]!]?.migration));
    expect(JSON.stringify(picked)).toBe(JSON.stringify(positions.map((at) => values[at])));
    expect(list.pick([])).toStrictEqual([]);
    for (const wrong of [-1, 1_234, 1.5]) expect(() => list.pick([3, wrong])).toThrow(RangeError);
    // From an object: its held list's, or its array's.
    const object = { findings: values.slice(0, 300) };
    expect(entriesAt(object, "findings", [299, 7])).toStrictEqual([values[299], values[7]]);
    holdArrayDeflated(object, "findings", [], { byReference: ["migration"] });
    expect(entriesAt(object, "findings", [299, 7]).map((f) => f.migration)).toStrictEqual([values[299]?.migration, values[7]?.migration]);
    expect(() => entriesAt({ findings: values.slice(0, 3) }, "findings", [3])).toThrow(RangeError);
  });

  it("a held array is read a page at a time by the streamed JSON, never through its key", () => {
    const plain = { asOf: "2026-12-06", findings: findings() };
    const held = { asOf: "2026-12-06", findings: [...plain.findings] };
    holdArrayDeflated(held, "findings", [], { byReference: ["migration"] });
    const list = heldList<(typeof held.findings)[number]>(held, "findings");
    expect(list?.length).toBe(1_234);
    // Every read of the key counted from here.
    const reads = { count: 0 };
    const accessor = Object.getOwnPropertyDescriptor(held, "findings")!;
    Object.defineProperty(held, "findings", { ...accessor, get: () => (reads.count++, accessor.get!.call(held)) });
    expect([...jsonChunks(held)].join("")).toBe(JSON.stringify(plain, null, 2));
    expect([...eachOf(pagesOf(held, "findings"))].map((f) => f.id)).toStrictEqual(plain.findings.map((f) => f.id));
    expect(reads.count).toBe(0);
    // Read through its key, it is the whole array, kits and all.
    expect(held.findings.map((f) => f.migration)).toStrictEqual(plain.findings.map((f) => f.migration));
    expect(reads.count).toBe(1);
  });

  it("an array assigned in a held one's place is no longer read as held", () => {
    const held = { findings: findings() };
    holdArrayDeflated(held, "findings");
    const replacement = findings().slice(0, 3);
    held.findings = replacement;
    expect(heldList(held, "findings")).toBeUndefined();
    expect([...pagesOf(held, "findings")]).toStrictEqual([replacement]);
    expect([...pagesOf({ findings: undefined }, "findings")]).toStrictEqual([]);
  });
});

describe("an array held deflated in its object", () => {
  const coverage = () => ({
    complete: false,
    accounts: Array.from({ length: 12_345 }, (_, i) => ({ id: `/subscriptions/s${i % 40}/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/a${i}`, status: i % 9 === 0 ? "failed" : "audited", reason: i % 9 === 0 ? "403" : undefined, pools: "batch-api" })),
    unjudged: [{ rule: "r1", accountId: "a", pools: 2, missing: ["vmSize"], reason: "not carried" }],
    problems: [] as string[],
  });

  it("reads, spreads and serialises as the plain object did, and holds far less than its JSON", () => {
    const plain = coverage();
    const held = coverage();
    const bytes = holdArrayDeflated(held, "accounts");
    expect(bytes).toBeGreaterThan(0);
    // Its store takes 64 KB at a time: the accounts' JSON is several of those.
    expect(bytes).toBeLessThan(JSON.stringify(plain.accounts).length / 4);
    expect(holdArrayDeflated(held, "unjudged")).toBeGreaterThan(0);
    expect(JSON.stringify(held)).toBe(JSON.stringify(plain));
    expect([...jsonChunks({ coverage: held })].join("")).toBe(JSON.stringify({ coverage: plain }, null, 2));
    expect(Object.keys(held)).toStrictEqual(Object.keys(plain));
    const spread = { ...held };
    expect(Object.getOwnPropertyDescriptor(spread, "accounts")?.value).toStrictEqual(JSON.parse(JSON.stringify(plain.accounts)));
    expect(held.accounts.filter((a) => a.status === "failed")).toHaveLength(plain.accounts.filter((a) => a.status === "failed").length);
  });

  it("gives the same frozen array while it is held, and holds an assigned one as it is", () => {
    const held = coverage();
    holdArrayDeflated(held, "accounts");
    const first = held.accounts;
    expect(held.accounts).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(() => first.push(first[0] as (typeof first)[number])).toThrow(TypeError);
    const replacement = [first[1] as (typeof first)[number]];
    held.accounts = replacement;
    expect(held.accounts).toBe(replacement);
    expect(Object.getOwnPropertyDescriptor(held, "accounts")).toMatchObject({ value: replacement, writable: true, enumerable: true });
  });

  it("shares the named fields again on read, one value per distinct JSON, and leaves the others apart", () => {
    const missing = ["currentNodeCommunicationMode"];
    const object = { unjudged: Array.from({ length: 3_000 }, (_, i) => ({ rule: `r${i % 2}`, accountId: `a${i}`, missing: i % 3 === 0 ? ["vmSize"] : missing, tags: ["t"] })) };
    const plain = JSON.parse(JSON.stringify(object)) as typeof object;
    holdArrayDeflated(object, "unjudged", ["missing"]);
    const read = object.unjudged;
    expect(read).toStrictEqual(plain.unjudged);
    expect(read[1]?.missing).toBe(read[2]?.missing);
    expect(read[0]?.missing).toBe(read[3]?.missing);
    expect(read[0]?.missing).not.toBe(read[1]?.missing);
    expect(read[1]?.tags).not.toBe(read[2]?.tags);
  });

  it("is copied with changes as a spread copies it, the copy holding the same list and the original untouched", () => {
    const plain = coverage();
    const held = coverage();
    holdArrayDeflated(held, "accounts");
    const list = heldList(held, "accounts");
    const copy = copyWith(held, { complete: true, problems: ["p"] });
    // The keys in their order, and what a spread would give.
    expect(Object.keys(copy)).toStrictEqual(Object.keys(plain));
    expect(JSON.stringify(copy)).toBe(JSON.stringify({ ...plain, complete: true, problems: ["p"] }));
    expect(heldList(copy, "accounts")).toBe(list);
    expect(held.complete).toBe(false);
    // A key the object did not have goes at the end, as in a spread.
    const extended = held as typeof held & { extra?: number };
    expect(Object.keys(copyWith(extended, { extra: 1 }))).toStrictEqual([...Object.keys(plain), "extra"]);
    // A held key among the changes is the value given, plain.
    const replaced = copyWith(held, { accounts: [] });
    expect(heldList(replaced, "accounts")).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(replaced, "accounts")).toMatchObject({ value: [], writable: true });
    // Assigning in the copy leaves the original's list held, and the reverse.
    copy.accounts = [];
    expect(heldList(copy, "accounts")).toBeUndefined();
    expect(heldList(held, "accounts")).toBe(list);
    expect(held.accounts).toHaveLength(plain.accounts.length);
    const second = copyWith(held, {});
    held.accounts = [];
    expect(heldList(second, "accounts")).toBe(list);
    expect(second.accounts).toHaveLength(plain.accounts.length);
  });

  it("is copied with the fields its reads share", () => {
    const object = { unjudged: Array.from({ length: 300 }, (_, i) => ({ rule: `r${i % 2}`, missing: ["vmSize"] })) };
    holdArrayDeflated(object, "unjudged", ["missing"]);
    const read = copyWith(object, {}).unjudged;
    expect(read[0]?.missing).toBe(read[1]?.missing);
  });

  it("leaves a key that holds no array as it is", () => {
    const object: { list?: number[]; text: string } = { text: "x" };
    expect(holdArrayDeflated(object, "list")).toBe(0);
    expect(holdArrayDeflated(object, "text")).toBe(0);
    expect(Object.getOwnPropertyDescriptor(object, "text")).toMatchObject({ value: "x", writable: true });
    expect("list" in object).toBe(false);
  });
});
