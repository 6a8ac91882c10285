// One full run, as the timer, the HTTP API and the CLI start it: lock, audit, track progress, remind, store.
import type { RetirementRule } from "../core/rules/rule.js";
import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { AppConfig, SendMode } from "../config.js";
import { auditTenant } from "../core/auditTenant.js";
import { toIsoDay } from "../core/dates.js";
import { DeflatedList, eachOf, holdArrayDeflated, pagesOf } from "../core/deflatedJson.js";
import { AuditError, ensureError } from "../core/errors.js";
import type { AuditReport } from "../core/model.js";
import type {
  AccessReader,
  AccountPoolReader,
  AuditScope,
  CertificateLister,
  EmailSender,
  InventoryReader,
  PoolLister,
  ReminderLedger,
  RunLock,
  RunLockHeld,
  VmSizeLifecycleReader,
} from "../core/ports.js";
import { deliveryReportFromEvent, recordDeliveryReports, undeliverableMarks, undeliverableSince } from "../core/deliveryReports.js";
import { sendReminders, statesForReminders, type MessageRenderer, type PlannedMessage, type RenderedEmail, type MessageOutcome, type ReminderRequest, type ReminderResult } from "../core/sendReminders.js";
import { parseNcrontab } from "../core/ncrontab.js";
import { holdKitRecipesDeflated } from "../core/migrationKit.js";
import { KEPT_DAYS } from "../core/retention.js";
import { trackFindings } from "../core/trackFindings.js";
import type { UndeliverableMark } from "../core/owners.js";
import { STORED_ENCODING, type BlobReportStore, type ReportText, type RunStatus } from "../azure/blobReportStore.js";
import { CSV_COLUMNS, reportCsvChunks } from "../report/reportCsv.js";
import { jsonChunks } from "../report/textChunks.js";
import { holdReportFindings } from "../render/report/pageFindings.js";
import { REPORT_CSP_HEADER, reportHtmlChunks } from "../render/reportHtml.js";
import { deterministicUuid } from "./ids.js";
import { rendererFingerprint } from "./rendererFingerprint.js";
import type { Logger } from "./logger.js";

export interface JobContext {
  config: AppConfig;
  inventory: InventoryReader & Partial<AccountPoolReader>;
  certificates: CertificateLister;
  /** Pools with their certificate references, from the Batch API. */
  pools: PoolLister;
  /** Role holders, for owners from role assignments (OWNER_SOURCES with `roles`). */
  access?: AccessReader;
  /** Azure's `batchSupportEndOfLife` per region (read once per region with pools); absent: the catalogue's dates. */
  vmSizes?: VmSizeLifecycleReader;
  /** Certificate lists in flight at once; default BATCH_CONCURRENCY. Infinity when the lister paces itself. */
  certificateConcurrency?: number;
  /** The run's time budget in milliseconds; default RUN_BUDGET_MINUTES (tests give seconds). */
  runBudgetMs?: number;
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
  /** Each stage of the run as it ends (the bench prints their times and the heap after each). */
  onStageDone?: (stage: JobStage) => void;
  onMessage?: (message: PlannedMessage, email: RenderedEmail, outcome: MessageOutcome) => void | Promise<void>;
  /**
   * Locally (the simulated Communication Services): delivery report events queued since the last run. They go
   * through the same code as the Event Grid trigger, before anything is planned. In Azure, Event Grid delivers them.
   */
  deliveryReports?: DeliveryReportQueue;
}

/** The stages of an audit's run, in order. */
export type JobStage = "audit" | "tracking" | "reminders" | "history" | "report";

export interface DeliveryReportQueue {
  pending(): Promise<unknown[]>;
  /** Takes the first `count` off the queue, once they are recorded. */
  acknowledge(count: number): Promise<void>;
}

export interface JobRequest {
  runId: string;
  trigger: RunStatus["trigger"];
  sendMode: SendMode;
  /** Audit as of this day; default today (UTC). */
  asOf?: string;
  scope?: AuditScope;
  /** Only these rules (a `rules` filter, already validated); default the configured ones. */
  rules?: readonly RetirementRule[];
}

/** The report's formats as pieces of text, made on demand and written as they are made (each is large at scale). */
export type ReportFormats = ReportText;

