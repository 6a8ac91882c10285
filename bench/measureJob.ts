// The whole daily job, as the timer runs it, against a running simulated Azure: audit, owners, ledger, planning,
// rendering, report storage (in a local Azurite) and sending (into the simulated Communication Email service), with
// the shipped settings. Sending is paced to EMAIL_PER_MINUTE / EMAIL_PER_HOUR by the job itself; its waits run on a
// virtual clock (counted, not slept), so the figures say what the job costs apart from the limits' waiting.
import { randomBytes } from "node:crypto";
import { getHeapStatistics, writeHeapSnapshot } from "node:v8";
import { startAzurite } from "@batch-cert-auditor/simulated-azure";
import { compose } from "../src/app/composition.js";
import { silentLogger } from "../src/app/logger.js";
import { runAuditJob, type JobStage } from "../src/app/runAuditJob.js";
import { loadConfig } from "../src/config.js";
import { HEAP_GROWING_PERCENT } from "./cases.js";
import { leaveMemoryLimit } from "./instanceMemory.js";
import type { Target } from "./measure.js";

export interface JobMeasure {
  jobWallSeconds: number;
  /** From the start of the run to the end of the audit (inventory, certificates, pools, owners). */
  auditWallSeconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  /** Messages rendered (digests, all-clears, the admin summary). */
  rendered: number;
  sent: number;
  deferred: number;
  /** Owners with at least one finding (distinct digest recipients planned). */
  owners: number;
  findings: number;
  /** The pacing waits the job asked for, on its virtual clock. */
  sendingWaitSeconds: number;
  resourceGraphQueries: number;
  failedScopes: number;
  /** The heap V8 gave itself (it sizes it from the memory the process may use; no flag sets it). */
  heapLimitMb: number;
  /** Each stage as it ended: its own wall and CPU time, and the heap in use and the process's RSS at its end. */
  stages: StageMeasure[];
}

export interface StageMeasure {
  stage: JobStage;
  seconds: number;
  /** The job process's CPU time in the stage (steadier than wall time on a shared machine). */
  cpuSeconds: number;
  heapUsedMb: number;
  rssMb: number;
  /** The process's peak RSS so far, at the stage's end: the stage where it rises is the one that set the job's peak. */
  peakRssMb: number;
  /**
   * The most the heap held (V8's committed heap, live and dead) and the most outside it (buffers) at any sampling
   * during the stage (every `SAMPLE_MS`): where a stage's peak comes from. Dead text in the large-object space, which
   * only a full collection empties, shows here and not in the heap in use at the stage's end.
   */
  peakHeapTotalMb: number;
  peakExternalMb: number;
}

/** How often memory is sampled during a stage (process.memoryUsage(): a few microseconds each). */
const SAMPLE_MS = 20;

const peakRssMb = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

/** The day the job runs for: the first of a ledger, unless the order names a later one (the bench's --later-day). */
export const FIRST_DAY = "2026-11-26";

/** What the bench asks of one job process. */
export interface JobOrder {
  target: Target;
  /** A V8 heap snapshot is written to the working directory when that stage ends (the bench's --heap-snapshot). */
  snapshotAfter?: JobStage;
  /** Storage kept by the bench across job processes (a later day reads the ledger an earlier one wrote); default its own. */
  storage?: string;
  /** The run's day; default FIRST_DAY. */
  asOf?: string;
  /** Settings over the shipped ones (the first day of --later-day sends every message, as hourly sending runs would). */
  settings?: Record<string, string>;
}

