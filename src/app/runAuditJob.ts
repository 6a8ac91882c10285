// One full run, as the timer, the HTTP API and the CLI start it: lock, audit, track progress, remind, store.
import type { AppConfig, SendMode } from "../config.js";
import { auditTenant } from "../core/auditTenant.js";
import { toIsoDay } from "../core/dates.js";
import { AuditError, ensureError } from "../core/errors.js";
import type { AuditReport } from "../core/model.js";
import type { AuditScope, CertificateLister, EmailSender, InventoryReader, ReminderLedger, RunLock } from "../core/ports.js";
import { sendReminders, type MessageRenderer, type PlannedMessage, type RenderedEmail, type MessageOutcome, type ReminderResult } from "../core/sendReminders.js";
import { trackFindings } from "../core/trackFindings.js";
import type { BlobReportStore, RunStatus } from "../azure/blobReportStore.js";
import { reportToCsv } from "../report/reportCsv.js";
import { renderReportHtml } from "../render/reportHtml.js";
import { deterministicUuid } from "./ids.js";
import type { Logger } from "./logger.js";

export interface JobContext {
  config: AppConfig;
  inventory: InventoryReader;
  certificates: CertificateLister;
  /** Certificate lists in flight at once; default BATCH_CONCURRENCY. Infinity when the lister paces itself. */
  certificateConcurrency?: number;
  /** The ledger for a send mode (redirect keeps its own histories, so switching to live tells everyone). */
  ledgerFor: (mode: "live" | "redirect" | "dry-run") => ReminderLedger;
  lock: RunLock;
  reports: BlobReportStore;
  sender?: EmailSender;
  /** Messages are rendered for the day of the run. */
  rendererFor: (asOf: string) => MessageRenderer;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  log: Logger;
  tenantId?: string;
  /** Progress as it happens (the CLI draws it on a terminal). */
  onProgress?: (phase: string, done: number, total: number) => void;
  onMessage?: (message: PlannedMessage, email: RenderedEmail, outcome: MessageOutcome) => void | Promise<void>;
}

export interface JobRequest {
  runId: string;
  trigger: RunStatus["trigger"];
  sendMode: SendMode;
  /** Audit as of this day; default today (UTC). */
  asOf?: string;
  scope?: AuditScope;
}

export type JobResult =
  | { state: "already-running"; activeRunId: string; activeRunSince?: string; freesWithinSeconds?: number }
  | { state: "succeeded"; runId: string; report: AuditReport; reminders: ReminderResult; html: string; csv: string }
  | { state: "failed"; runId: string; error: AuditError | Error };

