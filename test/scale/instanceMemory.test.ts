// The bench runs the whole job in the memory the app ships with: a process started through memoryLimitedSpawn must
// see that limit (process.constrainedMemory) and V8 must size its heap from it, with no heap flag.
import { fork } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { memoryLimitedSpawn, shippedInstanceMemoryMb } from "../../bench/instanceMemory.js";

const probe = () => {
  const dir = mkdtempSync(join(tmpdir(), "instance-memory-"));
  const file = join(dir, "probe.mjs");
  writeFileSync(
    file,
    `import { getHeapStatistics } from "node:v8";
process.send({ constrainedMb: Math.round(process.constrainedMemory() / 1048576), heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 1048576), argv: process.execArgv }, () => process.exit(0));`,
  );
  return file;
};

function run(file: string, spawn: { execPath?: string; execArgv: string[] }): Promise<{ constrainedMb: number; heapLimitMb: number; argv: string[] }> {
  return new Promise((resolve, reject) => {
    const child = fork(file, [], { stdio: "inherit", ...spawn });
    child.once("message", (m) => resolve(m as { constrainedMb: number; heapLimitMb: number; argv: string[] }));
    child.once("exit", (code) => reject(new Error(`probe exited (${code}) before answering`)));
  });
}

describe("instance memory for the bench", () => {
  it("reads the instance size infra deploys", () => {
    const bicep = readFileSync(new URL("../../infra/main.bicep", import.meta.url), "utf8");
    expect(bicep).toContain(`param instanceMemoryMB int = ${shippedInstanceMemoryMb()}`);
  });

  const spawn = memoryLimitedSpawn(512, []);
  afterAll(() => {
    if (!("unavailable" in spawn)) spawn.release();
  });
  it.skipIf("unavailable" in spawn)("starts Node inside the limit, so V8 sizes its heap from it without a flag", async () => {
    if ("unavailable" in spawn) return;
    const file = probe();
    const limited = await run(file, spawn);
    expect(limited.constrainedMb).toBe(512);
    expect(limited.argv.some((a) => a.includes("max-old-space"))).toBe(false);
    const free = await run(file, { execArgv: [] });
    expect(limited.heapLimitMb).toBeLessThan(free.heapLimitMb);
  });
});
