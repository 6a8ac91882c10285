// The Functions app's composition: configuration and adapters built once per host process and shared by every
// invocation, loggers bound to an InvocationContext, and runs measured for telemetry. The trigger files use it;
// tests and the local dashboard point it at the simulator and Azurite through configureHost().
import type { InvocationContext } from "@azure/functions";
import { loadConfig, type AppConfig } from "../config.js";
import { AuditError, ensureError } from "../core/errors.js";
import { compose, type Composition } from "./composition.js";
import { createLogger, jsonLineSink, type Fields, type Logger, type LogSink } from "./logger.js";
import { runAuditJob, type JobContext, type JobRequest, type JobResult } from "./runAuditJob.js";
import { runSendOnly, type SendOnlyRequest, type SendOnlyResult } from "./runSendOnly.js";
import { recordRun, recordSendOnlyRun, startTelemetry } from "./telemetry.js";
import type { DeliveryReportQueue } from "./runAuditJob.js";

export interface HostOptions {
  /** Settings instead of process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The simulated Azure (ARM and Communication Email) instead of the real one. */
  simulator?: { url: string; ca: string; emailAccessKey: string; deliveryReports?: DeliveryReportQueue };
  /** Storage instead of AzureWebJobsStorage (a local Azurite). */
  storageConnectionString?: string;
  tenantId?: string;
  /** Link put into the reminder emails. */
  reportUrl?: string;
  now?: () => Date;
  /** Where logs go that belong to no invocation (adapter warnings, a run that outlives its HTTP request). */
  hostLogSink?: LogSink;
}

export interface FunctionsHost {
  config: AppConfig;
  composition: Composition;
  /** Logs that belong to no invocation. */
  log: Logger;
}

let options: HostOptions = {};
let cached: { host: FunctionsHost } | { error: AuditError } | undefined;

/** For tests and the local dashboard only: what the next getHost() builds from. Drops the cached host. */
export function configureHost(next: HostOptions): void {
  options = next;
  cached = undefined;
}

/**
 * The host's configuration and adapters, built on first use and kept for the life of the process. A bad
 * configuration is kept too: every invocation fails the same way, naming every problem, until it is fixed
 * (app settings changes restart the host).
 */
export function getHost(): FunctionsHost {
  if (!cached) cached = buildHost();
  if ("error" in cached) throw cached.error;
  return cached.host;
}

function buildHost(): { host: FunctionsHost } | { error: AuditError } {
  const log = createLogger(options.hostLogSink ?? jsonLineSink(process.stdout), { component: "host" });
  try {
    const config = loadConfig(options.env ?? process.env, { simulated: Boolean(options.simulator) });
    let composition: Composition;
    try {
      composition = compose({
        config,
        log,
        ...(options.simulator ? { simulator: options.simulator } : {}),
        ...(options.storageConnectionString ? { storageConnectionString: options.storageConnectionString } : {}),
        ...(options.tenantId ? { tenantId: options.tenantId } : {}),
        ...(options.reportUrl ? { reportUrl: options.reportUrl } : {}),
        ...(options.now ? { now: options.now } : {}),
      });
    } catch (error) {
      // Storage that is not configured is a configuration problem, reported the same way.
      throw new AuditError("CONFIG.INVALID", `Configuration is not valid (1 problem):\n  - AzureWebJobsStorage: ${ensureError(error).message}`);
    }
    void startTelemetry(config, log);
    return { host: { config, composition, log } };
  } catch (error) {
    const e = error instanceof AuditError ? error : new AuditError("CONFIG.INVALID", ensureError(error).message);
    log.error("the app cannot start: fix these settings", { code: e.code, problems: e.message });
    return { error: e };
  }
}

export interface InvocationLog {
  log: Logger;
  /** After the invocation has returned: later lines go to the host log instead of the finished context. */
  detach(): void;
}

/**
 * A Logger that writes through the invocation's context (so the Functions host correlates the lines with the
 * invocation), one line per entry: the message, then its fields as JSON.
 */
export function invocationLog(context: InvocationContext, fields: Fields = {}): InvocationLog {
  let attached = true;
  const fallback = options.hostLogSink ?? jsonLineSink(process.stdout);
  const sink: LogSink = (level, message, f) => {
    if (!attached) return fallback(level, message, f);
    const line = `${message} ${JSON.stringify(f)}`;
    if (level === "error") context.error(line);
    else if (level === "warn") context.warn(line);
    else context.info(line);
  };
  return {
    log: createLogger(sink, { invocationId: context.invocationId, functionName: context.functionName, ...fields }),
    detach: () => {
      attached = false;
    },
  };
}

/** One run with the host's adapters, its outcome recorded as metrics. */
export async function runJob(host: FunctionsHost, log: Logger, request: JobRequest, overrides: Partial<JobContext> = {}): Promise<JobResult> {
  const started = Date.now();
  const job: JobContext = { ...host.composition.job, ...overrides, log };
  try {
    const result = await runAuditJob(job, request);
    recordRun(result, request.trigger, Date.now() - started);
    return result;
  } catch (error) {
    // runAuditJob reports its own failures; this is the lock itself being unreachable.
    const e = ensureError(error);
    const result: JobResult = { state: "failed", runId: request.runId, error: e };
    recordRun(result, request.trigger, Date.now() - started);
    log.error("run could not start", { runId: request.runId, error: e.message });
    return result;
  }
}

/** One sending run (no audit) with the host's adapters, its outcome recorded as metrics. */
export async function runSendOnlyJob(host: FunctionsHost, log: Logger, request: SendOnlyRequest): Promise<SendOnlyResult> {
  const started = Date.now();
  const job: JobContext = { ...host.composition.job, log };
  try {
    const result = await runSendOnly(job, request);
    recordSendOnlyRun(result, request.trigger, Date.now() - started);
    return result;
  } catch (error) {
    // runSendOnly reports its own failures; this is the lock itself being unreachable.
    const e = ensureError(error);
    const result: SendOnlyResult = { state: "failed", runId: request.runId, error: e };
    recordSendOnlyRun(result, request.trigger, Date.now() - started);
    log.error("sending run could not start", { runId: request.runId, error: e.message });
    return result;
  }
}
