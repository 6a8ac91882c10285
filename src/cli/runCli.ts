// The CLI's flow, separate from argument parsing so tests can run it in-process.
// One run: audit, track progress, remind owners (per SEND_MODE), write the reports to <out>.
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, unlink, writeFile } from "node:fs/promises";
import { join, resolve, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { compose } from "../app/composition.js";
import { deliveryReportQueue, loadLocalAzure, type LocalSimulator, type LocalStorage } from "../app/localAzure.js";
import { newRunId } from "../app/ids.js";
import { createLogger, jsonLineSink, silentLogger } from "../app/logger.js";
import { runAuditJob, type JobResult } from "../app/runAuditJob.js";
import { runSendOnly, type SendOnlyResult } from "../app/runSendOnly.js";
import { selectRules } from "../core/rules/ruleSet.js";
import { loadConfig, type SendMode } from "../config.js";
import { isIsoDay, toIsoDay } from "../core/dates.js";
import { AuditError, ensureError } from "../core/errors.js";
import { isGuid } from "../core/ids.js";
import { eachOf, pagesOf } from "../core/deflatedJson.js";
import type { AuditReport } from "../core/model.js";
import { migrationFilesFor } from "../render/migrationFiles.js";
import { textStream } from "../report/textChunks.js";
import { lockStateFolder, type StateLock, type StateLockHolder } from "./stateLock.js";
import { AZURE_TENANT_KEY, simulatedTenantKey, tenantStateFolder } from "./tenantState.js";
import { formatSendOnlySummary, formatSummary } from "./summary.js";

export interface CliOptions {
  simulate?: string | undefined;
  subscriptions?: string | undefined;
  managementGroups?: string | undefined;
  now?: string | undefined;
  out?: string | undefined;
  format?: string | undefined;
  sendMode?: string | undefined;
  /** Audit nothing: send what the latest audit planned and did not fit the limits (the sending timer's run). */
  sendOnly?: boolean | undefined;
  /** Exit 0 when coverage is incomplete (the demo tenant has an unreadable account on purpose). */
  allowIncomplete?: boolean | undefined;
  /** Seconds to wait for a run that holds the lock (another CLI on the same --out, or any run on the same storage). */
  waitForLock?: string | undefined;
  quiet?: boolean | undefined;
  verbose?: boolean | undefined;
  /** Comma-separated rule ids: audit and remind about only these rules (findings of the others are left as they are). */
  rules?: string | undefined;
}

export interface CliIo {
  env?: Readonly<Record<string, string | undefined>>;
  stdout?: { write(s: string): unknown; isTTY?: boolean };
  stderr?: { write(s: string): unknown; isTTY?: boolean };
  clock?: () => Date;
}

const FORMATS = ["json", "csv", "html"] as const;
type Format = (typeof FORMATS)[number];
const SEND_MODES: readonly SendMode[] = ["dry-run", "redirect", "live"];
/** The sender the simulated Communication Email service uses when SENDER_ADDRESS is not set. */
const SIMULATED_SENDER = "DoNotReply@batch-cert-auditor.example";

const SIGN_IN_HELP =
  "  Nothing was audited, reported or sent. Sign in with `az login` (the CLI uses DefaultAzureCredential), or, in Azure,\n" +
  "  give the app its managed identity (AZURE_CLIENT_ID for a user-assigned one).";

export interface CliResult {
  exitCode: number;
  report?: AuditReport;
  job?: JobResult;
  /** The run, with --send-only. */
  sendOnly?: SendOnlyResult;
  files: string[];
}

export async function runCli(options: CliOptions, io: CliIo = {}): Promise<number> {
  return (await runCliDetailed(options, io)).exitCode;
}

export async function runCliDetailed(options: CliOptions, io: CliIo = {}): Promise<CliResult> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const clock = io.clock ?? (() => new Date());
  let simulator: LocalSimulator | undefined;
  let storage: LocalStorage | undefined;
  let stateLock: StateLock | undefined;
  try {
    const request = parseOptions(options, clock());
    const runId = newRunId(clock());
    const lockDeadline = Date.now() + request.waitForLockSeconds * 1000;
    const env = { ...(io.env ?? process.env) };
    if (request.simulate) {
      // Against the simulator, mail goes to the simulated service unless SEND_MODE says otherwise.
      env.SEND_MODE ??= "live";
      env.SENDER_ADDRESS ??= SIMULATED_SENDER;
    }
    if (request.sendMode) env.SEND_MODE = request.sendMode;
    const config = loadConfig(env, { simulated: Boolean(request.simulate) });
    // An unknown rule id fails here, with the list of rules, before anything is read.
    const rules = request.rules ? selectRules(config.rules.enabled, request.rules) : undefined;
    const scope = {
      subscriptions: request.subscriptions ?? config.scope.subscriptions,
      managementGroups: request.managementGroups ?? config.scope.managementGroups,
    };

    const ownStorage = !config.storage.connectionString && !config.storage.accountName;
    if (ownStorage) {
      // One CLI at a time on <out>/.state, taken before anything else in <out> is touched (the simulated mail store
      // lives there too).
      const attempt = await waitFor(
        () => lockStateFolder(join(request.out, ".state"), { runId, startedAt: clock().toISOString() }),
        (a) => "lock" in a,
        lockDeadline,
        500,
        (a) => "heldBy" in a && !options.quiet && stderr.write(`batch-cert-auditor: waiting up to ${request.waitForLockSeconds} s for ${holderName(a.heldBy)} to finish with ${join(request.out, ".state")}\n`),
      );
      if (!("lock" in attempt)) {
        stderr.write(stateLockHeldMessage(attempt.heldBy, join(request.out, ".state"), request.waitForLockSeconds));
        return { exitCode: 1, files: [] };
      }
      stateLock = attempt.lock;
    }

    let tenantId: string | undefined;
    const emailAccessKey = randomBytes(32).toString("base64");
    if (request.simulate) {
      const { loadSnapshot, startSimulator } = await loadLocalAzure("--simulate");
      const snapshot = await loadSnapshot(request.simulate);
      tenantId = snapshot.tenantId;
      simulator = await startSimulator({ snapshot, email: { outDir: request.out, accessKey: emailAccessKey } });
    }
    if (ownStorage) {
      // No AzureWebJobsStorage: keep the ledger in a local Azurite under <out>/.state, one folder per tenant, so a
      // second run remembers and the demo's ledger never mixes with a real tenant's.
      const { startAzurite } = await loadLocalAzure("Keeping the ledger locally (AzureWebJobsStorage is not set)");
      const key = tenantId ? simulatedTenantKey(tenantId) : AZURE_TENANT_KEY;
      const location = await tenantStateFolder(join(request.out, ".state"), key, (line) => {
        if (!options.quiet) stderr.write(line);
      });
      storage = await startAzurite({ location });
      if (storage.pid !== undefined) await stateLock?.setStoragePid(storage.pid);
    }

    const log = options.verbose ? createLogger(jsonLineSink(stderr)) : silentLogger;
    const dryRunDir = join(request.out, "emails-dry-run");
    const { job } = compose({
      config,
      log,
      ...(simulator ? { simulator: { url: simulator.url, ca: simulator.ca, emailAccessKey, deliveryReports: deliveryReportQueue(simulator) } } : {}),
      ...(storage ? { storageConnectionString: storage.connectionString } : {}),
      ...(tenantId ? { tenantId } : {}),
      ...(config.sendMode === "dry-run"
        ? {
            // Dry-run sends nothing; each message it would have sent is written out for review instead.
            onMessage: async (message, email) => {
              await mkdir(dryRunDir, { recursive: true });
              await writeFile(join(dryRunDir, `${message.operationId}.html`), email.html, "utf8");
            },
          }
        : {}),
    });

    if (request.sendOnly) {
      const sent = await waitFor(
        () => runSendOnly(job, { runId, trigger: "cli", sendMode: config.sendMode }),
        (r) => r.state !== "already-running",
        lockDeadline,
        2000,
        (r) => r.state === "already-running" && !options.quiet && stderr.write(`batch-cert-auditor: waiting up to ${request.waitForLockSeconds} s for run ${r.activeRunId} to release the run lock\n`),
      );
      if (sent.state === "already-running") {
        stderr.write(runLockHeldMessage(sent, request.waitForLockSeconds));
        return { exitCode: 1, sendOnly: sent, files: [] };
      }
      if (sent.state === "failed") throw sent.error;
      if (sent.state === "no-audit") {
        stderr.write("batch-cert-auditor: no audit has stored a report on this storage yet, so nothing is planned; run an audit first (without --send-only).\n");
        return { exitCode: 1, sendOnly: sent, files: [] };
      }
      const mailDir = config.sendMode === "dry-run" ? dryRunDir : join(request.out, "emails");
      stdout.write(formatSendOnlySummary(sent, { quiet: options.quiet ?? false, mailDir, simulated: Boolean(simulator) }));
      return { exitCode: 0, sendOnly: sent, files: [] };
    }

    const progress = stderr.isTTY && !options.quiet;
    const context = progress ? { ...job, onProgress: (phase: string, done: number, total: number) => stderr.write(phase === "done" ? "\r\x1b[K" : `\r\x1b[K${phase}: ${done}/${total}`) } : job;
    // Polling is all a blob lease offers: it cannot notify a waiter.
    const result = await waitFor(
      () => runAuditJob(context, { runId, trigger: "cli", sendMode: config.sendMode, asOf: request.asOf, scope, ...(rules ? { rules } : {}) }),
      (r) => r.state !== "already-running",
      lockDeadline,
      2000,
      (r) => r.state === "already-running" && !options.quiet && stderr.write(`batch-cert-auditor: waiting up to ${request.waitForLockSeconds} s for run ${r.activeRunId} to release the run lock\n`),
    );
    if (result.state === "already-running") {
      stderr.write(runLockHeldMessage(result, request.waitForLockSeconds));
      return { exitCode: 1, job: result, files: [] };
    }
    if (result.state === "failed") throw result.error;

    if (progress) stderr.write("\r\x1b[K");
    const files = await writeReports(result, request.out, request.formats);
    const removed = await removeStaleReports(request.out, request.formats);
    const mailDir = config.sendMode === "dry-run" ? dryRunDir : join(request.out, "emails");
    stdout.write(formatSummary(result.report, { files, removed, quiet: options.quiet ?? false, reminders: result.reminders, mailDir, simulated: Boolean(simulator) }));
    return { exitCode: result.report.coverage.complete || options.allowIncomplete ? 0 : 2, report: result.report, job: result, files };
  } catch (error) {
    const e = ensureError(error);
    stderr.write(`batch-cert-auditor: ${e.message}\n`);
    if (e instanceof AuditError && e.code === "AUTH.SIGN_IN_FAILED") stderr.write(`${SIGN_IN_HELP}\n`);
    return { exitCode: 1, files: [] };
  } finally {
    await simulator?.close();
    await storage?.stop();
    await stateLock?.release();
  }
}