export async function runAuditJob(ctx: JobContext, request: JobRequest): Promise<JobResult> {
  const { runId } = request;
  const log = ctx.log.child({ runId });
  const lock = await ctx.lock.acquire(runId);
  if ("heldBy" in lock) {
    log.info("another run is active; not starting", { activeRunId: lock.heldBy, since: lock.since });
    return {
      state: "already-running",
      activeRunId: lock.heldBy,
      ...(lock.since ? { activeRunSince: lock.since } : {}),
      ...(lock.freesWithinSeconds !== undefined ? { freesWithinSeconds: lock.freesWithinSeconds } : {}),
    };
  }

  const started = ctx.now();
  const status: RunStatus = {
    runId,
    state: "running",
    trigger: request.trigger,
    sendMode: request.sendMode,
    startedAt: started.toISOString(),
    progress: { phase: "starting", done: 0, total: 0 },
    errors: [],
  };
  let lastSaved = 0;
  const saveProgress = (phase: string, done: number, total: number) => {
    status.progress = { phase, done, total };
    ctx.onProgress?.(phase, done, total);
    if (ctx.now().getTime() - lastSaved < 2000) return;
    lastSaved = ctx.now().getTime();
    void ctx.reports.saveStatus(status).catch(() => undefined);
  };

  try {
    await ctx.reports.saveStatus(status);
    const asOf = request.asOf ?? toIsoDay(started);
    const { config } = ctx;
    log.info("audit started", { trigger: request.trigger, sendMode: request.sendMode, asOf });

    const audited = await auditTenant(
      { inventory: ctx.inventory, certificates: ctx.certificates, concurrency: ctx.certificateConcurrency ?? config.batchConcurrency, onProgress: (p) => saveProgress(p.phase, p.done, p.total) },
      {
        scope: request.scope ?? config.scope,
        asOf,
        generatedAt: ctx.now().toISOString(),
        deadline: config.schedule.deadline,
        ...(ctx.tenantId ? { tenantId: ctx.tenantId } : {}),
        owners: { owners: config.owners, snooze: config.snooze },
      },
    );
    log.info("audit finished", { findings: audited.summary.findings, critical: audited.summary.critical, coverageComplete: audited.coverage.complete });

    // Progress and history are kept in the live ledger whatever the send mode: they describe the tenant.
    const tenantLedger = ctx.ledgerFor("live");
    const progress = await trackFindings(tenantLedger, audited);
    saveProgress("reminders", 0, 0);
    const reminders = await sendReminders(
      {
        ledger: ctx.ledgerFor(request.sendMode),
        ...(ctx.sender ? { sender: ctx.sender } : {}),
        renderer: ctx.rendererFor(asOf),
        hash: deterministicUuid,
        now: ctx.now,
        sleep: ctx.sleep,
        ...(ctx.onMessage ? { onMessage: ctx.onMessage } : {}),
        stillHeld: () => lock.held(),
      },
      {
        report: audited,
        findingStates: progress.states,
        runId,
        policy: config.schedule,
        escalationContacts: config.escalationContacts,
        adminSummaryTo: config.adminSummaryTo,
        mode: request.sendMode,
        ...(config.redirectAddress ? { redirectAddress: config.redirectAddress } : {}),
        limits: { perMinute: config.email.perMinute, perHour: config.email.perHour },
      },
    );
    log.info("reminders done", { planned: reminders.planned, sent: reminders.sent, deferred: reminders.deferred, failed: reminders.failed.length });

    await tenantLedger.recordRun({
      date: asOf,
      runId,
      open: audited.summary.findings,
      critical: audited.summary.critical,
      warning: audited.summary.warning,
      resolved: progress.resolved.length,
      complete: audited.coverage.complete,
      completedAt: ctx.now().toISOString(),
    });
    const history = (await tenantLedger.runHistory()).map((r) => ({ date: r.date, open: r.open, critical: r.critical, warning: r.warning }));
    const resolvedSinceLastRun = progress.resolved.map((s) => ({
      findingId: s.findingId,
      kind: s.kind,
      resourceId: s.resourceId,
      accountName: s.accountName,
      resolvedOn: s.resolvedOn ?? asOf,
    }));
    const report: AuditReport = {
      ...audited,
      run: {
        runId,
        trigger: request.trigger,
        sendMode: request.sendMode,
        resolvedSinceLastRun,
        history,
        reminders: {
          planned: reminders.planned,
          sent: reminders.sent,
          alreadySent: reminders.alreadySent,
          deferred: reminders.deferred,
          failed: reminders.failed,
          recovered: reminders.recovered,
          messages: reminders.messages.map((m) => ({ kind: m.kind, recipient: m.recipient, subject: m.subject, outcome: m.outcome })),
        },
      },
    };
    const html = renderReportHtml(report, { history, resolvedSinceLastRun, runId });
    const csv = reportToCsv(report);
    await ctx.reports.saveReport(runId, report, { csv, html });

    status.state = "succeeded";
    status.finishedAt = ctx.now().toISOString();
    status.progress = { phase: "done", done: 1, total: 1 };
    status.coverageComplete = report.coverage.complete;
    status.counts = {
      findings: report.summary.findings,
      critical: report.summary.critical,
      warning: report.summary.warning,
      sent: reminders.sent,
      failedScopes: report.summary.accountsFailed + report.summary.subscriptionsFailed + report.coverage.problems.length,
    };
    await ctx.reports.saveStatus(status);
    log.info("run succeeded", { durationMs: ctx.now().getTime() - started.getTime(), ...status.counts });
    return { state: "succeeded", runId, report, reminders, html, csv };
  } catch (error) {
    const e = ensureError(error);
    status.state = "failed";
    status.finishedAt = ctx.now().toISOString();
    status.errors.push(e instanceof AuditError ? `${e.code}: ${e.message}` : e.message);
    await ctx.reports.saveStatus(status).catch(() => undefined);
    log.error("run failed", { error: status.errors[0] });
    return { state: "failed", runId, error: e };
  } finally {
    await lock.release();
  }
}