export type JobResult =
  | AlreadyRunning
  | { state: "succeeded"; runId: string; report: AuditReport; reminders: ReminderResult; formats: ReportFormats }
  | { state: "failed"; runId: string; error: AuditError | Error };

export async function runAuditJob(ctx: JobContext, request: JobRequest): Promise<JobResult> {
  const { runId } = request;
  const log = ctx.log.child({ runId });
  const lock = await ctx.lock.acquire(runId);
  if ("heldBy" in lock) {
    log.info("another run is active; not starting", { activeRunId: lock.heldBy, since: lock.since });
    return alreadyRunning(lock);
  }

  const started = ctx.now();
  const status = runningStatus(request, started, "starting");
  let lastSaved = 0;
  const saveProgress = (phase: string, done: number, total: number) => {
    status.progress = { phase, done, total };
    ctx.onProgress?.(phase, done, total);
    if (ctx.now().getTime() - lastSaved < 2000) return;
    lastSaved = ctx.now().getTime();
    void ctx.reports.saveStatus(status).catch(() => undefined);
  };

  // The run's time budget (measured on the real clock, whatever `now` says): Azure reads get the first 80% of it and
  // are then stopped (what was not read is a failed scope, with this reason); sending stops when all of it is spent
  // (the rest waits for the next run); the report is written either way, before the Functions timeout.
  const budgetMs = ctx.runBudgetMs ?? ctx.config.runLimits.runBudgetMinutes * 60_000;
  const startedAt = performance.now();
  const reads = new AbortController();
  // Every request in flight listens to it (hundreds at scale): not a leak.
  setMaxListeners(0, reads.signal);
  const readsTimer = setTimeout(() => {
    log.warn("run time budget for Azure reads spent; unread scopes fail", { budgetMs });
    reads.abort(
      new AuditError(
        "RUN.BUDGET_SPENT",
        `Not read: the run's time budget for Azure reads (80% of RUN_BUDGET_MINUTES=${ctx.config.runLimits.runBudgetMinutes}) was spent first; the next run reads it`,
        { retryable: true },
      ),
    );
  }, Math.floor(budgetMs * 0.8));
  const outOfTime = () => performance.now() - startedAt >= budgetMs;

  try {
    await ctx.reports.saveStatus(status);
    const asOf = request.asOf ?? toIsoDay(started);
    const { config } = ctx;
    log.info("audit started", { trigger: request.trigger, sendMode: request.sendMode, asOf });
    // Progress and history are kept in the live ledger whatever the send mode: they describe the tenant.
    const tenantLedger = ctx.ledgerFor("live");
    // What the ledger knows (its finding states; the addresses that bounced, once the queued delivery reports are
    // taken) is read while the audit's first reads go out: the audit waits for it only where it needs it (an account
    // whose certificate list is empty, carried findings, owners). Read before the audit, it was about 4 s of the
    // 100,000-account job a week on before Resource Graph's first query (docs/benchmarks.md, twentieth pass).
    const before = ledgerBeforeTheAudit(ctx, tenantLedger, asOf, log);
    // A read that fails stops the audit's reads, told as what stopped them (an AuditError is their reason as it is,
    // ../azure/armAnswers.ts), and is the run's failure.
    const ledgerFailed = new AbortController();
    before.catch((error: unknown) => ledgerFailed.abort(new AuditError("LEDGER.UNAVAILABLE", `Not read: the run stopped because its ledger could not be read (${ensureError(error).message})`, { retryable: true })));
    const auditSignal = AbortSignal.any([reads.signal, ledgerFailed.signal]);
    setMaxListeners(0, auditSignal);
    // Let go once tracked: tracking's report is a copy when it adds scopes, and the audit's would keep its lists.
    let found: AuditReport | undefined;
    try {
      found = await auditTenant(
        {
          inventory: ctx.inventory,
          certificates: ctx.certificates,
          pools: ctx.pools,
          ...(ctx.access ? { access: ctx.access } : {}),
          ...(ctx.vmSizes ? { vmSizes: ctx.vmSizes } : {}),
          concurrency: ctx.certificateConcurrency ?? config.batchConcurrency,
          onProgress: (p) => saveProgress(p.phase, p.done, p.total),
        },
        {
          scope: request.scope ?? config.scope,
          asOf,
          generatedAt: ctx.now().toISOString(),
          deadline: config.schedule.deadline,
          rules: request.rules ?? config.rules.enabled,
          ...(ctx.tenantId ? { tenantId: ctx.tenantId } : {}),
          owners: before.then(({ undeliverable }) => ({ owners: { ...config.owners, undeliverable }, snooze: config.snooze })),
          accountsWithOpenPoolFindings: before.then((known) => known.accountsWithOpenPoolFindings),
          accountsWithOpenRuleFindings: before.then((known) => known.accountsWithOpenRuleFindings),
          // What the run could not check is carried, open and marked (asked for only then).
          openFindings: async () => (await before).states.read().filter((s) => s.resolvedOn === undefined),
          ...(config.migration ? { migration: config.migration } : {}),
          signal: auditSignal,
        },
      );
    } catch (error) {
      // A ledger read that failed is the run's failure, whatever the audit it stopped made of it; an audit that failed
      // on its own meanwhile is told in the log.
      await before.catch((ledgerError: unknown) => {
        if (ledgerError !== error) log.warn("the audit failed while the ledger could not be read", { problem: ensureError(error).message });
        throw ledgerError;
      });
      throw error;
    }
    const { states: known, undeliverable, accountsWithOpenPoolFindings, accountsWithOpenRuleFindings } = await before;
    // The run holds `before` to its end (its closures above are the audit's): the sets of accounts are let go here.
    accountsWithOpenPoolFindings.clear();
    accountsWithOpenRuleFindings.clear();
    ctx.onStageDone?.("audit");
    // From here kits are read only by the report's writers and the few messages rendered: their recipes are held deflated.
    const kitRecipeBytes = holdKitRecipesDeflated(eachOf(pagesOf(found, "findings")));
    // The audit hands its findings over deflated, in the report's order; the page's two orders are made from them now,
    // a page at a time. Tracking and the planning of the mail read them once a page at a time, the digests rendered read
    // theirs back by position, and the report's writers read them a page at a time: no stage holds them whole. At
    // 100,000 accounts a week on, the 45,000 findings were about 50 MB of the heap as objects (docs/benchmarks.md).
    const findingBytes = holdReportFindings(found);
    log.info("audit finished", { findings: found.summary.findings, critical: found.summary.critical, coverageComplete: found.coverage.complete, kitRecipeBytes, findingBytes });

    // Tracking writes what changed from the read made as the audit began. A run whose lock lapsed meanwhile (storage did
    // not renew the lease: another run may hold it now, and may have tracked) writes none, and sends nothing.
    if (!lock.held()) {
      throw new AuditError("LOCK.HELD", "The run lost its lock during the audit (storage did not renew the lease); it stops before tracking: nothing was tracked or sent, and the next run audits again", { retryable: true });
    }
    const progress = await trackFindings(tenantLedger, found, known.read());
    found = undefined;
    known.clear();
    // With the scopes the ledger knew and this run no longer saw added to its coverage.
    const audited = progress.report;
    if (progress.forgotten > 0) log.info("states of findings resolved long ago deleted", { forgotten: progress.forgotten, keptDays: KEPT_DAYS });
    if (progress.forgetProblem) log.warn("states of findings resolved long ago not deleted; the next run tries again", { problem: progress.forgetProblem });
    // The coverage's per-account lists are read from here only by a few summaries and the report's writers, each once
    // or twice: held deflated to the end of the run. At 100,000 accounts they were an entry per account and about two
    // rule-and-account pairs per account, some 30 MB of the heap held through the sending and the report
    // (docs/benchmarks.md, eighteenth pass).
    const coverageBytes =
      holdArrayDeflated(audited.coverage, "accounts", ["subscriptionId", "status", "pools", "poolsReason"]) +
      // Most pairs say the same thing: their rule, missing list and reason are shared again on read, as the audit made them.
      holdArrayDeflated(audited.coverage, "unjudged", ["rule", "missing", "reason"]);
    log.info("tracking finished", { resolved: progress.resolved.length, statesWritten: progress.written, coverageBytes });
    ctx.onStageDone?.("tracking");
    saveProgress("reminders", 0, 0);
    // The ledger's states (every finding it knows, resolved ones too) are held through the sending only as far as it
    // reads them, and not past it (through the history and the report).
    let findingStates = statesForReminders(progress.states, audited.asOf);
    progress.states = [];
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
        outOfTime,
      },
      {
        report: audited,
        findingStates,
        runId,
        mode: request.sendMode,
        undeliverable,
        ...reminderSettings(ctx),
      },
    );
    findingStates = [];
    ctx.onStageDone?.("reminders");
    log.info("reminders done", { planned: reminders.planned, sent: reminders.sent, deferred: reminders.deferred, failed: reminders.failed.length, forgottenHistories: reminders.forgottenHistories });
    if (reminders.forgetProblem) log.warn("stale reminder histories not deleted; the next run tries again", { problem: reminders.forgetProblem });

    await tenantLedger.recordRun({
      date: asOf,
      runId,
      open: audited.summary.findings,
      critical: audited.summary.critical,
      warning: audited.summary.warning,
      resolved: progress.resolved.length,
      complete: audited.coverage.complete,
      completedAt: ctx.now().toISOString(),
      ...(audited.summary.poolsMigrated === undefined ? {} : { migrated: audited.summary.poolsMigrated }),
    });
    // Days after this run's own (a run with a later --now, a wrong clock) are not history yet.
    const history = (await tenantLedger.runHistory())
      .filter((r) => r.date <= asOf)
      .map((r) => ({ date: r.date, open: r.open, critical: r.critical, warning: r.warning, ...(r.migrated === undefined ? {} : { migrated: r.migrated }) }));
    const resolvedSinceLastRun = progress.resolved.map((s) => ({
      findingId: s.findingId,
      kind: s.kind,
      resourceId: s.resourceId,
      accountName: s.accountName,
      resolvedOn: s.resolvedOn ?? asOf,
    }));
    // The audit's report with its run section (assigned, not spread: a spread would read the held findings whole).
    const report: AuditReport = Object.assign(audited, {
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
          refused: reminders.refused,
          awaiting: reminders.awaiting,
          futureDated: reminders.futureDated,
          recovered: reminders.recovered,
          ...(reminders.throttled ? { throttled: reminders.throttled } : {}),
          ...(reminders.mode !== "dry-run" ? { delivery: reminders.delivery } : {}),
          ...(reminders.lookupFailed.length > 0 ? { lookupFailed: reminders.lookupFailed } : {}),
          ...(reminders.backlog ? { backlog: reminders.backlog } : {}),
          messages: reminders.messages.map((m) => ({ kind: m.kind, recipient: m.recipient, subject: m.subject, outcome: m.outcome })),
        },
      } satisfies AuditReport["run"],
    });
    ctx.onStageDone?.("history");
    const formats = reportFormats(report);
    await ctx.reports.saveReport(runId, report, formats);
    ctx.onStageDone?.("report");

    succeeded(status, ctx.now(), { report, sent: reminders.sent });
    await ctx.reports.saveStatus(status);
    log.info("run succeeded", { durationMs: ctx.now().getTime() - started.getTime(), ...status.counts });
    return { state: "succeeded", runId, report, reminders, formats };
  } catch (error) {
    return failedRun(ctx, status, error, log, "run failed");
  } finally {
    clearTimeout(readsTimer);
    await lock.release();
  }
}

