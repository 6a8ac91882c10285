// The outbox drained through the day, end to end: the real SDK clients against the simulated Azure (Resource Graph,
// Batch, Communication Email), a real ledger and run lock in Azurite. The daily audit sends what fits EMAIL_PER_HOUR;
// the sending runs (SEND_SCHEDULE's, --send-only) send the rest at later hours, each owner once. The app's clock is a
// fake one that its waits move on, so hours pass in seconds; the simulator is given no send limit of its own (it
// counts real time), the app's limits are the ones under test.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSendOnly, type SendOnlyResult } from "../../src/app/runSendOnly.js";
import { generateTenant, type SimulatedAzure, type TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { composeRun, isolatedStorage, runJob, sharedAzurite, startSimulatedAzure, succeeded } from "../support/auditRuns.js";

const OWNERS = 230;
const DAY = "2026-11-26";
const OTHER_DAY = "2026-12-10";
const azurite = sharedAzurite();

function tenant(): TenantSnapshot {
  const snapshot = generateTenant({ seed: 14, subscriptions: 4, accounts: OWNERS, pools: OWNERS, certificateShare: 1, poolReferenceShare: 1 });
  let n = 0;
  for (const r of snapshot.resources) if (r.type === "Microsoft.Batch/batchAccounts") r.tags = { owner: `owner${++n}@contoso.com` };
  return snapshot;
}

let sim: SimulatedAzure;
let accessKey: string;
beforeAll(async () => {
  ({ sim, accessKey } = await startSimulatedAzure(tenant()));
});
afterAll(async () => {
  await sim?.close();
});

/** A clock the runs' waits move on, set to a time of day. */
function fakeClock(start: string) {
  let t = Date.parse(start);
  return {
    set: (iso: string) => void (t = Date.parse(iso)),
    now: () => new Date(t),
    sleep: async (ms: number) => void (t += ms),
  };
}

function perRecipient(sentBefore: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of sim.email.messages().slice(sentBefore)) for (const to of m.to) counts.set(to.toLowerCase(), (counts.get(to.toLowerCase()) ?? 0) + 1);
  return counts;
}

function sendOnly(env: Record<string, string>, clock: ReturnType<typeof fakeClock>, job: Partial<ReturnType<typeof composeRun>["job"]> = {}): Promise<SendOnlyResult> {
  const ctx = { ...composeRun(sim, accessKey, env).job, now: clock.now, sleep: clock.sleep, ...job };
  return runSendOnly(ctx, { runId: `send-${randomUUID().slice(0, 8)}`, trigger: "cli", sendMode: "live" });
}

function drained(result: SendOnlyResult) {
  if (result.state !== "succeeded") throw new Error(`expected the sending run to succeed, got ${result.state}${result.state === "failed" ? `: ${result.error.message}` : ""}`);
  return result.reminders;
}

