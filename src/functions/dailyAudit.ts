// Timer trigger: the daily audit. Sends per SEND_MODE; the ledger and the run lock make a second firing on the
// same day send nothing twice. A failed run throws, so the retry policy runs it again.
import "../index.js";
import { app, type InvocationContext, type Timer, type TimerFunctionOptions } from "@azure/functions";
import { getHost, invocationLog, runJob, type FunctionsHost } from "../app/functionsHost.js";
import { newRunId } from "../app/ids.js";
import { ensureError } from "../core/errors.js";

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
  const runId = newRunId(host.composition.job.now());
  const result = await runJob(host, log.child({ runId }), { runId, trigger: "timer", sendMode: host.config.sendMode });
  if (result.state === "already-running") {
    log.info("another run is active; this firing does nothing", { activeRunId: result.activeRunId });
    return;
  }
  if (result.state === "failed") {
    throw new Error(`Audit run ${result.runId} failed: ${result.error.message}`);
  }
  const { summary, coverage } = result.report;
  log.info("daily audit done", { runId, findings: summary.findings, critical: summary.critical, sent: result.reminders.sent, coverageComplete: coverage.complete });
}

export const dailyAuditOptions = {
  // Resolved by the host from the AUDIT_SCHEDULE app setting (default 0 0 7 * * *, 07:00 UTC).
  schedule: "%AUDIT_SCHEDULE%",
  runOnStartup: false,
  retry: { strategy: "exponentialBackoff", maxRetryCount: 3, minimumInterval: { minutes: 1 }, maximumInterval: { minutes: 15 } },
  handler: dailyAudit,
} satisfies TimerFunctionOptions;

app.timer("dailyAudit", dailyAuditOptions);
