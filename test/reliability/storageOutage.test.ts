// Scenario 8: the ledger's storage goes away in the middle of sending. The run fails loudly, sends nothing it cannot
// record, and the next run (storage back) completes without a duplicate.
import { TableClient } from "@azure/data-tables";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { TableLedger } from "../../src/azure/tableLedger.js";
import { isAuditError } from "../../src/core/errors.js";
import { DEMO_OWNERS, composeRun, countRecipients, demo, exactly, isolatedStorage, removeDir, runJob, startSimulatedAzure, succeeded, tempDir } from "../support/auditRuns.js";
import { SEND_CONCURRENCY } from "../../src/core/sendReminders.js";

let blobs: LocalStorage;
beforeAll(async () => {
  blobs = await startAzurite();
});
afterAll(async () => {
  await blobs.stop();
});

/** The ledger on its own Azurite (kept on disk), so it can go down and come back while reports and the lock stay up. */
function ledgerOn(storage: LocalStorage, table: string) {
  // Few, short retries: the outage is real, waiting it out is not what is tested.
  const client = TableClient.fromConnectionString(storage.connectionString, table, { allowInsecureConnection: true, retryOptions: { maxRetries: 1, retryDelayInMs: 20 } });
  return (mode: "live" | "redirect" | "dry-run") => new TableLedger(client, mode === "redirect" ? "redirect" : "live");
}

describe("storage unavailable mid-run", () => {
  it("8. fails the run loudly, sends nothing it cannot record, and the next run completes every owner exactly once", async () => {
    const location = await tempDir("ledger-storage");
    let ledgerStorage = await startAzurite({ location });
    const { sim, accessKey } = await startSimulatedAzure(demo());
    const env = isolatedStorage(blobs.connectionString);
    const table = env.LEDGER_TABLE ?? "";
    try {
      let accepted = 0;
      // What had reached the mail service once storage was down: the sends already out then may still arrive.
      let reachedWhenDown: number | undefined;
      const composition = composeRun(sim, accessKey, env);
      const failed = await runJob(composition, "2026-11-26", {
        ledgerFor: ledgerOn(ledgerStorage, table),
        // Storage goes down right after the 2nd message was sent and recorded.
        onMessage: async (_message, _email, outcome) => {
          if (outcome !== "sent" || ++accepted !== 2) return;
          await ledgerStorage.stop();
          reachedWhenDown = sim.email.messages().length;
        },
      });

      expect(failed.state).toBe("failed");
      const error = failed.state === "failed" ? failed.error : undefined;
      expect(isAuditError(error) && error.code).toBe("LEDGER.UNAVAILABLE");
      // Whichever call meets the outage first says so: the next message's intent (a write), or the outcome of a send
      // still out when storage went down (its history is read before it is written).
      expect(error?.message).toMatch(/^The reminder ledger could not (write|read)/);
      // Messages are handed to onMessage in plan order while later sends go on, and stopping storage takes a while, so
      // more than two may reach the service before it is down. Once it is down, only the sends already out (up to
      // SEND_CONCURRENCY, each recorded before it went) may still arrive: a message whose intent could not be recorded
      // is never sent, and none starts after the failure.
      const reached = sim.email.messages().length;
      expect(reachedWhenDown).toBeGreaterThanOrEqual(2);
      expect(reached).toBeGreaterThanOrEqual(reachedWhenDown ?? Infinity);
      expect(reached).toBeLessThanOrEqual((reachedWhenDown ?? 0) + SEND_CONCURRENCY);

      ledgerStorage = await startAzurite({ location });
      const recordedIds = new Set((await ledgerOn(ledgerStorage, table)("live").outbox()).map((e) => e.operationId));
      expect(sim.email.messages().every((m) => recordedIds.has(m.operationId))).toBe(true);

      const next = succeeded(await runJob(composeRun(sim, accessKey, env), "2026-11-26", { ledgerFor: ledgerOn(ledgerStorage, table) }));
      // What reached the service is settled (its intent looked up), never sent again.
      // What reached the service is settled, never sent again. An intent whose write storage may have taken as it
      // went down, with no send after it, waits as unknown (looked up, not found within EMAIL_NOT_FOUND_GRACE_HOURS)
      // and is sent by a run past the grace.
      expect(next.reminders.sent + next.reminders.awaiting).toBe(DEMO_OWNERS.length - reached);
      if (next.reminders.awaiting > 0) {
        const later = succeeded(await runJob(composeRun(sim, accessKey, env), "2026-11-27", { ledgerFor: ledgerOn(ledgerStorage, table) }));
        expect(later.reminders.recovered.abandoned).toBe(next.reminders.awaiting);
      }
      expect(countRecipients(sim.email.messages().map((m) => m.to))).toEqual(exactly(DEMO_OWNERS));
    } finally {
      await sim.close();
      await ledgerStorage.stop();
      await removeDir(location);
    }
  });
});
