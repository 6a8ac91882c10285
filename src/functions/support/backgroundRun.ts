// Starts a run for the HTTP API without waiting for it to finish: Azure cuts an HTTP response at 230 s and a run
// can take longer. The request returns once the run holds the lock and its status blob exists (or once it is
// known that another run is active); the run goes on in this process after the response.
//
// Caveat: the Functions host does not know about work that outlives its invocation. The worker process keeps
// running it, but if the instance is recycled (scale-in after the host sees no executions, a deployment, a host
// restart) the run stops part-way. Nothing is lost that the next run cannot redo: the lock lease expires after
// 60 s, the ledger records every message before sending it, and GET runs/{id} reports such a run as abandoned.
// A queue-triggered worker would make the host own the run; see the README.
import type { FunctionsHost } from "../../app/functionsHost.js";
import { runJob } from "../../app/functionsHost.js";
import { newRunId } from "../../app/ids.js";
import type { Logger } from "../../app/logger.js";
import type { JobResult } from "../../app/runAuditJob.js";
import type { BlobReportStore, RunStatus } from "../../azure/blobReportStore.js";
import type { SendMode } from "../../config.js";
import { AuditError, ensureError } from "../../core/errors.js";

export type StartOutcome =
  | { state: "started"; runId: string }
  | { state: "already-running"; runId: string }
  | { state: "failed"; runId: string; error: Error }
  /** The run did not get going within the wait; it may still. */
  | { state: "starting"; runId: string };

/** Runs started here that have not finished; tests and the dashboard wait for them before shutting down. */
const inFlight = new Set<Promise<JobResult>>();

export function backgroundRuns(): Promise<unknown> {
  return Promise.allSettled([...inFlight]);
}

const START_WAIT_MS = 30_000;

export async function startBackgroundRun(host: FunctionsHost, log: Logger, request: { sendMode: SendMode }): Promise<StartOutcome> {
  const { composition } = host;
  // Cheap check first, so a busy lock does not cost a run id and a lease attempt.
  const active = await activeRun(host);
  if (active) return { state: "already-running", runId: await confirmActiveRun(host, active) };

  const runId = newRunId(composition.job.now());
  let signalStarted!: () => void;
  const started = new Promise<"started">((resolve) => {
    signalStarted = () => resolve("started");
  });
  const job = runJob(host, log.child({ runId }), { runId, trigger: "http", sendMode: request.sendMode }, { reports: observed(composition.reports, runId, signalStarted) });
  inFlight.add(job);
  void job.finally(() => inFlight.delete(job));

  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), START_WAIT_MS);
  });
  const first = await Promise.race([started, job, timeout]);
  clearTimeout(timer);

  if (first === "started") return { state: "started", runId };
  if (first === "timeout") return { state: "starting", runId };
  if (first.state === "already-running") return { state: "already-running", runId: await confirmActiveRun(host, first.activeRunId) };
  // Finished before its status was written: it never got going (storage unreachable).
  if (first.state === "failed") return { state: "failed", runId, error: first.error };
  return { state: "started", runId };
}

/** The run holding the lock; storage failures as the retryable AuditError the rest of the app uses. */
export async function activeRun(host: FunctionsHost): Promise<string | undefined> {
  try {
    return await host.composition.lock.activeRun();
  } catch (error) {
    throw new AuditError("LEDGER.UNAVAILABLE", `Cannot read the run lock in storage: ${ensureError(error).message}`, { retryable: true, cause: error });
  }
}

/**
 * The lock blob names its holder, but only after the holder has taken the lease: a reader in between sees the
 * previous holder's id (or none). Wait briefly until the named run has a status saying it runs.
 */
async function confirmActiveRun(host: FunctionsHost, hint: string): Promise<string> {
  const { lock, reports } = host.composition;
  let candidate = hint;
  for (let attempt = 0; attempt < 25; attempt++) {
    const status = await reports.status(candidate).catch(() => undefined);
    if (status?.state === "running") return candidate;
    await new Promise((r) => setTimeout(r, 100));
    candidate = (await lock.activeRun().catch(() => undefined)) ?? candidate;
  }
  return candidate;
}

/** The same store, telling us when this run's first status is saved: then the run holds the lock and can be polled. */
function observed(reports: BlobReportStore, runId: string, onFirstStatus: () => void): BlobReportStore {
  const store: BlobReportStore = Object.create(reports) as BlobReportStore;
  store.saveStatus = async (status: RunStatus) => {
    await reports.saveStatus(status);
    if (status.runId === runId) onFirstStatus();
  };
  return store;
}
