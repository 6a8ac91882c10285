// A run reads the ledger's finding states once, as its audit begins, and works from that read: the audit's carried
// findings (what it could not check) and tracking alike. Over the simulated Azure and a real ledger in Azurite.
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { AuditError } from "../../src/core/errors.js";
import type { FindingState, ReminderLedger, RunLock } from "../../src/core/ports.js";
import type { SimulatedAzure } from "@batch-cert-auditor/simulated-azure";
import { composeRun, demo, isolatedStorage, runJob, sharedAzurite, startSimulatedAzure, succeeded } from "../support/auditRuns.js";

const DAY0 = "2026-11-26";
const azurite = sharedAzurite();
const simulators: SimulatedAzure[] = [];
afterEach(async () => {
  await Promise.all(simulators.splice(0).map((s) => s.close()));
});

/**
 * One run over a simulator of `tenant`, on the ledger of `env`, counting the reads of the live ledger's states. With
 * `lapseAfterAudit`, the run's lock is taken as usual and lapses as its audit ends (storage did not renew the lease).
 * With `statesAfterInventory`, the read of the states waits (up to 5 s) for the audit's inventory to start, then
 * answers (`read`) or fails (`fail`).
 */
async function runOn(tenant: ReturnType<typeof demo>, env: Record<string, string>, asOf: string, options: { lapseAfterAudit?: boolean; statesAfterInventory?: "read" | "fail" } = {}) {
  const { sim, accessKey } = await startSimulatedAzure(tenant);
  simulators.push(sim);
  const composition = composeRun(sim, accessKey, { ...env, SEND_MODE: "dry-run" });
  let reads = 0;
  let inventoryStarted: (signal: AbortSignal | undefined) => void = () => undefined;
  const inventorySignal = new Promise<AbortSignal | undefined>((resolve) => (inventoryStarted = resolve));
  let statesAfterInventory: boolean | undefined;
  const inventory = composition.job.inventory;
  const watched: typeof inventory = Object.assign(Object.create(inventory) as typeof inventory, {
    readInventory: (...args: Parameters<typeof inventory.readInventory>) => {
      inventoryStarted(args[2]?.signal);
      return inventory.readInventory(...args);
    },
  });
  const live = composition.job.ledgerFor("live");
  const counted: ReminderLedger = Object.assign(Object.create(live) as ReminderLedger, {
    findingStates: async (): Promise<FindingState[]> => {
      reads++;
      if (options.statesAfterInventory) {
        statesAfterInventory = await Promise.race([inventorySignal.then(() => true), delay(5000, false, { ref: false })]);
        if (options.statesAfterInventory === "fail") throw new Error("the table answered 503 Server Busy");
      }
      return live.findingStates();
    },
  });
  let audited = false;
  const lock: RunLock = {
    acquire: async (runId) => {
      const taken = await composition.job.lock.acquire(runId);
      return "heldBy" in taken ? taken : { release: () => taken.release(), held: () => taken.held() && !(options.lapseAfterAudit && audited) };
    },
  };
  const outcome = await runJob(composition, asOf, {
    inventory: watched,
    ledgerFor: (mode) => (mode === "live" ? counted : composition.job.ledgerFor(mode)),
    lock,
    onStageDone: (stage) => {
      if (stage === "audit") audited = true;
    },
  });
  const result = options.lapseAfterAudit || options.statesAfterInventory === "fail" ? undefined : succeeded(outcome);
  return { outcome, result, reads: () => reads, states: () => live.findingStates(), statesAfterInventory, inventorySignal };
}

/** The demo tenant with every account readable. */
function readableDemo(): ReturnType<typeof demo> {
  const tenant = demo();
  tenant.faults = [];
  return tenant;
}

/** The demo tenant whose account sandboxbatch1 answers its certificate list with the demo's fault (a 403). */
function sandboxCertificatesForbidden(): ReturnType<typeof demo> {
  const tenant = demo();
  tenant.faults = demo().faults!.map((f) => ({ ...f, pathPattern: "/batchAccounts/sandboxbatch1/certificates$" }));
  return tenant;
}

