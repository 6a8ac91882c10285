import { describe, expect, it } from "vitest";
import { StartQueue } from "../../../src/core/startQueue.js";

/** A task that runs until released by hand, recording when it started. */
function gate() {
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const task = (name: string) => () => {
    started.push(name);
    return new Promise<void>((resolve) => release.set(name, resolve));
  };
  const finish = async (name: string) => {
    release.get(name)?.();
    // Let the queue see the task end and start the next ones.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { started, task, finish };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe("StartQueue", () => {
  it("starts at most maxStarted at once, and at most maxPerKey of one key, so a slow key never holds all the room", async () => {
    const { started, task, finish } = gate();
    const queue = new StartQueue(4, 2);
    for (let i = 1; i <= 5; i++) queue.add("hot", task(`hot${i}`));
    queue.add("a", task("a1"));
    queue.add("b", task("b1"));
    queue.add("b", task("b2"));
    await settle();
    expect(started).toEqual(["hot1", "hot2", "a1", "b1"]);
    await finish("a1");
    // The room freed goes to b (hot already has its two).
    expect(started).toEqual(["hot1", "hot2", "a1", "b1", "b2"]);
    await finish("hot1");
    expect(started.at(-1)).toBe("hot3");
    for (const name of ["hot2", "b1", "b2", "hot3"]) await finish(name);
    expect(started).toEqual(["hot1", "hot2", "a1", "b1", "b2", "hot3", "hot4", "hot5"]);
  });

  it("takes keys in turn, one task per turn", async () => {
    const order: string[] = [];
    const queue = new StartQueue(1, 1);
    for (const [key, n] of [["x", 3], ["y", 2], ["z", 1]] as const) {
      for (let i = 1; i <= n; i++) queue.add(key, async () => void order.push(`${key}${i}`));
    }
    await queue.idle();
    expect(order).toEqual(["x1", "y1", "z1", "x2", "y2", "x3"]);
  });

  it("is idle at once with nothing added, after the last task otherwise, and gives a task's rejection", async () => {
    await new StartQueue(2, 2).idle();
    const queue = new StartQueue(2, 2);
    let done = 0;
    for (let i = 0; i < 5; i++) queue.add("k", async () => void done++);
    await queue.idle();
    expect(done).toBe(5);
    queue.add("k", () => Promise.reject(new Error("boom")));
    queue.add("k", async () => void done++);
    await expect(queue.idle()).rejects.toThrow("boom");
    expect(done).toBe(6);
  });
});