/** Calls `attempt` until `done` says so or the deadline passes (at least once), `everyMs` apart; `onWait` once, on the first wait. */
async function waitFor<T>(attempt: () => Promise<T>, done: (value: T) => boolean, deadline: number, everyMs: number, onWait: (value: T) => unknown): Promise<T> {
  for (let first = true; ; first = false) {
    const value = await attempt();
    const left = deadline - Date.now();
    if (done(value) || left <= 0) return value;
    if (first) onWait(value);
    await new Promise((resolve) => setTimeout(resolve, Math.min(everyMs, left)));
  }
}

function waited(seconds: number): string {
  return seconds > 0 ? `still held after waiting ${seconds} s` : "wait for it with --wait-for-lock <seconds>";
}

function holderName(holder: StateLockHolder | undefined): string {
  return holder ? `another batch-cert-auditor (process ${holder.pid}, run ${holder.runId}, started ${holder.startedAt})` : "another batch-cert-auditor";
}

function stateLockHeldMessage(holder: StateLockHolder | undefined, stateDir: string, waitSeconds: number): string {
  return (
    `batch-cert-auditor: ${holderName(holder)} is using ${stateDir}; one run at a time on an --out folder.\n` +
    `  Try again when it has finished, or ${waited(waitSeconds)}.\n`
  );
}