describe("the ledger's finding states", () => {
  it("are read once a run, and a run that carries what it could not check tracks from that read as from the table", async () => {
    const env = isolatedStorage(azurite.connectionString);
    const readable = readableDemo();
    const first = await runOn(readable, env, DAY0);
    expect(first.reads()).toBe(1);
    const seen = first.result!.report.findings.filter((f) => f.accountName === "sandboxbatch1").map((f) => f.id);
    expect(seen.length).toBeGreaterThan(0);

    // A week on, the account's certificates answer 403: its findings are carried from the states read as the audit began.
    const unreadable = sandboxCertificatesForbidden();
    const later = await runOn(unreadable, env, "2026-12-03");
    expect(later.reads()).toBe(1);
    const report = later.result!.report;
    expect(report.findings.filter((f) => f.accountName === "sandboxbatch1").map((f) => f.id).sort()).toEqual([...seen].sort());
    const carried = report.findings.filter((f) => f.notRechecked);
    expect(carried.length).toBeGreaterThan(0);
    for (const f of carried) expect(seen).toContain(f.id);
    for (const f of carried) expect(f.notRechecked?.lastSeen).toBe(DAY0);

    // Tracking moved the states on from that read (the ledger gives the day of the last tracking for those it did not write): first seen kept, last seen today for what was seen, and a carried
    // finding's last seen left at the day it was seen.
    const states = new Map((await later.states()).map((s) => [s.findingId, s]));
    expect(report.run?.resolvedSinceLastRun).toEqual([]);
    for (const f of report.findings) {
      const state = states.get(f.id);
      expect(state?.firstSeen).toBe(DAY0);
      expect(state?.lastSeen).toBe(f.notRechecked ? DAY0 : "2026-12-03");
      expect(state?.resolvedOn).toBeUndefined();
    }
  });

  it("are not tracked by a run whose lock lapsed during its audit: it fails, and writes no state from the read made before it", async () => {
    const env = isolatedStorage(azurite.connectionString);
    const readable = readableDemo();
    const first = await runOn(readable, env, DAY0);
    const before = await first.states();
    expect(before.length).toBeGreaterThan(0);

    const lapsed = await runOn(readable, env, "2026-12-03", { lapseAfterAudit: true });
    expect(lapsed.outcome.state).toBe("failed");
    expect(lapsed.outcome.state === "failed" && lapsed.outcome.error.message).toMatch(/lost its lock during the audit/);
    // Every state as the first run left it: none moved on to the later day.
    expect(await lapsed.states()).toStrictEqual(before);
  });

  it("are read while the audit's first reads go out, and the run still carries from them what it could not check", async () => {
    const env = isolatedStorage(azurite.connectionString);
    const readable = readableDemo();
    const first = await runOn(readable, env, DAY0, { statesAfterInventory: "read" });
    expect(first.statesAfterInventory).toBe(true);
    expect(first.reads()).toBe(1);
    // A week on, one account's certificates answer 403: its open findings are carried from the states read meanwhile.
    const unreadable = sandboxCertificatesForbidden();
    const later = await runOn(unreadable, env, "2026-12-03", { statesAfterInventory: "read" });
    expect(later.statesAfterInventory).toBe(true);
    const seen = first.result!.report.findings.filter((f) => f.accountName === "sandboxbatch1").map((f) => f.id);
    const report = later.result!.report;
    expect(report.findings.filter((f) => f.accountName === "sandboxbatch1").map((f) => f.id).sort()).toEqual([...seen].sort());
    const carried = report.findings.filter((f) => f.notRechecked);
    expect(carried.length).toBeGreaterThan(0);
    for (const f of carried) expect(f.notRechecked?.lastSeen).toBe(DAY0);
    expect(report.findings.map((f) => f.id).sort()).toEqual(first.result!.report.findings.map((f) => f.id).sort());
  });

  it("fail the run when their read fails during the audit: the audit's reads are stopped, nothing is tracked", async () => {
    const env = isolatedStorage(azurite.connectionString);
    const readable = readableDemo();
    const first = await runOn(readable, env, DAY0);
    const before = await first.states();

    const failing = await runOn(readable, env, "2026-12-03", { statesAfterInventory: "fail" });
    expect(failing.statesAfterInventory).toBe(true);
    expect(failing.outcome.state).toBe("failed");
    expect(failing.outcome.state === "failed" && failing.outcome.error.message).toMatch(/503 Server Busy/);
    const signal = await failing.inventorySignal;
    expect(signal?.aborted).toBe(true);
    // What stopped the reads is told to their scopes as the ledger, not as the run's time budget.
    expect(signal?.reason).toBeInstanceOf(AuditError);
    expect(signal?.reason).toMatchObject({ code: "LEDGER.UNAVAILABLE", message: expect.stringMatching(/ledger could not be read \(the table answered 503 Server Busy\)/) });
    expect(await failing.states()).toStrictEqual(before);
  });
});
