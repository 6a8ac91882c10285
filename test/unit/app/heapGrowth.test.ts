import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { compose } from "../../../src/app/composition.js";
import { applyHeapGrowth, heapGrowingFlag, LOOSE_HEAP_LIMIT_BYTES } from "../../../src/app/heapGrowth.js";
import { silentLogger } from "../../../src/app/logger.js";
import { loadConfig } from "../../../src/config.js";

const run = promisify(execFile);

/**
 * A fresh Node process that sets the flag as applyHeapGrowth does (after start, through v8.setFlagsFromString), then
 * keeps a growing share of what it makes while the rest dies after surviving a few young collections (as a run's
 * requests in flight do), and prints the most heap V8 committed. Answers megabytes.
 */
async function heapAtMost(flag: string): Promise<number> {
  const script = `
    require("node:v8").setFlagsFromString(${JSON.stringify(flag)});
    const kept = []; const window = new Array(200000); let most = 0;
    for (let i = 0; i < 3000000; i++) {
      const o = { a: "x" + i, b: [i, i + 1], c: { d: i } };
      if (i % 20 === 0) kept.push(o);
      window[i % window.length] = o;
      if (i % 5000 === 0) most = Math.max(most, process.memoryUsage().heapTotal);
    }
    console.log(Math.round(most / 1e6), kept.length);`;
  const { stdout } = await run(process.execPath, ["-e", script]);
  const [mb = "", kept] = stdout.trim().split(" ");
  expect(kept).toBe("150000");
  return Number(mb);
}

/** Fake heaps of a given limit that record the flags set on them, in `set`. */
function recordingHeap() {
  const set: string[] = [];
  return { set, heap: (limitBytes: number) => ({ limitBytes, setFlags: (flags: string) => void set.push(flags) }) };
}

describe("the heap's pacing", () => {
  it("paces the heap only where V8 would let it grow fourfold, and not at all when told 0", () => {
    const { set, heap } = recordingHeap();
    // The 2,048 MB instance: Node gives V8 about 1,048 MB, where V8's own factor is at most 1.6; left alone.
    expect(applyHeapGrowth(50, heap(1048 * 1024 ** 2))).toBe(false);
    expect(applyHeapGrowth(50, heap(LOOSE_HEAP_LIMIT_BYTES - 1))).toBe(false);
    expect(set).toEqual([]);
    // A 4,096 MB instance, or a machine with no limit for the worker.
    expect(applyHeapGrowth(50, heap(LOOSE_HEAP_LIMIT_BYTES))).toBe(true);
    expect(applyHeapGrowth(120, heap(4144 * 1024 ** 2))).toBe(true);
    expect(applyHeapGrowth(0, heap(4144 * 1024 ** 2))).toBe(false);
    expect(set).toEqual(["--heap-growing-percent=50", "--heap-growing-percent=120"]);
    for (const bad of [0, -1, 1.5]) expect(() => heapGrowingFlag(bad)).toThrow(RangeError);
  });

  it("is set as the app is composed, from HEAP_GROWING_PERCENT, where the heap's limit calls for it", () => {
    const { set, heap } = recordingHeap();
    // Nothing is read or signed in to when composing: the adapters are only made.
    const composed = (env: Record<string, string>, limitBytes: number) =>
      compose({ config: loadConfig(env), log: silentLogger, storageConnectionString: "UseDevelopmentStorage=true", heap: heap(limitBytes) });
    composed({ HEAP_GROWING_PERCENT: "70" }, 4 * 1024 ** 3);
    composed({}, 4 * 1024 ** 3);
    composed({}, 1048 * 1024 ** 2);
    composed({ HEAP_GROWING_PERCENT: "0" }, 4 * 1024 ** 3);
    expect(set).toEqual(["--heap-growing-percent=70", "--heap-growing-percent=50"]);
  });

  it("set after the process has started, holds the heap far nearer what it keeps than a factor of four does", async () => {
    // Against a factor of four set the same way (V8's own where its heap limit is 2 GB or more), so the machine's
    // memory does not decide the comparison.
    const [paced, loose] = [await heapAtMost(heapGrowingFlag(50)), await heapAtMost(heapGrowingFlag(300))];
    expect(paced).toBeGreaterThan(0);
    expect(paced).toBeLessThan(loose * 0.75);
  }, 60_000);
});
