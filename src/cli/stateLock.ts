// One CLI at a time on a state folder (<out>/.state, the CLI's own Azurite). Two CLIs on the same folder would
// each start their own Azurite on it: two processes writing one set of files, and two blob leases that know
// nothing of each other, so both runs would send. The lock is a file next to the folder, created atomically
// (link(2) of a complete temp file fails if the name exists), naming the CLI process, its Azurite and its run.
// It is stale once neither process is alive (a `kill -9` leaves the file): the next CLI takes it over.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { link, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

export interface StateLockHolder {
  pid: number;
  /** The holder's Azurite, which may outlive it by a moment and must be gone before another starts. */
  storagePid?: number;
  runId: string;
  startedAt: string;
  host: string;
}

export interface StateLock {
  /** Records the holder's Azurite process in the lock, so that the lock stays held until that process is gone too. */
  setStoragePid(pid: number): Promise<void>;
  release(): Promise<void>;
}

export type StateLockAttempt = { lock: StateLock } | { heldBy: StateLockHolder | undefined };

/** The lock file for a state folder: next to it, so it is there before the folder is. */
export function stateLockPath(stateDir: string): string {
  return `${stateDir}.lock`;
}

export async function lockStateFolder(stateDir: string, me: { runId: string; startedAt: string }): Promise<StateLockAttempt> {
  const path = stateLockPath(stateDir);
  const holder: StateLockHolder = { pid: process.pid, runId: me.runId, startedAt: me.startedAt, host: hostname() };
  await mkdir(dirname(path), { recursive: true });
  // A few rounds: a stale lock is taken over, or another CLI takes it first and then it is held.
  for (let round = 0; round < 5; round++) {
    if (await createExclusive(path, holder)) return { lock: handle(path, holder) };
    const text = await readFile(path, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e)));
    if (text === undefined) continue; // released meanwhile
    const current = parse(text);
    if (current && !isStale(current)) return { heldBy: current };
    await takeOverStale(path, text);
  }
  const text = await readFile(path, "utf8").catch(() => "");
  return { heldBy: parse(text) };
}

function handle(path: string, holder: StateLockHolder): StateLock {
  let current = holder;
  return {
    setStoragePid: async (pid) => {
      current = { ...current, storagePid: pid };
      const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
      await writeFile(temp, JSON.stringify(current), "utf8");
      await rename(temp, path);
    },
    release: async () => {
      // Only our own lock: a lock file that names another run is not ours to remove.
      const text = await readFile(path, "utf8").catch(() => undefined);
      if (text !== undefined && parse(text)?.runId === current.runId) await unlink(path).catch(() => undefined);
    },
  };
}

async function createExclusive(path: string, holder: StateLockHolder): Promise<boolean> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(temp, JSON.stringify(holder), "utf8");
  try {
    await link(temp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * Moves a stale lock aside. If another CLI replaced it between our read and the move (so what moved is a live lock),
 * puts it back; link() refuses if yet another lock is there by then, which only a third contender could cause.
 */
async function takeOverStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.stale`;
  try {
    await rename(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  const moved = await readFile(aside, "utf8").catch(() => staleText);
  if (moved !== staleText) await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function parse(text: string): StateLockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<StateLockHolder>;
    if (typeof value.pid !== "number" || typeof value.runId !== "string") return undefined;
    return {
      pid: value.pid,
      ...(typeof value.storagePid === "number" ? { storagePid: value.storagePid } : {}),
      runId: value.runId,
      startedAt: String(value.startedAt ?? ""),
      host: String(value.host ?? ""),
    };
  } catch {
    return undefined;
  }
}

/**
 * Stale when its processes are gone. A lock written by another host (an --out on a shared drive) cannot be checked
 * from here, so it counts as held. An unreadable lock file was not written by this code (it writes whole files
 * only), so it is taken over.
 */
function isStale(holder: StateLockHolder): boolean {
  if (holder.host !== hostname()) return false;
  return !isAlive(holder.pid) && (holder.storagePid === undefined || !isAlive(holder.storagePid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
  return !isZombie(pid);
}

/**
 * A process that has ended but was not reaped still answers kill(pid, 0). The Azurite of a killed CLI is reparented
 * to PID 1, and in a container PID 1 often reaps nothing; such a process holds no files and serves nothing.
 */
function isZombie(pid: number): boolean {
  if (process.platform !== "linux") return false;
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may contain spaces or parentheses, so read after the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state === "Z" || state === "X";
  } catch {
    return false;
  }
}