describe("the outbox drained through the day", () => {
  it("sends 100 of 230 owners with the audit, the rest on later hours' sending runs, none twice; a rerun sends nothing", async () => {
    const env = { ...isolatedStorage(azurite.connectionString), EMAIL_PER_MINUTE: "30", EMAIL_PER_HOUR: "100", OWNER_SOURCES: "tags" };
    const before = sim.email.messages().length;
    const clock = fakeClock(`${DAY}T07:00:00Z`);

    const audit = succeeded(await runJob(composeRun(sim, accessKey, env), DAY, { now: clock.now, sleep: clock.sleep }));
    expect(audit.reminders.planned).toBe(OWNERS);
    expect(audit.reminders.sent).toBe(100);
    expect(audit.report.run?.reminders.backlog).toMatchObject({ messages: OWNERS - 100, owners: OWNERS - 100, neverTold: OWNERS - 100, limits: { perMinute: 30, perHour: 100 } });
    const predicted = audit.report.run?.reminders.backlog?.eta;
    expect(predicted).toMatch(/^2026-11-26T09:3/);

    // Half an hour later the audit's 100 are still within the hour: nothing more may go.
    clock.set(`${DAY}T07:30:00Z`);
    expect(drained(await sendOnly(env, clock))).toMatchObject({ sent: 0, deferred: OWNERS - 100 });

    clock.set(`${DAY}T08:30:00Z`);
    const nineRun = await sendOnly(env, clock);
    const nine = drained(nineRun);
    expect(nine).toMatchObject({ sent: 100, alreadySent: 0 });
    expect(nine.backlog).toMatchObject({ messages: OWNERS - 200, neverTold: OWNERS - 200 });
    // The sending run's status record: the drained audit's counts, what this run sent, and what is left.
    const { summary } = audit.report;
    expect(await composeRun(sim, accessKey, env).job.reports.status(nineRun.state === "succeeded" ? nineRun.runId : "")).toEqual({
      runId: expect.stringMatching(/^send-/),
      state: "succeeded",
      trigger: "cli",
      sendMode: "live",
      kind: "send-only",
      startedAt: `${DAY}T08:30:00.000Z`,
      finishedAt: expect.stringMatching(/^2026-11-26T08:/),
      progress: { phase: "done", done: 1, total: 1 },
      coverageComplete: audit.report.coverage.complete,
      counts: { findings: summary.findings, critical: summary.critical, warning: summary.warning, sent: 100, failedScopes: summary.accountsFailed + summary.subscriptionsFailed + audit.report.coverage.problems.length },
      backlog: nine.backlog,
      errors: [],
    });

    clock.set(`${DAY}T09:30:00Z`);
    const ten = drained(await sendOnly(env, clock));
    expect(ten).toMatchObject({ sent: OWNERS - 200, deferred: 0 });
    expect(ten.backlog).toMatchObject({ messages: 0, owners: 0 });
    // The audit's estimate held: the last message went within a few minutes of it.
    expect(Math.abs(clock.now().getTime() - Date.parse(predicted ?? ""))).toBeLessThan(5 * 60_000);

    clock.set(`${DAY}T10:30:00Z`);
    expect(drained(await sendOnly(env, clock))).toMatchObject({ sent: 0, planned: 0 });
    // The next day's audit finds everyone told yesterday: nothing is due (overdue reminders come every 7 days).
    clock.set("2026-11-27T07:00:00Z");
    expect(succeeded(await runJob(composeRun(sim, accessKey, env), "2026-11-27", { now: clock.now, sleep: clock.sleep })).reminders.sent).toBe(0);

    const counts = perRecipient(before);
    expect(counts.size).toBe(OWNERS);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  }, 240_000);

  it("of two sending runs at once, one holds the lock and the other sends nothing; nobody gets two", async () => {
    const env = { ...isolatedStorage(azurite.connectionString), EMAIL_PER_MINUTE: "30", EMAIL_PER_HOUR: "40", OWNER_SOURCES: "tags" };
    const before = sim.email.messages().length;
    // Another day than the test above: the simulator knows operation ids across tests, as the service would.
    const clock = fakeClock(`${OTHER_DAY}T07:00:00Z`);
    expect(succeeded(await runJob(composeRun(sim, accessKey, env), OTHER_DAY, { now: clock.now, sleep: clock.sleep })).reminders.sent).toBe(40);

    clock.set(`${OTHER_DAY}T08:30:00Z`);
    // The first run is held inside its first send, lock taken, while the second starts.
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let inside: () => void = () => undefined;
    const firstSent = new Promise<void>((resolve) => (inside = resolve));
    let held = false;
    const first = sendOnly(env, clock, {
      onMessage: async () => {
        if (held) return;
        held = true;
        inside();
        await gate;
      },
    });
    await firstSent;
    const second = await sendOnly(env, clock);
    release();
    const firstResult = await first;

    expect(second.state).toBe("already-running");
    expect(drained(firstResult).sent).toBe(40);
    const counts = perRecipient(before);
    expect(counts.size).toBe(80);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  }, 240_000);

  it("a sending run's status record says what became of it: nothing to drain, or failed with the reason (lock released)", async () => {
    const env = { ...isolatedStorage(azurite.connectionString), SEND_MODE: "dry-run", OWNER_SOURCES: "tags" };
    const clock = fakeClock(`${DAY}T07:00:00Z`);
    const reports = composeRun(sim, accessKey, env).job.reports;

    const none = await sendOnly(env, clock);
    expect(none.state).toBe("no-audit");
    const noneStatus = await reports.status(none.state === "no-audit" ? none.runId : "");
    expect(noneStatus).toMatchObject({ state: "succeeded", kind: "send-only", progress: { phase: "done", done: 1, total: 1 }, errors: [] });
    expect(noneStatus).not.toHaveProperty("counts");

    succeeded(await runJob(composeRun(sim, accessKey, env), DAY, { now: clock.now, sleep: clock.sleep }));
    clock.set(`${DAY}T08:30:00Z`);
    const broken = await sendOnly(env, clock, {
      ledgerFor: () => {
        throw new Error("the ledger is not there");
      },
    });
    expect(broken.state).toBe("failed");
    const brokenStatus = await reports.status(broken.state === "failed" ? broken.runId : "");
    expect(brokenStatus).toMatchObject({ state: "failed", kind: "send-only", finishedAt: `${DAY}T08:30:00.000Z`, errors: ["the ledger is not there"] });
    expect(brokenStatus).not.toHaveProperty("counts");
    // The lock went with it: the next sending run runs.
    expect((await sendOnly(env, clock)).state).toBe("succeeded");
  }, 240_000);
});
