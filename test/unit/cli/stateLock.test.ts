// The state-folder lock on its own: held by a live process, taken over from a dead one, released only by its holder.
import { spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lockStateFolder, stateLockPath } from "../../../src/cli/stateLock.js";
import { removeDir, tempDir } from "../../support/auditRuns.js";

let dir: string;
let deadPid: number;
beforeAll(async () => {
  dir = await tempDir("state-lock");
  // A process that has ended: its pid is not alive (and is not reused within this test).
  const child = spawn(process.execPath, ["-e", ""]);
  deadPid = child.pid ?? 0;
  await new Promise((resolve) => child.once("exit", resolve));
});
afterAll(async () => {
  await removeDir(dir);
});

const me = (runId: string) => ({ runId, startedAt: "2026-11-27T08:00:00.000Z" });

describe("state-folder lock", () => {
  it("refuses a second holder while the first is alive, naming the first, and frees on release", async () => {
    const state = join(dir, "a", ".state");
    const first = await lockStateFolder(state, me("run-first"));
    expect("lock" in first).toBe(true);
    const second = await lockStateFolder(state, me("run-second"));
    expect(second).toEqual({ heldBy: { pid: process.pid, runId: "run-first", startedAt: "2026-11-27T08:00:00.000Z", host: hostname() } });
    if ("lock" in first) await first.lock.release();
    expect("lock" in (await lockStateFolder(state, me("run-third")))).toBe(true);
  });

  it("takes over a lock left by a killed CLI whose Azurite is gone too, but not while its Azurite still runs", async () => {
    const state = join(dir, "b", ".state");
    await lockStateFolder(state, me("scratch")); // creates the folder's parent
    await writeFile(stateLockPath(state), JSON.stringify({ pid: deadPid, storagePid: process.pid, runId: "run-killed", startedAt: "x", host: hostname() }));
    expect(await lockStateFolder(state, me("run-next"))).toMatchObject({ heldBy: { runId: "run-killed" } });

    await writeFile(stateLockPath(state), JSON.stringify({ pid: deadPid, storagePid: deadPid, runId: "run-killed", startedAt: "x", host: hostname() }));
    const next = await lockStateFolder(state, me("run-next"));
    expect("lock" in next).toBe(true);
    expect(JSON.parse(await readFile(stateLockPath(state), "utf8"))).toMatchObject({ pid: process.pid, runId: "run-next" });
  });

  it("counts a lock written on another host as held: its processes cannot be checked from here", async () => {
    const state = join(dir, "c", ".state");
    await lockStateFolder(state, me("scratch"));
    await writeFile(stateLockPath(state), JSON.stringify({ pid: deadPid, runId: "run-elsewhere", startedAt: "x", host: `${hostname()}-other` }));
    expect(await lockStateFolder(state, me("run-here"))).toMatchObject({ heldBy: { runId: "run-elsewhere" } });
  });

  it("does not remove a lock that another run has taken since", async () => {
    const state = join(dir, "d", ".state");
    const mine = await lockStateFolder(state, me("run-mine"));
    if (!("lock" in mine)) throw new Error("expected the lock");
    const other = JSON.stringify({ pid: process.pid, runId: "run-other", startedAt: "x", host: hostname() });
    await writeFile(stateLockPath(state), other);
    await mine.lock.release();
    expect(await readFile(stateLockPath(state), "utf8")).toBe(other);
  });
});
