// The measured job runs in the memory the app ships with: the Flex Consumption instance size infra deploys
// (infra/main.bicep `instanceMemoryMB`, 2,048 MB by default; Learn "Azure Functions Flex Consumption plan hosting",
// instance memory). Node sizes V8's heap from the memory its container may use (process.constrainedMemory(), the
// cgroup limit): 1,048 MB of heap at 2,048 MB here, against 4,144 MB on this 24 GB machine unconstrained, and a
// heap that may grow four times larger collects garbage that much later. So the bench puts the job's process in a
// memory cgroup of the instance's size, when this machine lets it (cgroup v1 or v2, as root), and says when it
// could not. No heap limit either way: the limit is the instance's, as the worker would see it (unconstrained, where
// V8's heap limit is 2 GB or more, the app paces its heap itself: src/app/heapGrowth.ts).
//
// Whether the Functions host puts the worker in a cgroup of the instance's size cannot be checked from here, so the
// bench also measures the job unconstrained and prints both.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The instance memory infra deploys the app with (infra/main.bicep `param instanceMemoryMB int = ...`, passed to the Function App). */
export function shippedInstanceMemoryMb(): number {
  // From bench/ (sources, in tests) or dist/bench/ (the built bench).
  const file = ["../infra/main.bicep", "../../infra/main.bicep"].map((p) => fileURLToPath(new URL(p, import.meta.url))).find((f) => existsSync(f));
  if (!file) throw new Error("infra/main.bicep not found next to the bench");
  const bicep = readFileSync(file, "utf8");
  const match = /param\s+instanceMemoryMB\s+int\s*=\s*(\d+)/.exec(bicep);
  if (!match?.[1]) throw new Error("infra/main.bicep has no `param instanceMemoryMB int = <MB>`");
  return Number(match[1]);
}

export interface MemoryLimitedSpawn {
  /** For child_process.fork: a shell that joins the cgroup, then execs Node (so V8 starts inside the limit). */
  execPath: string;
  execArgv: string[];
  /** Removes the cgroup (after the process has exited). */
  release(): void;
}

let counter = 0;

/**
 * A way to start a Node process limited to `limitMb` of memory, or the reason there is none. Tries cgroup v2
 * (`memory.max`), then v1 (`memory.limit_in_bytes`).
 */
export function memoryLimitedSpawn(limitMb: number, nodeArgs: readonly string[]): MemoryLimitedSpawn | { unavailable: string } {
  const bytes = String(limitMb * 1024 * 1024);
  const name = `batch-cert-auditor-bench-${process.pid}-${++counter}`;
  const attempts = existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? [{ dir: join("/sys/fs/cgroup", name), limitFile: "memory.max" }]
    : [{ dir: join("/sys/fs/cgroup/memory", name), limitFile: "memory.limit_in_bytes" }];
  const reasons: string[] = [];
  for (const { dir, limitFile } of attempts) {
    try {
      mkdirSync(dir);
      try {
        writeFileSync(join(dir, limitFile), bytes);
      } catch (error) {
        rmdirSync(dir);
        throw error;
      }
      return {
        execPath: "/bin/sh",
        // $0 is the cgroup's process list; "$@" the node command line (fork appends the module path).
        execArgv: ["-c", 'echo $$ > "$0" && exec "$@"', join(dir, "cgroup.procs"), process.execPath, ...nodeArgs],
        release: () => {
          try {
            rmdirSync(dir);
          } catch {
            // Still busy (a child not yet reaped) or already gone: the kernel frees an empty cgroup's limit anyway.
          }
        },
      };
    } catch (error) {
      reasons.push(`${dir}: ${(error as Error).message}`);
    }
  }
  return { unavailable: `no memory cgroup could be made (${reasons.join("; ")}); needs root and a memory controller` };
}

/**
 * Moves a process this one started (the job's local Azurite) out of the bench's memory cgroup, back to the root one:
 * Azure Storage is not in the instance, and Azurite keeps every blob in memory, so at 100,000 accounts (a report of
 * several hundred MB, written twice) it would otherwise take the job's room. Says why it could not, or nothing.
 */
export function leaveMemoryLimit(pid: number | undefined): string | undefined {
  if (pid === undefined) return "no process id";
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, "utf8")
      .split("\n")
      .find((l) => l.includes("batch-cert-auditor-bench-"));
    if (!line) return undefined;
    const root = existsSync("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
    writeFileSync(join(root, "cgroup.procs"), String(pid));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