/**
 * What the run reads from its ledgers before the audit needs it: the finding states, and the addresses that bounced.
 * Both reads end before it answers, whether or not one fails (the first failure is its answer): nothing of a run goes
 * on after it has failed and let its lock go.
 */
async function ledgerBeforeTheAudit(ctx: JobContext, ledger: ReminderLedger, asOf: string, log: Logger) {
  const [undeliverable, known] = await Promise.allSettled([
    (async () => {
      if (ctx.deliveryReports) await takeDeliveryReports(ctx, ctx.deliveryReports, log);
      // Owners whose mail bounced are not mailed again for a while: the next level of the chain is told instead.
      return undeliverableAddresses(ctx, asOf);
    })(),
    statesBeforeTheAudit(ledger),
  ]);
  if (undeliverable.status === "rejected") throw undeliverable.reason;
  if (known.status === "rejected") throw known.reason;
  return { undeliverable: undeliverable.value, ...known.value };
}

/**
 * The ledger's finding states, read once a run, held deflated, and the accounts with open findings the audit reads
 * whatever else it finds. Accounts whose pool findings are still open get their pools read whatever their certificates
 * say, the audit carries the open findings it could not check, and tracking moves the states on (the run holds the
 * lock: they do not change in between, and tracking checks it still does). Held deflated through the audit: as objects
 * they were 30-50 MB at 100,000 accounts (45,000 findings); read from the table a second time after the audit, that
 * read, on top of the report, raised tracking's peak by tens of MB in the job a week on (docs/benchmarks.md, fifteenth
 * pass). The states as objects are let go here, not held by the run's frame through its awaits.
 */
