// Timer trigger: the sending run. Sends what the latest daily audit planned and did not fit the email limits, oldest-
// untold owners first, within EMAIL_PER_MINUTE and EMAIL_PER_HOUR (counting what earlier runs sent in the hour). The
// run lock and the ledger make it exactly-once with the audit timer, the HTTP API and the CLI.
import "../index.js";
import { app, type InvocationContext, type Timer, type TimerFunctionOptions } from "@azure/functions";
import { getHost, invocationLog, runSendOnlyJob, type FunctionsHost } from "../app/functionsHost.js";
import { newRunId } from "../app/ids.js";
import { ensureError } from "../core/errors.js";

export async function sendOutbox(timer: Timer, context: InvocationContext): Promise<void> {
  const { log } = invocationLog(context, { trigger: "timer" });
  if (timer.isPastDue) log.warn("sending timer is past due; running now", { last: timer.scheduleStatus?.last, next: timer.scheduleStatus?.next });
  let host: FunctionsHost;
  try {
    host = getHost();
  } catch (error) {
    log.error("configuration is not valid; nothing was sent", { problems: ensureError(error).message });
    throw error;
  }
  if (host.config.sendMode === "dry-run") {
    // A dry run sends nothing, so there is nothing to drain: the audit's run already wrote the previews.
    log.info("SEND_MODE is dry-run; the sending timer does nothing");
    return;
  }
  const runId = newRunId(host.composition.job.now());
  const result = await runSendOnlyJob(host, log.child({ runId }), { runId, trigger: "timer", sendMode: host.config.sendMode });
  if (result.state === "already-running") {
    log.info("another run is active; this firing does nothing (the next one sends)", { activeRunId: result.activeRunId });
    return;
  }
  // No retry policy: the next firing, within the hour, sends what this one could not.
  if (result.state === "failed") throw new Error(`Sending run ${result.runId} failed: ${result.error.message}`);
  if (result.state === "no-audit") {
    log.info("no audit has run yet; nothing to send");
    return;
  }
  const { reminders } = result;
  log.info("sending timer done", { runId, asOf: result.asOf, sent: reminders.sent, backlog: reminders.backlog?.messages ?? 0, eta: reminders.backlog?.eta });
}

export const sendOutboxOptions = {
  // Resolved by the host from the SEND_SCHEDULE app setting (default 0 30 * * * *, every hour at half past).
  schedule: "%SEND_SCHEDULE%",
  runOnStartup: false,
  handler: sendOutbox,
} satisfies TimerFunctionOptions;

app.timer("sendOutbox", sendOutboxOptions);
