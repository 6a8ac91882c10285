// The CLI as a user runs it: `kill -9` the whole process, run again, and every owner has exactly one digest. The CLI's
// simulator lives in the CLI process and keeps its mail store under <out>/emails; its Azurite is a child process
// under <out>/.state that must not outlive it, and the ledger in it must survive the kill.
import { execFile, spawn } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import type { TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { DEMO_OWNERS, countRecipients, demo, exactly, isolatedStorage, mailbox, removeDir, tempDir, writeSnapshot } from "../support/auditRuns.js";
import { SEND_CONCURRENCY } from "../../src/core/sendReminders.js";
import { hashKey, TableLedger } from "../../src/azure/tableLedger.js";
import { historyKey } from "../../src/core/digestPlan.js";

const run = promisify(execFile);
const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = join(ROOT, "dist/src/cli/main.js");
const outs: string[] = [];

beforeAll(async () => {
  // The same build as `npm start`: tsc alone would leave out the report page's stylesheet and browser script.
  await run("npm", ["run", "build:local", "--silent"], { cwd: ROOT });
  // A full build of app and simulator: minutes on a busy two-core machine, and no measure of the code under test.
}, 300_000);
afterAll(async () => {
  for (const out of outs) {
    for (const pid of await azuriteOn(out)) process.kill(pid, "SIGKILL");
    await removeDir(out);
  }
});

async function freshOut(name: string): Promise<string> {
  const out = await tempDir(name);
  outs.push(out);
  return out;
}

/** Azurite processes serving `<dir>/.state`. */
async function azuriteOn(dir: string): Promise<number[]> {
  const { stdout } = await run("ps", ["-eo", "pid=,args="]);
  return stdout
    .split("\n")
    .filter((line) => line.includes("azurite") && line.includes(`--location ${join(dir, ".state")}`))
    .map((line) => Number(line.trim().split(/\s+/)[0]));
}

async function noAzuriteLeftOn(dir: string): Promise<number[]> {
  let orphans = await azuriteOn(dir);
  for (let waited = 0; orphans.length > 0 && waited < 20_000; waited += 250) {
    await sleep(250);
    orphans = await azuriteOn(dir);
  }
  return orphans;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface CliProcess {
  child: ReturnType<typeof spawn>;
  exited: Promise<number | null>;
  output: () => string;
}

function cli(snapshot: string, out: string, options: { now?: string; args?: string[]; env?: Record<string, string> } = {}): CliProcess {
  // No storage settings: the CLI keeps its ledger in its own Azurite under <out>/.state.
  const env = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...options.env };
  const args = [MAIN, "--simulate", snapshot, "--out", out, "--now", options.now ?? "2026-11-26", "--quiet", ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function messageFiles(out: string): Promise<string[]> {
  const files = await readdir(join(out, "emails")).catch(() => [] as string[]);
  return files.filter((f) => /^[0-9a-f-]{36}\.json$/.test(f));
}

/**
 * Messages the simulated service accepted: it writes a message's file, then its operation store, then answers 202.
 * A CLI killed between the two leaves a file for a send the service never accepted (and reports NotFound), which a
 * later run rightly sends again; so only files of accepted operations count.
 */
async function acceptedMessageFiles(out: string): Promise<string[]> {
  const accepted = new Set((await mailbox(out)).operations.map((op) => op.id));
  return (await messageFiles(out)).filter((f) => accepted.has(f.slice(0, -".json".length)));
}

async function acceptedCount(out: string): Promise<number> {
  return (await mailbox(out)).operations.length;
}

async function until(what: string, cond: () => Promise<boolean> | boolean, proc: CliProcess): Promise<void> {
  for (let waited = 0; !(await cond()); waited += 25) {
    if (waited > 60_000) throw new Error(`${what} did not happen within a minute:\n${proc.output()}`);
    await sleep(25);
  }
}

/** Every owner's digest, counted twice over: the simulated service's operations and the message files it kept. */
async function expectOneDigestPerOwner(out: string): Promise<void> {
  expect((await mailbox(out)).perRecipient()).toEqual(exactly(DEMO_OWNERS));
  const stored = await Promise.all(
    (await acceptedMessageFiles(out)).map(async (f) => JSON.parse(await readFile(join(out, "emails", f), "utf8")) as { recipients: { to: { address: string }[] } }),
  );
  expect(countRecipients(stored.map((m) => m.recipients.to.map((t) => t.address)))).toEqual(exactly(DEMO_OWNERS));
}

/** The demo tenant with every send (and every status read) slowed, so a kill lands inside a send, not between runs. */
function slowMail(): TenantSnapshot {
  const slow = demo();
  slow.faults = [...(slow.faults ?? []), { pathPattern: "^/emails:send$", delayMs: 400 }, { pathPattern: "^/emails/operations/", method: "GET", delayMs: 150 }];
  return slow;
}

describe("the CLI killed while sending", () => {
  it("kill -9 in the middle of sending, then a second run: every owner has exactly one digest, and no Azurite is left behind", async () => {
    const out = await freshOut("cli-kill");
    const snapshot = await writeSnapshot(out, slowMail());

    const first = cli(snapshot, out);
    await until("a first message", async () => (await messageFiles(out)).length > 0, first);
    first.child.kill("SIGKILL");
    await first.exited;
    const sentBeforeKill = (await messageFiles(out)).length;
    expect(sentBeforeKill).toBeGreaterThanOrEqual(1);
    expect(sentBeforeKill).toBeLessThan(DEMO_OWNERS.length);

    // Its Azurite notices that the CLI is gone and exits by itself.
    expect(await noAzuriteLeftOn(out)).toEqual([]);

    const second = cli(snapshot, out);
    expect(await second.exited).toBe(2); // complete run; exit 2 only because the demo tenant has an unreadable account
    expect(second.output()).toMatch(/recovered from an interrupted run|Sent \d+ message/);
    // No owner has two. A send that was out when the process died and never reached the service (up to
    // SEND_CONCURRENCY of them) is looked up, not found, and planned again only after EMAIL_NOT_FOUND_GRACE_HOURS
    // (the service might still take it): its owner waits for the next day's run.
    const sameDay = (await mailbox(out)).perRecipient();
    expect([...sameDay.values()].every((n) => n === 1)).toBe(true);
    expect(sameDay.size).toBeGreaterThanOrEqual(DEMO_OWNERS.length - SEND_CONCURRENCY);
    if (sameDay.size < DEMO_OWNERS.length) {
      const nextDay = cli(snapshot, out, { now: "2026-11-27" });
      expect(await nextDay.exited, nextDay.output()).toBe(2);
    }

    await expectOneDigestPerOwner(out);
    expect(await azuriteOn(out)).toEqual([]);
  }, 120_000);

  // The same day, a lost intent is hidden by the service's repeatability (same operation id). The next day the ids
  // are new, so only an intent that reached the disk before its send keeps the owner from a second digest.
  const points: [string, (out: string, proc: CliProcess) => Promise<void>][] = [
    ["before any send (right after the audit)", (out, proc) => until("the end of the audit", () => proc.output().includes('"audit finished"'), proc)],
    ["right after the first message was accepted", (out, proc) => until("a first message", async () => (await acceptedCount(out)) >= 1, proc)],
    ["in the middle of sending (3 accepted)", (out, proc) => until("three messages", async () => (await acceptedCount(out)) >= 3, proc)],
    ["after the last digest was accepted", (out, proc) => until("every digest", async () => (await acceptedCount(out)) >= DEMO_OWNERS.length, proc)],
  ];
  it.each(points)(
    "kill -9 %s, with the CLI's own storage, then a run the next day: every owner has exactly one digest",
    async (_point, waitForPoint) => {
      const out = await freshOut("cli-kill-day");
      const snapshot = await writeSnapshot(out, slowMail());

      const first = cli(snapshot, out, { args: ["--verbose"] });
      await waitForPoint(out, first);
      first.child.kill("SIGKILL");
      await first.exited;
      expect(await noAzuriteLeftOn(out)).toEqual([]);

      const nextDay = cli(snapshot, out, { now: "2026-11-27" });
      expect(await nextDay.exited, nextDay.output()).toBe(2);
      await expectOneDigestPerOwner(out);
      expect(await azuriteOn(out)).toEqual([]);
    },
    60_000,
  );
});

describe("two CLIs at once on the same --out, each with its own storage", () => {
  it("two CLIs started at once on the same --out: exactly one digest per owner, and the second says which run holds the folder", async () => {
    const out = await freshOut("cli-two");
    const snapshot = await writeSnapshot(out, slowMail());

    const [a, b] = [cli(snapshot, out), cli(snapshot, out)];
    const codes = [await a.exited, await b.exited].sort();
    expect(codes, `${a.output()}\n---\n${b.output()}`).toEqual([1, 2]);
    const refused = [a, b].find((p) => p.child.exitCode === 1)!;
    expect(refused.output()).toMatch(/another batch-cert-auditor \(process \d+, run run-\S+, started \d{4}-\d\d-\d\dT[^)]*\) is using \S*\.state/);
    expect(refused.output()).toContain("--wait-for-lock");

    await expectOneDigestPerOwner(out);
    expect(await azuriteOn(out)).toEqual([]);
  }, 60_000);

  it("two CLIs started at once on the same --out with --wait-for-lock: the second waits for the first, then has nothing more to send", async () => {
    const out = await freshOut("cli-two-wait");
    const snapshot = await writeSnapshot(out, slowMail());

    const [a, b] = [cli(snapshot, out, { args: ["--wait-for-lock", "60"] }), cli(snapshot, out, { args: ["--wait-for-lock", "60"] })];
    expect([await a.exited, await b.exited], `${a.output()}\n---\n${b.output()}`).toEqual([2, 2]);

    await expectOneDigestPerOwner(out);
    expect(await azuriteOn(out)).toEqual([]);
  }, 90_000);
});

describe("a crashed run's lock, on storage shared with other runs", () => {
  let shared: LocalStorage;
  beforeAll(async () => {
    shared = await startAzurite();
  });
  afterAll(async () => {
    await shared?.stop();
  });

  it("kill -9 of a run, then a rerun within its lease: names the run that holds the lock, when it started, and that the lock frees itself within 60 seconds", async () => {
    const out = await freshOut("cli-lease");
    const snapshot = await writeSnapshot(out, slowMail());
    const env = isolatedStorage(shared.connectionString);

    const first = cli(snapshot, out, { env });
    await until("a first message", async () => (await messageFiles(out)).length >= 1, first);
    first.child.kill("SIGKILL");
    await first.exited;

    const rerun = cli(snapshot, out, { env });
    expect(await rerun.exited).toBe(1);
    expect(rerun.output()).toMatch(/run run-\S+ \(started \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\) holds the run lock on this storage/);
    expect(rerun.output()).toContain("if it was stopped or crashed, its lock frees itself within 60 seconds");
    expect(rerun.output()).toContain("--wait-for-lock <seconds>");
    expect(rerun.output()).not.toContain("already in progress");
  }, 60_000);
});

/** The CLI's ledger table, on its own files, with an Azurite of the test's own on them while no CLI runs. */
async function withCliLedger<T>(out: string, work: (table: TableClient) => Promise<T>): Promise<T> {
  const [tenant] = await readdir(join(out, ".state", "tenants"));
  const storage = await startAzurite({ location: join(out, ".state", "tenants", tenant as string) });
  try {
    return await work(TableClient.fromConnectionString(storage.connectionString, "batchcertaudit", { allowInsecureConnection: true }));
  } finally {
    await storage.stop();
  }
}

/** Each history of this build's ledger: the owner, its last milestone and how many overdue reminders it counts. */
const historiesOf = (out: string) =>
  withCliLedger(out, async (table) => {
    const rows: string[] = [];
    for await (const row of table.listEntities({ queryOptions: { filter: "PartitionKey ge 'history-live-' and PartitionKey lt 'history-live.'" } })) rows.push(`${String(row.owner)} ${String(row.lastMilestone)} ${String(row.overdueRemindersSent)}`);
    return rows.sort();
  });

// Day 1 tells every owner; day 8 (OVERDUE_EVERY_DAYS 7) tells them again; day 9 tells no one.
const DAYS_8_AND_9 = ["2026-12-03", "2026-12-04"];
let undisturbed: Promise<{ mail: Map<string, number>; histories: string[] }> | undefined;
/** The mail and the histories of days 1, 8 and 9 with nothing done to the ledger (made once, for every test below). */
const undisturbedDays = () =>
  (undisturbed ??= (async () => {
    const out = await freshOut("cli-undisturbed");
    const snapshot = await writeSnapshot(out, slowMail());
    for (const now of ["2026-11-26", ...DAYS_8_AND_9]) expect(await cli(snapshot, out, { now }).exited).toBe(2);
    return { mail: (await mailbox(out)).perRecipient(), histories: await historiesOf(out) };
  })());

/** Where day 8 is killed. */
const afterTheAudit = (_out: string, proc: CliProcess) => until("the end of the audit", () => proc.output().includes('"audit finished"'), proc);
const afterDay8sFirstMessage = (out: string, proc: CliProcess) => until("a message of day 8", async () => (await acceptedCount(out)) >= DEMO_OWNERS.length + 1, proc);

/** Kills day 8 at `point` (kill -9, leaving no Azurite behind), then runs day 8 and day 9 again. */
async function killDay8ThenRerun(snapshot: string, out: string, point: (out: string, proc: CliProcess) => Promise<void>): Promise<void> {
  const killed = cli(snapshot, out, { now: DAYS_8_AND_9[0], args: ["--verbose"] });
  await point(out, killed);
  killed.child.kill("SIGKILL");
  await killed.exited;
  expect(await noAzuriteLeftOn(out)).toEqual([]);
  for (const now of DAYS_8_AND_9) {
    const rerun = cli(snapshot, out, { now });
    expect(await rerun.exited, rerun.output()).toBe(2);
  }
}

/** The mail and the histories are those of the undisturbed days: every owner told again on day 8, no one twice. */
async function expectUndisturbed(out: string): Promise<void> {
  const expected = await undisturbedDays();
  expect((await mailbox(out)).perRecipient()).toEqual(expected.mail);
  expect([...expected.mail.values()].every((n) => n >= 2)).toBe(true);
  expect(await historiesOf(out)).toEqual(expected.histories);
}

describe("the CLI killed while it moves an earlier build's ledger rows, with its own storage", () => {
  /**
   * The CLI's ledger as a build before the spread kept it: every finding state in the partition "finding" and every
   * history in "history-live", nothing in the sixteen of each, no move recorded. Answers how many rows it moved back.
   */
  const asEarlierBuildKeptIt = (out: string) =>
    withCliLedger(out, async (table) => {
      let moved = 0;
      for await (const row of table.listEntities()) {
        const partition = row.partitionKey as string;
        const spread = /^(finding|history-live)-[0-9a-f]$/.exec(partition);
        if (partition === "meta" || spread) await table.deleteEntity(partition, row.rowKey as string);
        if (!spread) continue;
        const { etag: _etag, timestamp: _timestamp, ...data } = row;
        await table.createEntity({ ...data, partitionKey: spread[1] as string, rowKey: row.rowKey as string });
        moved++;
      }
      return moved;
    });

  // Day 8's first send moves the histories, and its tracking's save the finding states. A history lost in the move
  // would tell its owner again, or tell it as if for the first time: so the mail and the histories must be those of
  // the same days without a move.
  const points: [string, (out: string, proc: CliProcess) => Promise<void>][] = [
    ["right after the audit (the finding states' move is next)", afterTheAudit],
    ["right after the first message of day 8 was accepted (the histories were moved before its intent)", afterDay8sFirstMessage],
  ];
  it.each(points)(
    "kill -9 %s, then the same day and the next: the mail and the histories are those of the same days without a move",
    async (_point, waitForPoint) => {
      const out = await freshOut("cli-kill-move");
      const snapshot = await writeSnapshot(out, slowMail());
      expect(await cli(snapshot, out).exited).toBe(2);
      expect((await mailbox(out)).perRecipient()).toEqual(exactly(DEMO_OWNERS));
      expect(await asEarlierBuildKeptIt(out)).toBeGreaterThan(DEMO_OWNERS.length);

      await killDay8ThenRerun(snapshot, out, waitForPoint);

      await expectUndisturbed(out);
      expect(await azuriteOn(out)).toEqual([]);
    },
    180_000,
  );
});

describe("the CLI killed while it deletes what no run reads again, with its own storage", () => {
  const PLANTED = 400;
  const LONG_AGO = "2026-06-01";
  const gone = (i: number) => `pool-certificate-reference:/subscriptions/s/resourcegroups/rg/providers/microsoft.batch/batchaccounts/old/pools/p${i}`;

  /** Finding states resolved long ago and histories last moved long ago, of findings the tenant no longer has. */
  const plantOld = (out: string) =>
    withCliLedger(out, async (table) => {
      await new TableLedger(table, "live").saveFindingStates(
        Array.from({ length: PLANTED }, (_, i) => ({
          findingId: gone(i),
          kind: "pool-certificate-reference",
          resourceId: gone(i).slice(gone(i).indexOf(":") + 1),
          accountId: "/subscriptions/s/resourcegroups/rg/providers/microsoft.batch/batchaccounts/old",
          accountName: "old",
          subscriptionId: "s",
          severity: "critical",
          owners: [DEMO_OWNERS[i % DEMO_OWNERS.length] as string],
          firstSeen: "2026-03-01",
          lastSeen: "2026-05-31",
          resolvedOn: LONG_AGO,
        })),
      );
      // As the ledger writes them (src/azure/tableLedger.ts): in history-live-<first digit of the hashed key>.
      const byPartition = new Map<string, Record<string, unknown>[]>();
      for (let i = 0; i < PLANTED; i++) {
        const owner = DEMO_OWNERS[i % DEMO_OWNERS.length] as string;
        const rowKey = hashKey(historyKey(owner, gone(i)));
        const partitionKey = `history-live-${rowKey[0]}`;
        const row = { partitionKey, rowKey, owner, findingId: gone(i), firstNotifiedOn: LONG_AGO, lastNotifiedOn: LONG_AGO, lastMilestone: "overdue-1", overdueRemindersSent: 1, sent: JSON.stringify([{ on: LONG_AGO, milestone: "overdue-1" }]) };
        byPartition.set(partitionKey, [...(byPartition.get(partitionKey) ?? []), row]);
      }
      for (const rows of byPartition.values()) {
        for (let i = 0; i < rows.length; i += 100) await table.submitTransaction(rows.slice(i, i + 100).map((row) => ["upsert", row as { partitionKey: string; rowKey: string }, "Replace"]));
      }
    });

  /** How many of the planted states and histories are still in the CLI's ledger. */
  const oldLeft = (out: string) =>
    withCliLedger(out, async (table) => {
      let states = 0;
      let histories = 0;
      for await (const row of table.listEntities()) {
        if (!String(row.findingId ?? "").includes("/batchaccounts/old/")) continue;
        if (String(row.partitionKey).startsWith("finding-")) states++;
        if (String(row.partitionKey).startsWith("history-live-")) histories++;
      }
      return { states, histories };
    });

  const points: [string, (out: string, proc: CliProcess) => Promise<void>][] = [
    ["right after the audit (before or while tracking deletes the states)", afterTheAudit],
    ["right after the first message of day 8 was accepted (the stale histories go once the mail is out)", afterDay8sFirstMessage],
  ];
  it.each(points)(
    "kill -9 %s, then the same day and the next: every old row is gone, and the mail and the histories are those of the same days without them",
    async (_point, waitForPoint) => {
      const out = await freshOut("cli-kill-forget");
      const snapshot = await writeSnapshot(out, slowMail());
      expect(await cli(snapshot, out).exited).toBe(2);
      expect((await mailbox(out)).perRecipient()).toEqual(exactly(DEMO_OWNERS));
      await plantOld(out);
      expect(await oldLeft(out)).toEqual({ states: PLANTED, histories: PLANTED });

      await killDay8ThenRerun(snapshot, out, waitForPoint);

      expect(await oldLeft(out)).toEqual({ states: 0, histories: 0 });
      // A current history deleted by mistake would count its overdue reminders again from one.
      await expectUndisturbed(out);
    },
    // Seven CLI runs should it make the undisturbed days as well, each starting its Azurite on disk: minutes on a busy
    // machine.
    300_000,
  );
});
