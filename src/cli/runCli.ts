// The CLI's flow, separate from argument parsing so tests can run it in-process.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { connectAzure } from "../app/connectAzure.js";
import { loadConfig } from "../config.js";
import { auditTenant } from "../core/auditTenant.js";
import { isIsoDay, toIsoDay } from "../core/dates.js";
import { AuditError, ensureError } from "../core/errors.js";
import type { AuditReport } from "../core/model.js";
import { reportToCsv } from "../report/reportCsv.js";
import { startSimulator, type SimulatedAzure } from "../simulator/server.js";
import { loadSnapshot } from "../simulator/snapshot.js";
import { formatSummary } from "./summary.js";

export interface CliOptions {
  simulate?: string | undefined;
  subscriptions?: string | undefined;
  managementGroups?: string | undefined;
  now?: string | undefined;
  out?: string | undefined;
  format?: string | undefined;
  quiet?: boolean | undefined;
}

export interface CliIo {
  env?: Readonly<Record<string, string | undefined>>;
  stdout?: { write(s: string): unknown; isTTY?: boolean };
  stderr?: { write(s: string): unknown; isTTY?: boolean };
  clock?: () => Date;
}

const FORMATS = ["json", "csv", "html"] as const;
type Format = (typeof FORMATS)[number];

export interface CliResult {
  exitCode: number;
  report?: AuditReport;
  files: string[];
}

export async function runCli(options: CliOptions, io: CliIo = {}): Promise<number> {
  return (await runCliDetailed(options, io)).exitCode;
}

export async function runCliDetailed(options: CliOptions, io: CliIo = {}): Promise<CliResult> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const clock = io.clock ?? (() => new Date());
  let simulator: SimulatedAzure | undefined;
  try {
    const request = parseOptions(options, clock());
    const config = loadConfig(io.env ?? process.env);
    const scope = {
      subscriptions: request.subscriptions ?? config.scope.subscriptions,
      managementGroups: request.managementGroups ?? config.scope.managementGroups,
    };

    let tenantId: string | undefined;
    if (request.simulate) {
      const snapshot = await loadSnapshot(request.simulate);
      tenantId = snapshot.tenantId;
      simulator = await startSimulator({ snapshot });
    }
    const azure = connectAzure({
      ...(simulator ? { simulator: { url: simulator.url, ca: simulator.ca } } : {}),
      ...(config.managedIdentityClientId ? { managedIdentityClientId: config.managedIdentityClientId } : {}),
      // Locally the simulator answers at once; keep retries short so a failing scope is reported quickly.
      ...(simulator ? { retry: { maxRetries: 3, retryDelayInMs: 50, maxRetryDelayInMs: 500 } } : {}),
    });

    const progress = stderr.isTTY && !options.quiet;
    const report = await auditTenant(
      {
        inventory: azure.inventory,
        certificates: azure.certificates,
        concurrency: config.batchConcurrency,
        ...(progress
          ? { onProgress: (p) => stderr.write(p.phase === "done" ? "\r\x1b[K" : `\r\x1b[K${p.phase}: ${p.done}/${p.total}`) }
          : {}),
      },
      { scope, asOf: request.asOf, generatedAt: clock().toISOString(), deadline: config.schedule.deadline, ...(tenantId ? { tenantId } : {}) },
    );

    const files = await writeReports(report, request.out, request.formats);
    stdout.write(formatSummary(report, { files, quiet: options.quiet ?? false }));
    return { exitCode: report.coverage.complete ? 0 : 2, report, files };
  } catch (error) {
    const e = ensureError(error);
    stderr.write(`batch-cert-auditor: ${e.message}\n`);
    return { exitCode: 1, files: [] };
  } finally {
    await simulator?.close();
  }
}

interface ParsedRequest {
  simulate?: string;
  subscriptions?: string[];
  managementGroups?: string[];
  asOf: string;
  out: string;
  formats: Format[];
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
  const badSubs = (subscriptions ?? []).filter((s) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s));
  if (badSubs.length > 0) problems.push(`--subscriptions takes subscription ids (GUIDs); not ids: ${badSubs.join(", ")}`);
  if (problems.length > 0) throw new AuditError("CONFIG.INVALID", `Invalid options:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  const managementGroups = split(options.managementGroups);
  return {
    ...(options.simulate ? { simulate: options.simulate } : {}),
    ...(subscriptions ? { subscriptions } : {}),
    ...(managementGroups ? { managementGroups } : {}),
    asOf,
    out: resolve(options.out ?? "out"),
    formats: formats as Format[],
  };
}

async function writeReports(report: AuditReport, out: string, formats: Format[]): Promise<string[]> {
  await mkdir(out, { recursive: true });
  const files: string[] = [];
  const write = async (name: string, content: string) => {
    const path = join(out, name);
    await writeFile(path, content, "utf8");
    files.push(path);
  };
  if (formats.includes("json")) await write("report.json", `${JSON.stringify(report, null, 2)}\n`);
  if (formats.includes("csv")) await write("report.csv", reportToCsv(report));
  return files;
}

