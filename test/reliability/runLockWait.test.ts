// The run lock seen from the CLI: a run that finds it held says who holds it, and --wait-for-lock waits for it.
// The lock is held here by the test, as another run on the same storage would hold it.
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { BlobRunLock } from "../../src/azure/blobRunLock.js";
import { runCliDetailed } from "../../src/cli/runCli.js";
import { DEMO_OWNERS, demo, exactly, isolatedStorage, mailbox, removeDir, tempDir, writeSnapshot } from "../support/auditRuns.js";

let storage: LocalStorage;
const dirs: string[] = [];
beforeAll(async () => {
  storage = await startAzurite();
});
afterAll(async () => {
  await storage.stop();
  for (const dir of dirs) await removeDir(dir);
});

async function setUp(name: string) {
  const out = await tempDir(name);
  dirs.push(out);
  const snapshot = await writeSnapshot(out, demo());
  const env = isolatedStorage(storage.connectionString);
  const lock = new BlobRunLock(BlobServiceClient.fromConnectionString(storage.connectionString), env.REPORT_CONTAINER ?? "");
  const held = await lock.acquire("run-held-by-another");
  if ("heldBy" in held) throw new Error("the lock should be free");
  return { out, snapshot, env, held };
}

async function cli(snapshot: string, out: string, env: Record<string, string>, waitForLock: string) {
  let stderr = "";
  const result = await runCliDetailed(
    { simulate: snapshot, out, now: "2026-11-26", format: "json", quiet: true, waitForLock },
    { env, stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) } },
  );
  return { ...result, stderr };
}

describe("--wait-for-lock", () => {
  it("--wait-for-lock waits for the run that holds the lock, then runs once it is released", async () => {
    const { out, snapshot, env, held } = await setUp("wait-lock");
    let releasedAt = 0;
    const release = new Promise<void>((resolve) =>
      setTimeout(() => {
        releasedAt = Date.now();
        void held.release().then(resolve);
      }, 2500),
    );

    const run = await cli(snapshot, out, env, "60");
    await release;
    expect(run.exitCode, run.stderr).toBe(2); // complete run; 2 only because the demo tenant has an unreadable account
    const sent = (await mailbox(out)).operations;
    expect((await mailbox(out)).perRecipient()).toEqual(exactly(DEMO_OWNERS));
    // Nothing was sent while the other run held the lock.
    for (const op of sent) expect(Date.parse(op.createdAt)).toBeGreaterThanOrEqual(releasedAt);
  });

  it("--wait-for-lock gives up after that many seconds, names the run that holds the lock, and sends nothing", async () => {
    const { out, snapshot, env, held } = await setUp("wait-lock-timeout");
    try {
      const run = await cli(snapshot, out, env, "1");
      expect(run.exitCode).toBe(1);
      expect(run.stderr).toMatch(/run run-held-by-another \(started [^)]+\) holds the run lock on this storage/);
      expect(run.stderr).toContain("its lock frees itself within 60 seconds");
      expect(run.stderr).toContain("still held after waiting 1 s");
      expect((await mailbox(out)).operations).toEqual([]);
    } finally {
      await held.release();
    }
  });

  it("--wait-for-lock takes a whole number of seconds: anything else is refused before any work", async () => {
    const out = await tempDir("wait-lock-bad");
    dirs.push(out);
    const run = await cli(await writeSnapshot(out, demo()), out, isolatedStorage(storage.connectionString), "ten");
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toContain('--wait-for-lock takes a whole number of seconds (got "ten")');
    expect((await mailbox(out)).operations).toEqual([]);
  });
});