function runLockHeldMessage(result: { activeRunId: string; activeRunSince?: string; freesWithinSeconds?: number }, waitSeconds: number): string {
  const since = result.activeRunSince ? ` (started ${result.activeRunSince})` : "";
  const frees =
    result.freesWithinSeconds !== undefined
      ? `; if it was stopped or crashed, its lock frees itself within ${result.freesWithinSeconds} seconds`
      : "";
  return (
    `batch-cert-auditor: run ${result.activeRunId}${since} holds the run lock on this storage.\n` +
    `  If it is still running, try again when it has finished${frees}. ${waitSeconds > 0 ? `Lock ${waited(waitSeconds)}.` : `Or ${waited(waitSeconds)}.`}\n`
  );
}

interface ParsedRequest {
  simulate?: string;
  subscriptions?: string[];
  managementGroups?: string[];
  asOf: string;
  out: string;
  formats: Format[];
  sendMode?: SendMode;
  sendOnly: boolean;
  waitForLockSeconds: number;
  rules?: string[];
}

function parseOptions(options: CliOptions, now: Date): ParsedRequest {
  const problems: string[] = [];
  const asOf = options.now ?? toIsoDay(now);
  if (!isIsoDay(asOf)) problems.push(`--now must be a date as YYYY-MM-DD (got "${asOf}")`);
  const formats = (options.format ?? FORMATS.join(",")).split(",").map((f) => f.trim().toLowerCase()).filter(Boolean);
  const unknown = formats.filter((f) => !(FORMATS as readonly string[]).includes(f));
  if (unknown.length > 0 || formats.length === 0) problems.push(`--format takes a comma-separated list of ${FORMATS.join(", ")} (got "${options.format}")`);
  const split = (v: string | undefined) => (v === undefined ? undefined : v.split(/[,\s]+/).map((s) => s.trim()).filter(Boolean));
  const subscriptions = split(options.subscriptions);
  const badSubs = (subscriptions ?? []).filter((s) => !isGuid(s));
  if (badSubs.length > 0) problems.push(`--subscriptions takes subscription ids (GUIDs); not ids: ${badSubs.join(", ")}`);
  if (options.sendMode !== undefined && !SEND_MODES.includes(options.sendMode as SendMode)) {
    problems.push(`--send-mode takes one of ${SEND_MODES.join(", ")} (got "${options.sendMode}")`);
  }
  const waitForLockSeconds = options.waitForLock === undefined ? 0 : Number(options.waitForLock);
  if (!/^\d+$/.test(options.waitForLock ?? "0") || !Number.isSafeInteger(waitForLockSeconds)) {
    problems.push(`--wait-for-lock takes a whole number of seconds (got "${options.waitForLock}")`);
  }
  if (options.sendOnly) {
    // A sending run plans for the day of the latest audit, over that audit's scope: it takes neither.
    for (const [given, flag] of [
      [options.now, "--now"],
      [options.subscriptions, "--subscriptions"],
      [options.managementGroups, "--management-groups"],
      [options.rules, "--rules"],
    ] as const) {
      if (given !== undefined) problems.push(`${flag} cannot go with --send-only: a sending run sends what the latest audit planned, for its day and scope`);
    }
  }
  if (problems.length > 0) throw new AuditError("CONFIG.INVALID", `Invalid options:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  const managementGroups = split(options.managementGroups);
  return {
    ...(options.simulate ? { simulate: options.simulate } : {}),
    ...(subscriptions ? { subscriptions } : {}),
    ...(managementGroups ? { managementGroups } : {}),
    ...(options.rules !== undefined ? { rules: split(options.rules) ?? [] } : {}),
    ...(options.sendMode ? { sendMode: options.sendMode as SendMode } : {}),
    asOf,
    sendOnly: options.sendOnly ?? false,
    out: resolve(options.out ?? "out"),
    formats: formats as Format[],
    waitForLockSeconds,
  };
}

function* endLine(pieces: Iterable<string>): Generator<string> {
  yield* pieces;
  yield "\n";
}

/**
 * An earlier run's report.<format> for a format this run did not write would sit beside this run's reports looking
 * current: removed, and the summary names what went.
 */
async function removeStaleReports(out: string, formats: readonly Format[]): Promise<string[]> {
  const removed: string[] = [];
  for (const format of FORMATS.filter((f) => !formats.includes(f))) {
    const path = join(out, `report.${format}`);
    try {
      await unlink(path);
      removed.push(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return removed;
}

async function writeReports(result: Extract<JobResult, { state: "succeeded" }>, out: string, formats: Format[]): Promise<string[]> {
  await mkdir(out, { recursive: true });
  const files: string[] = [];
  // Each written while it is made (at scale each is tens of MB).
  const write = async (name: string, pieces: Iterable<string>) => {
    const path = join(out, name);
    await pipeline(textStream(pieces), createWriteStream(path));
    files.push(path);
  };
  if (formats.includes("json")) await write("report.json", endLine(result.formats.json()));
  if (formats.includes("csv")) await write("report.csv", result.formats.csv());
  if (formats.includes("html")) await write("report.html", result.formats.html());
  // One replacement body and one script per affected pool, ready for `az rest --body @<file>`: each written as it is
  // made, the findings read a page at a time where the run holds them deflated.
  const dir = join(out, "migrations");
  let kits = 0;
  for (const file of migrationFilesFor(eachOf(pagesOf(result.report, "findings")))) {
    if (kits++ === 0) await mkdir(dir, { recursive: true });
    await writeFile(join(dir, file.name), file.content, "utf8");
  }
  if (kits > 0) files.push(`${dir}${sep}`);
  return files;
}
