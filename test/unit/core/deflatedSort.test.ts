import { describe, expect, it } from "vitest";
import { DeflatedList, heldList, holdList } from "../../../src/core/deflatedJson.js";
import { DeflatedSort } from "../../../src/core/deflatedSort.js";

interface Row {
  id: number;
  group: string;
  kit?: { name: string };
}

/** Rows in a shuffled order (a fixed one, so a failure reads the same each time), groups repeating. */
function rows(count: number): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < count; i++) out.push({ id: i, group: `g${(i * 7919) % 13}` });
  // A fixed shuffle: a linear congruential sequence.
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as Row, out[i] as Row];
  }
  return out;
}

const byGroup = { key: (r: Row) => r.group, compare: (a: string, b: string) => a.localeCompare(b) };

describe("values sorted in deflated runs", () => {
  it.each([
    ["fewer than a run", 50, 64],
    ["exactly a run", 64, 64],
    ["many runs and a short one", 1000, 64],
    ["runs of one", 20, 1],
  ])("gives Array.prototype.sort's stable order: %s", (_name, count, runSize) => {
    const input = rows(count);
    const sort = new DeflatedSort<Row, string>({ ...byGroup, runSize, pageSize: 16 });
    for (const r of input) sort.add(r);
    expect(sort.length).toBe(count);
    expect(sort.runs).toBe(Math.floor(count / runSize));
    const expected = [...input].sort((a, b) => a.group.localeCompare(b.group));
    expect([...sort.sorted()]).toStrictEqual(expected);
  });

  it("holds no more than a run as objects: the rest is deflated, and read back as copies", () => {
    const input = rows(300);
    const sort = new DeflatedSort<Row, string>({ ...byGroup, runSize: 100 });
    for (const r of input) sort.add(r);
    expect(sort.runs).toBe(3);
    const out = [...sort.sorted()];
    expect(out.filter((r) => input.includes(r))).toHaveLength(0);
    expect(out.map((r) => r.id).sort((a, b) => a - b)).toStrictEqual(input.map((r) => r.id).sort((a, b) => a - b));
  });

  it("keeps fields by reference through its runs", () => {
    const kits = Array.from({ length: 40 }, (_, i) => ({ name: `kit${i}` }));
    const input = rows(40).map((r) => ({ ...r, kit: kits[r.id] as Row["kit"] }));
    const sort = new DeflatedSort<Row, string>({ ...byGroup, runSize: 7, byReference: ["kit"] });
    for (const r of input) sort.add(r);
    for (const r of sort.sorted()) expect(r.kit).toBe(kits[r.id]);
  });

  it("reads every value unordered before it is sorted, and is read once", () => {
    const input = rows(130);
    const sort = new DeflatedSort<Row, string>({ ...byGroup, runSize: 50 });
    for (const r of input) sort.add(r);
    expect([...sort.unordered()].map((r) => r.id).sort((a, b) => a - b)).toStrictEqual([...input.keys()]);
    expect([...sort.sorted()]).toHaveLength(130);
    expect(() => [...sort.sorted()]).toThrow(/read once/);
    expect(() => sort.add({ id: 1, group: "x" })).toThrow(/once it is read/);
  });

  it("refuses a run or page size that is not a whole number above 0", () => {
    expect(() => new DeflatedSort<Row, string>({ ...byGroup, runSize: 0 })).toThrow(/runSize/);
    expect(() => new DeflatedSort<Row, string>({ ...byGroup, pageSize: 0 })).toThrow(/pageSize/);
    expect(() => new DeflatedList([1, 2], 0.5)).toThrow(/pageSize/);
  });

  it("is read from the call on: nothing is added after, and a reader that stops early lets every run go", () => {
    const sort = new DeflatedSort<Row, string>({ ...byGroup, runSize: 10 });
    for (const r of rows(45)) sort.add(r);
    const reading = sort.sorted();
    expect(() => sort.add({ id: 99, group: "late" })).toThrow(/once it is read/);
    for (const _first of reading) break;
    expect(sort.runs).toBe(0);
  });
});

describe("a deflated list grown a value at a time", () => {
  it("reads as the list made whole, after it is done", () => {
    const values = Array.from({ length: 23 }, (_, i) => ({ i, text: `v${i}` }));
    const grown = new DeflatedList<{ i: number; text: string }>([], 5);
    for (const v of values) grown.push(v);
    expect(() => grown.read()).toThrow(/once it is done/);
    expect(grown.length).toBe(20);
    grown.done();
    expect(grown.length).toBe(23);
    expect(grown.read()).toStrictEqual(new DeflatedList(values, 5).read());
    expect(grown.pick([22, 0, 5])).toStrictEqual([values[22], values[0], values[5]]);
    expect(() => grown.push({ i: 23, text: "late" })).toThrow(/last page is short/);
  });

  it("is held in an object's place once it is done, and only then", () => {
    const object = { list: [] as number[] };
    const list = new DeflatedList<number>([], 4);
    for (let i = 0; i < 10; i++) list.push(i);
    expect(() => holdList(object, "list", list)).toThrow(/once it is done/);
    holdList(object, "list", list.done());
    expect(heldList(object, "list")).toBe(list);
    expect(object.list).toStrictEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(JSON.stringify(object)).toBe('{"list":[0,1,2,3,4,5,6,7,8,9]}');
  });
});

describe("values sorted by keys given with them", () => {
  it("keeps each key beside its run, and a value may come twice under two keys", () => {
    const values = rows(200);
    const sort = new DeflatedSort<Row, [number, number]>({ compare: (a, b) => a[0] - b[0] || a[1] - b[1], runSize: 33 });
    values.forEach((r, i) => {
      sort.add(r, [r.id % 3, i]);
      if (r.id % 5 === 0) sort.add(r, [-1, i]);
    });
    const expected = [
      ...values.filter((r) => r.id % 5 === 0),
      ...[0, 1, 2].flatMap((g) => values.filter((r) => r.id % 3 === g)),
    ];
    expect([...sort.sorted()]).toStrictEqual(expected);
    expect(() => new DeflatedSort<Row, string>(byGroup).add(values[0] as Row, "k")).toThrow(/takes no key/);
    expect(() => new DeflatedSort<Row, string>({ compare: byGroup.compare }).add(values[0] as Row)).toThrow(/takes each value's key/);
  });
});
