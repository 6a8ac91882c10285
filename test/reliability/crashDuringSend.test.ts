// Scenario 5: the process killed at each point of the send path. The next run, with fresh objects over the same
// ledger table and the same mail service, sends exactly what is missing: never a duplicate, never a loss.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { connectStorage } from "../../src/azure/storage.js";
import { TableLedger } from "../../src/azure/tableLedger.js";
import { addDays } from "../../src/core/dates.js";
import type { OutboxEntry } from "../../src/core/ports.js";
import { SEND_CONCURRENCY } from "../../src/core/sendReminders.js";
import type { SimulatedAzure } from "@batch-cert-auditor/simulated-azure";
import { DEMO_OWNERS, composeRun, countRecipients, demo, exactly, isolatedStorage, runJob, startSimulatedAzure, succeeded } from "../support/auditRuns.js";
import { CRASH_POINTS, CrashingLedger, CrashingSender, DoomedProcess, ProcessKilled, type CrashPoint } from "../support/crashingPorts.js";

const DAY0 = "2026-11-26";
const CONTACT = "cio@contoso.com";
const ADMIN = "batch-admins@contoso.com";

let azurite: LocalStorage;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

/** One tenant, one mail service and one ledger table that outlive the processes that run against them. */
async function world(settings: Record<string, string> = {}) {
  const { sim, accessKey } = await startSimulatedAzure(demo());
  const env: Record<string, string> = { ...isolatedStorage(azurite.connectionString), EMAIL_PER_MINUTE: "10000", EMAIL_PER_HOUR: "1000000", ...settings };
  /** A run in a fresh process; it dies at `crash` if given. */
  const run = async (asOf: string, crash?: { point: CrashPoint; nth: number }) => {
    const composition = composeRun(sim, accessKey, env);
    const process = new DoomedProcess(crash);
    const sender = composition.job.sender;
    if (!sender) throw new Error("no sender composed");
    const result = await runJob(composition, asOf, {
      ledgerFor: (mode) => new CrashingLedger(composition.job.ledgerFor(mode), process),
      sender: new CrashingSender(sender, process),
    });
    if (process.killed) expect(result.state === "failed" && result.error).toBeInstanceOf(ProcessKilled);
    else succeeded(result);
    return { result, killed: process.killed };
  };
  const outbox = () => new TableLedger(connectStorage({ connectionString: azurite.connectionString }).table(env.LEDGER_TABLE ?? "")).outbox();
  return { sim, run, outbox };
}

/**
 * No duplicate: every accepted message is recorded as sent in the ledger, and no (owner, finding, milestone) was
 * delivered twice (escalation copies and admin summaries: one per recipient, owner and day).
 */
function expectNoDuplicateAndNothingUnrecorded(sim: SimulatedAzure, outbox: OutboxEntry[]): void {
  const entries = new Map(outbox.map((e) => [e.operationId, e]));
  const delivered = new Set<string>();
  for (const message of sim.email.messages()) {
    const entry = entries.get(message.operationId);
    expect(entry, `accepted message ${message.subject} to ${message.to.join()} has no ledger entry`).toBeDefined();
    if (!entry) continue;
    expect(entry.status).toBe("sent");
    const keys =
      entry.kind === "digest"
        ? entry.items.map((i) => `${entry.owner.toLowerCase()}|${i.findingId}|${i.milestone}`)
        : [`${entry.kind}|${entry.recipient.toLowerCase()}|${entry.asOf}|${entry.kind === "escalation" ? message.subject : ""}`];
    for (const key of keys) {
      expect(delivered.has(key), `delivered twice: ${key}`).toBe(false);
      delivered.add(key);
    }
  }
}

describe("a process killed while sending", () => {
  it.each(CRASH_POINTS)("killed %s of the third message: the next run, a day later, sends exactly the missing digests", async (point) => {
    const { sim, run, outbox } = await world();

    const crashed = await run(DAY0, { point, nth: 3 });
    expect(crashed.killed).toBe(point);
    // Up to SEND_CONCURRENCY sends are out at once, and the kill ends every one of them wherever it was: the service
    // has the third message when the kill came after its accept, and at most the sends out with it.
    const before = sim.email.messages().length;
    expect(before).toBeLessThanOrEqual(2 + SEND_CONCURRENCY);
    if (point === "after-accept" || point === "after-outcome") expect(before).toBeGreaterThanOrEqual(1);

    // A day later the operation ids are new, so only the ledger (not the mail service's dedupe) can prevent a resend.
    const next = succeeded((await run(addDays(DAY0, 1))).result);
    // A message the service accepted before the kill is settled, never sent again: by its delivery report, which the
    // run takes first, or else by a status read (recovered).
    expect(next.reminders.sent).toBe(DEMO_OWNERS.length - before);
    expect(countRecipients(sim.email.messages().map((m) => m.to))).toEqual(exactly(DEMO_OWNERS));
    expectNoDuplicateAndNothingUnrecorded(sim, await outbox());
    await sim.close();
  });

  it("finds no duplicate and no loss over random sequences of runs across days with a crash at a random point", async () => {
    const step = fc.record({
      advanceDays: fc.constantFrom(0, 0, 1, 2, 3),
      crash: fc.option(fc.record({ point: fc.constantFrom(...CRASH_POINTS), nth: fc.integer({ min: 1, max: 14 }) }), { freq: 3 }),
    });
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 4 }), async (steps) => {
        // Overdue every 2 days, escalated from the 2nd overdue reminder on, and a daily admin summary: up to 13 messages a run.
        const { sim, run, outbox } = await world({ OVERDUE_EVERY_DAYS: "2", ESCALATE_AFTER_REMINDERS: "1", ESCALATION_CONTACTS: CONTACT, ADMIN_SUMMARY_TO: ADMIN });
        try {
          let day = DAY0;
          for (const s of steps) {
            day = addDays(day, s.advanceDays);
            await run(day, s.crash ?? undefined);
            runs++;
          }
          // A crash-free run a day later (past EMAIL_NOT_FOUND_GRACE_HOURS, so an intent the service never received is
          // planned again) leaves nothing due unsent: a second one on the same day has nothing left to do.
          day = addDays(day, 1);
          const clean = succeeded((await run(day)).result);
          expect(clean.reminders.deferred).toBe(0);
          expect(clean.reminders.failed).toEqual([]);
          const after = succeeded((await run(day)).result);
          runs += 2;
          expect(after.reminders).toMatchObject({ sent: 0, deferred: 0, failed: [], recovered: { sent: 0, failed: 0, abandoned: 0 } });
          expect(after.reminders.messages.every((m) => m.outcome === "already-sent")).toBe(true);

          expectNoDuplicateAndNothingUnrecorded(sim, await outbox());
          const perRecipient = countRecipients(sim.email.messages().map((m) => m.to));
          for (const owner of [...DEMO_OWNERS, ADMIN]) expect(perRecipient.get(owner)).toBeGreaterThanOrEqual(1);
        } finally {
          await sim.close();
        }
      }),
      { numRuns: 10, endOnFailure: true },
    );
    expect(runs).toBeGreaterThanOrEqual(28);
  }, 180_000);
});
