// OpenTelemetry for the Functions app: exported to Application Insights only when a connection string is set,
// with the managed identity when AZURE_CLIENT_ID is set (the infra disables local, key-based auth). Metrics go
// through the global @opentelemetry/api meter, so without an exporter they cost nothing.
import { ManagedIdentityCredential } from "@azure/identity";
import { metrics, type Counter, type Gauge, type Histogram, type MeterProvider } from "@opentelemetry/api";
import type { AppConfig } from "../config.js";
import type { Logger } from "./logger.js";
import type { JobResult, JobRequest } from "./runAuditJob.js";
import type { SendOnlyResult } from "./runSendOnly.js";

export const METER_NAME = "batch-cert-auditor";

let started: Promise<boolean> | undefined;

/** Starts the Azure Monitor exporter once per process; resolves false when it is not configured or failed. */
export function startTelemetry(config: AppConfig, log: Logger): Promise<boolean> {
  const connectionString = config.appInsightsConnectionString;
  if (!connectionString) return Promise.resolve(false);
  started ??= (async () => {
    // Loaded only when used: the exporter pulls in much of the OpenTelemetry SDK.
    const { useAzureMonitor } = await import("@azure/monitor-opentelemetry");
    const clientId = config.managedIdentityClientId;
    useAzureMonitor({
      azureMonitorExporterOptions: { connectionString, ...(clientId ? { credential: new ManagedIdentityCredential({ clientId }) } : {}) },
    });
    log.info("telemetry exported to Application Insights", { managedIdentity: Boolean(clientId) });
    return true;
  })().catch((error: unknown) => {
    // Telemetry must never stop an audit.
    log.warn("telemetry could not start", { error: error instanceof Error ? error.message : String(error) });
    return false;
  });
  return started;
}

interface Instruments {
  openFindings: Gauge;
  findings: Counter;
  messagesSent: Counter;
  messagesSkipped: Counter;
  failedScopes: Counter;
  runs: Counter;
  duration: Histogram;
}

let cache: { provider: MeterProvider; instruments: Instruments } | undefined;

/** Instruments of the current global meter provider (created again if a provider is registered later). */
function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (cache?.provider === provider) return cache.instruments;
  const meter = provider.getMeter(METER_NAME);
  const made: Instruments = {
    openFindings: meter.createGauge("audit.findings.open", { description: "Open findings at the end of the last run, by severity" }),
    findings: meter.createCounter("audit.findings", { description: "Findings reported by runs, by severity" }),
    messagesSent: meter.createCounter("audit.messages.sent", { description: "Reminder emails accepted by the mail service" }),
    messagesSkipped: meter.createCounter("audit.messages.skipped", { description: "Planned reminders not sent, by reason (deferred, already-sent, failed)" }),
    failedScopes: meter.createCounter("audit.scopes.failed", { description: "Subscriptions, accounts and queries a run could not read" }),
    runs: meter.createCounter("audit.runs", { description: "Runs by trigger and outcome" }),
    duration: meter.createHistogram("audit.run.duration", { unit: "s", description: "Duration of a run" }),
  };
  cache = { provider, instruments: made };
  return made;
}

export function recordRun(result: JobResult, trigger: JobRequest["trigger"], durationMs: number): void {
  const m = instruments();
  m.runs.add(1, { trigger, outcome: result.state });
  if (result.state === "already-running") return;
  m.duration.record(durationMs / 1000, { trigger, outcome: result.state });
  if (result.state !== "succeeded") return;
  const { summary, coverage } = result.report;
  for (const severity of ["critical", "warning"] as const) {
    m.findings.add(summary[severity], { severity });
    m.openFindings.record(summary[severity], { severity });
  }
  const { reminders } = result;
  const mode = reminders.mode;
  m.messagesSent.add(reminders.sent, { send_mode: mode });
  m.messagesSkipped.add(reminders.deferred, { reason: "deferred", send_mode: mode });
  m.messagesSkipped.add(reminders.alreadySent, { reason: "already-sent", send_mode: mode });
  m.messagesSkipped.add(reminders.failed.length, { reason: "failed", send_mode: mode });
  m.failedScopes.add(summary.accountsFailed + summary.subscriptionsFailed + coverage.problems.length);
}

/** A sending run's outcome: the same run and message counters, its runs told apart by `kind`. */
export function recordSendOnlyRun(result: SendOnlyResult, trigger: JobRequest["trigger"], durationMs: number): void {
  const m = instruments();
  m.runs.add(1, { trigger, outcome: result.state, kind: "send-only" });
  if (result.state === "already-running") return;
  m.duration.record(durationMs / 1000, { trigger, outcome: result.state, kind: "send-only" });
  if (result.state !== "succeeded") return;
  const { reminders } = result;
  const mode = reminders.mode;
  m.messagesSent.add(reminders.sent, { send_mode: mode });
  m.messagesSkipped.add(reminders.deferred, { reason: "deferred", send_mode: mode });
  m.messagesSkipped.add(reminders.alreadySent, { reason: "already-sent", send_mode: mode });
  m.messagesSkipped.add(reminders.failed.length, { reason: "failed", send_mode: mode });
}
