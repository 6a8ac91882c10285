// The CLI as a user runs it: `kill -9` the whole process in the middle of sending, run again, and every owner has
// exactly one digest. The CLI's simulator lives in the CLI process and keeps its mail store under <out>/emails;
// its Azurite is a child process that must not outlive it.
import { execFile, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_OWNERS, countRecipients, demo, exactly, mailbox, removeDir, tempDir, writeSnapshot } from "../support/auditRuns.js";

const run = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = join(ROOT, "dist/src/cli/main.js");
let out: string;

beforeAll(async () => {
  // The same build as `npm start`: tsc alone would leave out the report page's stylesheet and browser script.
  await run("npm", ["run", "build", "--silent"], { cwd: ROOT });
  out = await tempDir("cli-kill");
}, 120_000);
afterAll(async () => {
  for (const pid of await azuriteOn(out)) process.kill(pid, "SIGKILL");
  await removeDir(out);
});

/** Azurite processes serving `<dir>/.state`. */
async function azuriteOn(dir: string): Promise<number[]> {
  const { stdout } = await run("ps", ["-eo", "pid=,args="]);
  return stdout
    .split("\n")
    .filter((line) => line.includes("azurite") && line.includes(`--location ${join(dir, ".state")}`))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function cli(snapshot: string) {
  // No storage settings: the CLI keeps its ledger in its own Azurite under <out>/.state.
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" };
  const child = spawn(process.execPath, [MAIN, "--simulate", snapshot, "--out", out, "--now", "2026-11-26", "--quiet"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function messageFiles(): Promise<string[]> {
  const files = await readdir(join(out, "emails")).catch(() => [] as string[]);
  return files.filter((f) => /^[0-9a-f-]{36}\.json$/.test(f));
}

describe("the CLI killed while sending", () => {
  it("kill -9 in the middle of sending, then a second run: every owner has exactly one digest, and no Azurite is left behind", async () => {
    const slow = demo();
    slow.faults = [...(slow.faults ?? []), { pathPattern: "^/emails:send$", delayMs: 400 }];
    const snapshot = await writeSnapshot(out, slow);

    const first = cli(snapshot);
    for (let waited = 0; (await messageFiles()).length === 0; waited += 25) {
      if (waited > 60_000) throw new Error(`no message was sent within a minute:\n${first.output()}`);
      await sleep(25);
    }
    first.child.kill("SIGKILL");
    await first.exited;
    const sentBeforeKill = (await messageFiles()).length;
    expect(sentBeforeKill).toBeGreaterThanOrEqual(1);
    expect(sentBeforeKill).toBeLessThan(DEMO_OWNERS.length);

    // Its Azurite notices that the CLI is gone and exits by itself.
    let orphans = await azuriteOn(out);
    for (let waited = 0; orphans.length > 0 && waited < 20_000; waited += 250) {
      await sleep(250);
      orphans = await azuriteOn(out);
    }
    expect(orphans).toEqual([]);

    const second = cli(snapshot);
    expect(await second.exited).toBe(2); // complete run; exit 2 only because the demo tenant has an unreadable account
    expect(second.output()).toMatch(/recovered from an interrupted run|Sent \d+ message/);

    expect((await mailbox(out)).perRecipient()).toEqual(exactly(DEMO_OWNERS));
    const stored = await Promise.all(
      (await messageFiles()).map(async (f) => JSON.parse(await readFile(join(out, "emails", f), "utf8")) as { recipients: { to: { address: string }[] } }),
    );
    expect(countRecipients(stored.map((m) => m.recipients.to.map((t) => t.address)))).toEqual(exactly(DEMO_OWNERS));
    expect(await azuriteOn(out)).toEqual([]);
  }, 120_000);
});