export async function measureJob(order: JobOrder): Promise<JobMeasure> {
  const { target, snapshotAfter } = order;
  const own = order.storage === undefined ? await startAzurite({}) : undefined;
  // Storage is not the instance's: the bench's memory limit is the job's alone (./instanceMemory.ts).
  const left = own ? leaveMemoryLimit(own.pid) : undefined;
  if (left) console.error(`Azurite stays in the job's memory limit: ${left}`);
  const connectionString = own?.connectionString ?? (order.storage as string);
  let sampler: NodeJS.Timeout | undefined;
  try {
    // Shipped defaults, but for what a deployment must set: a sender, a fallback, live mail (into the simulator).
    const config = loadConfig(
      {
        SEND_MODE: "live",
        SENDER_ADDRESS: "DoNotReply@batch-cert-auditor.example",
        FALLBACK_CONTACTS: "batch-admins@contoso.com",
        ADMIN_SUMMARY_TO: "platform@contoso.com",
        HEAP_GROWING_PERCENT: String(HEAP_GROWING_PERCENT),
        ...order.settings,
      },
      { simulated: true },
    );
    // A later day runs that many days after the first on the clock too (the mail limits count sends by the hour).
    let virtualMs = Date.parse(order.asOf ?? FIRST_DAY) - Date.parse(FIRST_DAY);
    let waitedMs = 0;
    const now = () => new Date(Date.now() + virtualMs);
    const sleep = async (ms: number) => {
      waitedMs += ms;
      virtualMs += ms;
    };
    const { job, azure } = compose({
      config,
      log: silentLogger,
      simulator: { url: target.url, ca: target.ca, emailAccessKey: randomBytes(32).toString("base64") },
      storageConnectionString: connectionString,
      now,
      sleep,
    });
    let rendered = 0;
    const rendererFor = job.rendererFor;
    let auditEnd = 0;
    const stages: StageMeasure[] = [];
    const started = performance.now();
    let stageStarted = started;
    let stageCpu = process.cpuUsage();
    const stagePeak = { heapTotal: 0, external: 0 };
    const sample = () => {
      const { heapTotal, external } = process.memoryUsage();
      stagePeak.heapTotal = Math.max(stagePeak.heapTotal, heapTotal);
      stagePeak.external = Math.max(stagePeak.external, external);
    };
    sampler = setInterval(sample, SAMPLE_MS);
    sampler.unref();
    const onStageDone = (stage: JobStage) => {
      const at = performance.now();
      const cpuUsed = process.cpuUsage(stageCpu);
      sample();
      const { heapUsed, rss } = process.memoryUsage();
      stages.push({
        stage,
        seconds: Math.round(at - stageStarted) / 1000,
        cpuSeconds: Math.round((cpuUsed.user + cpuUsed.system) / 1000) / 1000,
        heapUsedMb: Math.round(heapUsed / 1048576),
        rssMb: Math.round(rss / 1048576),
        peakRssMb: Math.round(peakRssMb()),
        peakHeapTotalMb: Math.round(stagePeak.heapTotal / 1048576),
        peakExternalMb: Math.round(stagePeak.external / 1048576),
      });
      stagePeak.heapTotal = 0;
      stagePeak.external = 0;
      if (stage === snapshotAfter) writeHeapSnapshot(`bench-${stage}.heapsnapshot`);
      stageStarted = performance.now();
      stageCpu = process.cpuUsage();
    };
    const cpu = process.cpuUsage();
    const result = await runAuditJob(
      {
        ...job,
        rendererFor: (asOf) => {
          const inner = rendererFor(asOf);
          const count = <T extends unknown[], R>(fn: (...args: T) => Promise<R>) => (...args: T) => (rendered++, fn(...args));
          return { digest: count(inner.digest.bind(inner)), allClear: count(inner.allClear.bind(inner)), adminSummary: count(inner.adminSummary.bind(inner)) };
        },
        onStageDone,
        onProgress: (phase) => {
          if (phase === "reminders" && auditEnd === 0) auditEnd = performance.now();
        },
      },
      { runId: `bench-job-${order.asOf ?? FIRST_DAY}`, trigger: "timer", sendMode: "live", asOf: order.asOf ?? FIRST_DAY },
    );
    const jobWallSeconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    if (result.state !== "succeeded") throw new Error(`the job did not succeed: ${result.state === "failed" ? result.error.message : result.state}`);
    const { report, reminders } = result;
    return {
      jobWallSeconds,
      auditWallSeconds: ((auditEnd || performance.now()) - started) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6,
      peakRssMb: peakRssMb(),
      rendered,
      sent: reminders.sent,
      deferred: reminders.deferred,
      owners: new Set(report.findings.flatMap((f) => (f.owners ?? []).map((o) => o.address))).size,
      findings: report.summary.findings,
      sendingWaitSeconds: waitedMs / 1000,
      resourceGraphQueries: azure.inventory.stats.queries,
      failedScopes: report.summary.subscriptionsFailed + report.summary.accountsFailed + report.coverage.problems.length,
      heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 1048576),
      stages,
    };
  } finally {
    clearInterval(sampler);
    await own?.stop();
  }
}
