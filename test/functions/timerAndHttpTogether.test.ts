// Issue 7, scenario 7: the daily timer and POST /api/audit/runs fire at once. The run lock lets one run; the other
// reports the active run instead of starting a second one, so no owner is told twice.
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SETTINGS } from "../../src/config.js";
import { dailyAudit } from "../../src/functions/dailyAudit.js";
import { backgroundRuns } from "../../src/functions/support/backgroundRun.js";
import { startAuditRun } from "../../src/functions/startAuditRun.js";
import { call, invocationContext, startHarness, timer, type Harness } from "./support/functionsHarness.js";

const OWNERS = ["alice.jones@contoso.com", "bob.smith@contoso.com", "dana@contoso.com", "genomics-team@contoso.com", "imaging-oncall@contoso.com", "lab-lead@contoso.com", "priya@contoso.com", "risk-eng@contoso.com"];

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await backgroundRuns();
  await h?.close();
});

/** The run ids that have anything stored under runs/<id>/ in the report container. */
async function storedRunIds(): Promise<string[]> {
  const container = BlobServiceClient.fromConnectionString(h.storage.connectionString).getContainerClient(SETTINGS.REPORT_CONTAINER);
  const ids = new Set<string>();
  for await (const blob of container.listBlobsFlat({ prefix: "runs/" })) ids.add(blob.name.split("/")[1] ?? "");
  return [...ids];
}

describe("the timer and the HTTP API together", () => {
  it("7. a timer run and an HTTP run at once: one runs, the other reports the active run", async () => {
    const timerLogs: string[] = [];
    const httpLogs: string[] = [];
    // send=true: either run would send (SEND_MODE is live), so a second run would show as a second digest.
    const [timerResult, answer] = await Promise.allSettled([
      dailyAudit(timer(), invocationContext("dailyAudit", timerLogs)),
      call(startAuditRun, "startAuditRun", httpLogs, { method: "POST", path: "/api/audit/runs?send=true" }),
    ]);
    await backgroundRuns();

    expect(timerResult.status).toBe("fulfilled");
    if (answer.status !== "fulfilled") throw answer.reason;
    expect(answer.value.status).toBe(202);
    const body = answer.value.json<{ runId: string; alreadyRunning: boolean }>();

    const timerDone = timerLogs.find((l) => l.includes("daily audit done"));
    const timerSkipped = timerLogs.find((l) => l.includes("another run is active; this firing does nothing"));
    if (body.alreadyRunning) {
      // The timer won: HTTP names the timer's run.
      expect(timerDone).toBeDefined();
      expect(timerSkipped).toBeUndefined();
      expect(timerDone).toContain(`"runId":"${body.runId}"`);
    } else {
      // The HTTP run won: the timer logged the active run and returned normally.
      expect(timerDone).toBeUndefined();
      expect(timerSkipped).toContain(`"activeRunId":"${body.runId}"`);
    }

    // Exactly one run happened: one run id in storage, one digest per owner.
    expect(await storedRunIds()).toEqual([body.runId]);
    for (const owner of OWNERS) expect(h.sim.email.sentTo(owner), owner).toHaveLength(1);
    expect(h.sim.email.messages()).toHaveLength(OWNERS.length);
  });
});
