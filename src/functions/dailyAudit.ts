// Timer trigger: the daily audit. Sends per SEND_MODE; the ledger and the run lock make a second firing on the
// same day send nothing twice. A failed run throws, so the retry policy runs it again.
//
// The audit is never skipped for a sending run (SEND_SCHEDULE) that holds the run lock: sending runs stop before an
// audit firing (runSendOnly), and a firing that still finds one holding the lock waits for it, within what the
// function timeout leaves beside the run's budget, then throws so the retry policy runs it again. The retry policy
// is the Functions runtime's own, set per function, and timers are among the triggers it serves (Microsoft Learn,
// "Azure Functions error handling and retries", Retries: Timer, retry policy, function level; in the Node.js v4
// model through `retry` in the app.timer options). Only another audit holding the lock makes a firing do nothing.
import "../index.js";
import { app, type InvocationContext, type Timer, type TimerFunctionOptions } from "@azure/functions";
import { getHost, invocationLog, runJob, type FunctionsHost } from "../app/functionsHost.js";
import { newRunId } from "../app/ids.js";
import { ensureError } from "../core/errors.js";
import { FUNCTION_TIMEOUT_MINUTES } from "../config.js";

export async function dailyAudit(timer: Timer, context: InvocationContext): Promise<void> {
  const { log } = invocationLog(context, { trigger: "timer" });
  if (timer.isPastDue) {
    // A missed occurrence (the app was down or busy); running late is better than skipping a day.
    log.warn("timer is past due; running now", { last: timer.scheduleStatus?.last, next: timer.scheduleStatus?.next });
  }
  let host: FunctionsHost;
  try {
    host = getHost();
  } catch (error) {
    log.error("configuration is not valid; no audit ran", { problems: ensureError(error).message });
    throw error;
  }
  const { job } = host.composition;
  const waitUntil = job.now().getTime() + auditLockWaitMs(host.config.runLimits.runBudgetMinutes);
  let runId = newRunId(job.now());
  let result = await runJob(host, log.child({ runId }), { runId, trigger: "timer", sendMode: host.config.sendMode });
  while (result.state === "already-running") {
    const activeRunId = result.activeRunId;
    const readHolder = () => job.reports.status(activeRunId).catch(() => undefined);
    // A run saves its status just after it takes the lock: a firing that comes in between finds none yet, and asks
    // again before it takes the holder for a sending run (an audit that overlapped would otherwise run twice).
    let holder = await readHolder();
    for (let asked = 1; holder === undefined && asked < HOLDER_STATUS_READS; asked++) {
      await job.sleep(HOLDER_STATUS_WAIT_MS);
      holder = await readHolder();
    }
    if (holder && holder.kind !== "send-only") {
      log.info("another run is active; this firing does nothing", { activeRunId: result.activeRunId });
      return;
    }
    if (job.now().getTime() >= waitUntil) {
      // Throwing is what makes the runtime's retry policy fire this audit again.
      throw new Error(`Audit not run: the sending run ${result.activeRunId} still holds the run lock; the retry policy runs the audit again`);
    }
    log.info("a sending run holds the run lock; the audit waits for it", { activeRunId: result.activeRunId });
    await job.sleep(LOCK_POLL_MS);
    runId = newRunId(job.now());
    result = await runJob(host, log.child({ runId }), { runId, trigger: "timer", sendMode: host.config.sendMode });
  }
  if (result.state === "failed") {
    throw new Error(`Audit run ${result.runId} failed: ${result.error.message}`);
  }
  const { summary, coverage } = result.report;
  log.info("daily audit done", { runId, findings: summary.findings, critical: summary.critical, sent: result.reminders.sent, coverageComplete: coverage.complete });
}

/** How often a waiting audit tries the run lock again. */
const LOCK_POLL_MS = 2_000;
/** How often, and how far apart, a firing reads the status of the run holding the lock before it has one. */
const HOLDER_STATUS_READS = 5;
const HOLDER_STATUS_WAIT_MS = 200;

/**
 * How long an audit firing waits for a sending run to let go of the lock: what host.json's functionTimeout
 * leaves beside RUN_BUDGET_MINUTES and a minute's margin, at most 5 minutes. Past it the firing throws and the retry
 * policy below runs it again (1, 2, 4 minutes later). Measured on the app's clock.
 */
export function auditLockWaitMs(runBudgetMinutes: number): number {
  return Math.max(0, Math.min(5, FUNCTION_TIMEOUT_MINUTES - 1 - runBudgetMinutes)) * 60_000;
}

export const dailyAuditOptions = {
  // Resolved by the host from the AUDIT_SCHEDULE app setting (default 0 0 7 * * *, 07:00 UTC).
  schedule: "%AUDIT_SCHEDULE%",
  runOnStartup: false,
  retry: { strategy: "exponentialBackoff", maxRetryCount: 3, minimumInterval: { minutes: 1 }, maximumInterval: { minutes: 15 } },
  handler: dailyAudit,
} satisfies TimerFunctionOptions;

app.timer("dailyAudit", dailyAuditOptions);
