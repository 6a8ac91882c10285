// A sending run (the SEND_SCHEDULE timer, `--send-only`): no audit. It sends what the latest audit planned and did not
// fit the email limits, oldest-untold owners first, within the same limits, then says what is left and when it will
// have gone.
//
// The plan is not stored: it is made again from the latest stored report and the ledger, by the same planner and for
// the same day as that audit. Planning is deterministic, so what is due and every operation id are the ones the audit's
// own run had; what was sent since moved the owners' histories on and drops out; so exactly-once needs nothing beyond
// what a second daily run on the same day already relies on (the run lock, intents recorded before sending). A stored
// plan would be a second copy of the audit's decisions that could drift from the ledger, and could not be rendered
// without the findings, which the report holds anyway.
import type { SendMode } from "../config.js";
import type { AuditError } from "../core/errors.js";
import { sendReminders, statesForReminders, type ReminderResult } from "../core/sendReminders.js";
import type { RunStatus } from "../azure/blobReportStore.js";
import { parseNcrontab } from "../core/ncrontab.js";
import { deterministicUuid } from "./ids.js";
import {
  alreadyRunning,
  failedRun,
  reminderSettings,
  runningStatus,
  succeeded,
  takeDeliveryReports,
  undeliverableAddresses,
  type AlreadyRunning,
  type JobContext,
} from "./runAuditJob.js";

export interface SendOnlyRequest {
  runId: string;
  trigger: RunStatus["trigger"];
  sendMode: SendMode;
}

export type SendOnlyResult =
  | AlreadyRunning
  /** No audit has stored a report yet: nothing is planned. */
  | { state: "no-audit"; runId: string }
  /** `asOf`: the day of the audit whose plan was drained. */
  | { state: "succeeded"; runId: string; asOf: string; auditRunId?: string; reminders: ReminderResult }
  | { state: "failed"; runId: string; error: AuditError | Error };

export async function runSendOnly(ctx: JobContext, request: SendOnlyRequest): Promise<SendOnlyResult> {
  const { runId, sendMode } = request;
  const log = ctx.log.child({ runId, sendOnly: true });
  // The same lock as the audit: one run at a time sends, whichever timer, API call or CLI started it.
  const lock = await ctx.lock.acquire(runId);
  if ("heldBy" in lock) {
    log.info("another run is active; not sending", { activeRunId: lock.heldBy, since: lock.since });
    return alreadyRunning(lock);
  }
  const status = runningStatus(request, ctx.now(), "reminders", "send-only");
  const budgetMs = ctx.runBudgetMs ?? ctx.config.runLimits.runBudgetMinutes * 60_000;
  const startedAt = performance.now();
  const yieldAt = request.trigger === "timer" ? auditYieldAt(ctx.config.auditSchedule, ctx.now()) : undefined;
  try {
    await ctx.reports.saveStatus(status);
    const latest = await ctx.reports.latestReport();
    if (!latest) {
      log.info("no audit has stored a report yet; nothing is planned");
      succeeded(status, ctx.now());
      await ctx.reports.saveStatus(status);
      return { state: "no-audit", runId };
    }
    const { run: auditRun, ...report } = latest;
    const asOf = report.asOf;
    if (ctx.deliveryReports) await takeDeliveryReports(ctx, ctx.deliveryReports, log);
    const tenantLedger = ctx.ledgerFor("live");
    // Today's bounces: the audit routed around the ones it knew; one since then is not mailed again.
    const undeliverable = await undeliverableAddresses(ctx, asOf);
    const reminders = await sendReminders(
      {
        ledger: ctx.ledgerFor(sendMode),
        ...(ctx.sender ? { sender: ctx.sender } : {}),
        renderer: ctx.rendererFor(asOf),
        hash: deterministicUuid,
        now: ctx.now,
        sleep: ctx.sleep,
        ...(ctx.onMessage ? { onMessage: ctx.onMessage } : {}),
        stillHeld: () => lock.held(),
        outOfTime: () => performance.now() - startedAt >= budgetMs || (yieldAt !== undefined && ctx.now().getTime() >= yieldAt),
      },
      {
        report,
        findingStates: statesForReminders(await tenantLedger.findingStates(), asOf),
        runId,
        mode: sendMode,
        undeliverable,
        ...reminderSettings(ctx),
      },
    );
    log.info("sending run done", {
      asOf,
      planned: reminders.planned,
      sent: reminders.sent,
      backlog: reminders.backlog?.messages ?? 0,
      eta: reminders.backlog?.eta,
      forgottenHistories: reminders.forgottenHistories,
    });
    if (reminders.forgetProblem) log.warn("stale reminder histories not deleted; the next run tries again", { problem: reminders.forgetProblem });
    succeeded(status, ctx.now(), { report, sent: reminders.sent });
    if (reminders.backlog) status.backlog = reminders.backlog;
    await ctx.reports.saveStatus(status);
    return { state: "succeeded", runId, asOf, ...(auditRun ? { auditRunId: auditRun.runId } : {}), reminders };
  } catch (error) {
    return failedRun(ctx, status, error, log, "sending run failed");
  } finally {
    await lock.release();
  }
}

/**
 * When a sending timer's run stops sending so that the run lock is free for the next audit firing (AUDIT_SCHEDULE):
 * a minute before it. The audit waits for what is left (dailyAudit), and what this run did not send waits for the next.
 */
export function auditYieldAt(auditSchedule: string, start: Date): number | undefined {
  const next = parseNcrontab(auditSchedule).next(start);
  return next ? next.getTime() - 60_000 : undefined;
}
