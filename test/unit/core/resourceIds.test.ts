// ARM ids compare case-insensitively (`toLowerCase` equal). The audit keys its per-account reads and coverage by them
// without lower-cased copies (src/core/ids.ts); these tests hold those helpers to `toLowerCase` itself.
import { mulberry32 as random } from "@batch-cert-auditor/simulated-azure";
import { describe, expect, it } from "vitest";
import { compareLowerCased, lowerCaseHash, ResourceIdMap, sameResourceId } from "../../../src/core/ids.js";

// ASCII letters in both cases and punctuation next to them in the table (@ [ ` {), and units whose lower case is
// ASCII (the Kelvin sign), longer (İ) or the same (ß, an emoji's halves).
const UNITS = ["a", "A", "z", "Z", "@", "[", "`", "{", "-", "/", "0", "_", "K", "k", "\u212a", "\u0130", "i", "\u00df", "\ud83d", "\ude00", "\u00c9", "\u00e9"];
const word = (next: () => number) => Array.from({ length: Math.floor(next() * 6) }, () => UNITS[Math.floor(next() * UNITS.length)]).join("");

interface Item {
  id: string;
  n: number;
}

describe("ARM ids compared case-insensitively without lower-cased copies", () => {
  it("sameResourceId agrees with toLowerCase on neighbouring random ids and on each id against a copy with its case flipped here and there", () => {
    const next = random(7);
    const words = Array.from({ length: 3000 }, () => word(next));
    const flip = (w: string) => Array.from(w, (c) => (next() < 0.5 ? c : c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join("");
    let equal = 0;
    for (let i = 0; i + 1 < words.length; i++) {
      const [a, b] = [words[i] as string, words[i + 1] as string];
      expect([a, b, sameResourceId(a, b)]).toEqual([a, b, a.toLowerCase() === b.toLowerCase()]);
      const flipped = flip(a);
      expect([a, flipped, sameResourceId(a, flipped)]).toEqual([a, flipped, a.toLowerCase() === flipped.toLowerCase()]);
      if (a.toLowerCase() === flipped.toLowerCase()) equal++;
    }
    // Most flipped copies are the same id, so the "same" answer is exercised as much as the "different" one.
    expect(equal).toBeGreaterThan(1000);
    expect(sameResourceId("/subscriptions/X/resourceGroups/RG", "/SUBSCRIPTIONS/x/RESOURCEGROUPS/rg")).toBe(true);
    expect(sameResourceId("a@", "a`")).toBe(false);
    expect(sameResourceId("k", "\u212a")).toBe(true);
  });

  it("compareLowerCased orders as the lower-cased strings do", () => {
    const next = random(11);
    const words = Array.from({ length: 3000 }, () => word(next));
    const sign = (n: number) => Math.sign(n);
    for (let i = 0; i + 1 < words.length; i++) {
      const [a, b] = [words[i] as string, words[i + 1] as string];
      const [la, lb] = [a.toLowerCase(), b.toLowerCase()];
      expect([a, b, sign(compareLowerCased(a, b))]).toEqual([a, b, la < lb ? -1 : la > lb ? 1 : 0]);
    }
    const sorted = [...words].sort(compareLowerCased).map((w) => w.toLowerCase());
    expect(sorted).toEqual(words.map((w) => w.toLowerCase()).sort());
  });

  it("finds, replaces and deletes a value by its id in any case, and lists each once in the order first set", () => {
    const map = new ResourceIdMap<Item>((item) => item.id);
    const ids = ["/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/one", "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/two", "/x/\u212aelvin"];
    ids.forEach((id, n) => map.set({ id, n }));
    expect(map.get(ids[0]!.toUpperCase())?.n).toBe(0);
    expect(map.get(ids[1]!.toLowerCase())?.n).toBe(1);
    expect(map.get("/X/KELVIN")?.n).toBe(2);
    expect(map.get("/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/three")).toBeUndefined();
    map.set({ id: ids[0]!.toUpperCase(), n: 10 });
    expect(map.size).toBe(3);
    expect([...map.values()].map((v) => v.n)).toEqual([10, 1, 2]);
    expect(map.delete(ids[1]!.toUpperCase())).toBe(true);
    expect(map.delete(ids[1]!)).toBe(false);
    expect(map.get(ids[1]!)).toBeUndefined();
    expect([...map.values()].map((v) => v.n)).toEqual([10, 2]);
    map.clear();
    expect([map.size, [...map.values()]]).toEqual([0, []]);
  });

  it("keeps apart ids whose hashes collide, through set, get, delete and a walk that deletes as it goes", () => {
    // 32-bit hashes of 200,000 ids: a few pairs collide (about 4.7 expected); the test finds them and uses them.
    const ids = Array.from({ length: 200_000 }, (_, i) => `/subscriptions/00000000-0000-4000-8000-${String(i).padStart(12, "0")}/resourceGroups/RG/providers/Microsoft.Batch/batchAccounts/a${i}`);
    const byHash = new Map<number, string>();
    const colliding: [string, string][] = [];
    for (const id of ids) {
      const hash = lowerCaseHash(id);
      const other = byHash.get(hash);
      if (other !== undefined) colliding.push([other, id]);
      else byHash.set(hash, id);
    }
    expect(colliding.length).toBeGreaterThan(0);
    const map = new ResourceIdMap<Item>((item) => item.id);
    ids.forEach((id, n) => map.set({ id, n }));
    expect(map.size).toBe(ids.length);
    for (const [a, b] of colliding) {
      expect([map.get(a.toUpperCase())?.id, map.get(b.toLowerCase())?.id]).toEqual([a, b]);
    }
    const [first, second] = colliding[0] as [string, string];
    // A value whose hash an earlier id took comes right after that one when listed.
    const small = new ResourceIdMap<Item>((item) => item.id);
    for (const [n, id] of [first, "/other", second].entries()) small.set({ id, n });
    expect([...small.values()].map((v) => v.id)).toEqual([first, second, "/other"]);
    expect(map.delete(second.toUpperCase())).toBe(true);
    expect([map.get(first)?.id, map.get(second)]).toEqual([first, undefined]);
    map.set({ id: second, n: -1 });
    let walked = 0;
    let undeleted = 0;
    const seen = new Set<string>();
    for (const item of map.values()) {
      seen.add(item.id);
      if (!map.delete(item.id)) undeleted++;
      walked++;
    }
    expect([walked, seen.size, undeleted, map.size]).toEqual([ids.length, ids.length, 0, 0]);
  });
});