async function statesBeforeTheAudit(ledger: ReminderLedger) {
  const read = await ledger.findingStates();
  const open = read.filter((s) => s.resolvedOn === undefined);
  return {
    states: new DeflatedList(read),
    accountsWithOpenPoolFindings: new Set(open.filter((s) => s.kind === "pool-certificate-reference").map((s) => s.accountId.toLowerCase())),
    accountsWithOpenRuleFindings: new Set(open.filter((s) => s.kind === "pool").map((s) => s.accountId.toLowerCase())),
  };
}

/**
 * What makes each stored format, so a file written by an earlier build is not served as today's: the code that renders
 * it (./rendererFingerprint.ts: any change to src/render or src/report), the page's Content-Security-Policy (its
 * inline style and script hashes; an older page would break under today's header), the csv's columns, and how the
 * file is stored (gzip since this build: a build from before, rolled back to, must not serve these bytes as text).
 */
const RENDERER = rendererFingerprint();
export const REPORT_FORMAT_VERSIONS = {
  csv: versionOf(`${RENDERER}|${CSV_COLUMNS.join(",")}|${STORED_ENCODING}`),
  html: versionOf(`${RENDERER}|${REPORT_CSP_HEADER}|${STORED_ENCODING}`),
} as const;

function versionOf(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/**
 * The report's formats as a run stores them. GET /api/audit/report serves the stored csv and html as they are when no
 * filter is given, so they must be what that route renders from the stored JSON: the same renderers, with the run
 * section's history and resolved findings as the page's extras.
 */
export function reportFormats(report: AuditReport): ReportFormats {
  const extras = {
    history: report.run?.history ?? [],
    resolvedSinceLastRun: report.run?.resolvedSinceLastRun ?? [],
    ...(report.run ? { runId: report.run.runId } : {}),
  };
  return {
    json: () => jsonChunks(report),
    html: () => reportHtmlChunks(report, extras),
    csv: () => reportCsvChunks(report),
    versions: REPORT_FORMAT_VERSIONS,
  };
}

/** What a run answers when another holds the lock (an audit and a sending run alike). */
export type AlreadyRunning = { state: "already-running"; activeRunId: string; activeRunSince?: string; freesWithinSeconds?: number };

export function alreadyRunning(lock: RunLockHeld): AlreadyRunning {
  return {
    state: "already-running",
    activeRunId: lock.heldBy,
    ...(lock.since ? { activeRunSince: lock.since } : {}),
    ...(lock.freesWithinSeconds !== undefined ? { freesWithinSeconds: lock.freesWithinSeconds } : {}),
  };
}

/** A run's status record as it starts: an audit's, or (`kind`) a sending run's. */
export function runningStatus(request: Pick<JobRequest, "runId" | "trigger" | "sendMode">, started: Date, phase: string, kind?: RunStatus["kind"]): RunStatus {
  return {
    runId: request.runId,
    state: "running",
    trigger: request.trigger,
    sendMode: request.sendMode,
    ...(kind ? { kind } : {}),
    startedAt: started.toISOString(),
    progress: { phase, done: 0, total: 0 },
    errors: [],
  };
}

/**
 * Marks a status succeeded at `at`; with the report it went by (an audit's own, or the one a sending run drained),
 * its coverage and counts as well. The caller saves it.
 */
export function succeeded(status: RunStatus, at: Date, outcome?: { report: Pick<AuditReport, "summary" | "coverage">; sent: number }): void {
  status.state = "succeeded";
  status.finishedAt = at.toISOString();
  status.progress = { phase: "done", done: 1, total: 1 };
  if (!outcome) return;
  const { summary, coverage } = outcome.report;
  status.coverageComplete = coverage.complete;
  status.counts = {
    findings: summary.findings,
    critical: summary.critical,
    warning: summary.warning,
    sent: outcome.sent,
    failedScopes: summary.accountsFailed + summary.subscriptionsFailed + coverage.problems.length,
  };
}

/** A run that failed: its status says why (saved if storage allows), the log too, and so does its answer. */
export async function failedRun(
  ctx: Pick<JobContext, "reports" | "now">,
  status: RunStatus,
  error: unknown,
  log: Logger,
  message: string,
): Promise<{ state: "failed"; runId: string; error: AuditError | Error }> {
  const e = ensureError(error);
  status.state = "failed";
  status.finishedAt = ctx.now().toISOString();
  status.errors.push(e instanceof AuditError ? `${e.code}: ${e.message}` : e.message);
  await ctx.reports.saveStatus(status).catch(() => undefined);
  log.error(message, { error: status.errors[0] });
  return { state: "failed", runId: status.runId, error: e };
}

/** The reminder settings an audit's run and a sending run both take from the configuration. */
export function reminderSettings(ctx: JobContext) {
  const { config } = ctx;
  return {
    policy: config.schedule,
    escalationContacts: config.escalationContacts,
    adminSummaryTo: config.adminSummaryTo,
    ...(config.redirectAddress ? { redirectAddress: config.redirectAddress } : {}),
    limits: { perMinute: config.email.perMinute, perHour: config.email.perHour },
    statusReads: config.email.statusReads,
    notFoundGraceHours: config.email.notFoundGraceHours,
    allowedRecipientDomains: config.owners.allowedRecipientDomains,
    drain: drainSchedule(ctx),
  } satisfies Partial<ReminderRequest>;
}

/** SEND_SCHEDULE's firings and a run's sending time, for the backlog's ETA. */
export function drainSchedule(ctx: JobContext): { nextRun: (after: Date) => Date | undefined; runMinutes: number } {
  const schedule = parseNcrontab(ctx.config.sendSchedule);
  return { nextRun: (after) => schedule.next(after), runMinutes: ctx.config.runLimits.runBudgetMinutes };
}

/** The local stand-in for the Event Grid subscription: the same parsing and recording as emailDeliveryReport. */
export async function takeDeliveryReports(ctx: Pick<JobContext, "ledgerFor">, queue: DeliveryReportQueue, log: Logger): Promise<void> {
  const events = await queue.pending();
  if (events.length === 0) return;
  const reports = [];
  for (const event of events) {
    try {
      const report = deliveryReportFromEvent(event);
      if (report && "notFinal" in report) log.info("delivery report not final; ignored", { messageId: report.messageId, reason: report.notFinal });
      else if (report) reports.push(report);
    } catch (error) {
      log.warn("delivery report not usable", { problem: ensureError(error).message });
    }
  }
  const outcome = await recordDeliveryReports([ctx.ledgerFor("live"), ctx.ledgerFor("redirect")], reports);
  await queue.acknowledge(events.length);
  log.info("delivery reports recorded", { ...outcome });
}

/**
 * Addresses marked undeliverable as of `asOf`, from the messages of every mode (live and redirect share the mail
 * service, and an address that bounced in one mode bounces in the other). Every run that sends, the audit's and the
 * sending timer's alike, reads its marks here, after taking the queued delivery reports.
 */
export async function undeliverableAddresses(ctx: Pick<JobContext, "ledgerFor" | "config">, asOf: string): Promise<Map<string, UndeliverableMark>> {
  const retryDays = ctx.config.email.undeliverableRetryDays;
  const filter = { status: "sent", since: undeliverableSince(asOf, retryDays) } as const;
  const sent = [...(await ctx.ledgerFor("live").outbox(filter)), ...(await ctx.ledgerFor("redirect").outbox(filter))];
  return undeliverableMarks(sent, asOf, retryDays);
}
