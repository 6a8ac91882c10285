// Runs of the whole product for the reminder and reliability tests: through the CLI flow (runCliDetailed), or
// composed by hand (compose + runAuditJob) over a simulator and an Azurite the test owns.
import { deliveryReportQueue } from "../../src/app/localAzure.js";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compose, type Composition } from "../../src/app/composition.js";
import { silentLogger } from "../../src/app/logger.js";
import { runAuditJob, type JobResult } from "../../src/app/runAuditJob.js";
import { runCliDetailed, type CliOptions, type CliResult } from "../../src/cli/runCli.js";
import { loadConfig } from "../../src/config.js";
import type { EmailOperationRecord } from "@batch-cert-auditor/simulated-azure";
import { startAzurite, startSimulator, type LocalStorage, type SimulatedAzure } from "@batch-cert-auditor/simulated-azure";
import { afterAll, beforeAll } from "vitest";
import type { TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import { demoTenant } from "./simulatedAzure.js";

export const SENDER = "DoNotReply@batch-cert-auditor.example";

/** The six owners the demo tenant's findings resolve to (someone@gmail.com is snoozed, reporting@ unreadable). */
export const DEMO_OWNERS = [
  "alice.jones@contoso.com",
  "bob.smith@contoso.com",
  "dana@contoso.com",
  "genomics-team@contoso.com",
  "imaging-oncall@contoso.com",
  // Contoso Lab has no owner tag anywhere: its account's owners come from role assignments.
  "lab-lead@contoso.com",
  "priya@contoso.com",
  "risk-eng@contoso.com",
] as const;

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

export async function writeSnapshot(dir: string, snapshot: TenantSnapshot, name = "tenant.json"): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${JSON.stringify(snapshot, null, 2)}\n`, "utf8");
  return path;
}

/** A copy of the demo tenant to change freely. */
export function demo(): TenantSnapshot {
  return structuredClone(demoTenant());
}

/** Fresh table and container names, so tests sharing one Azurite do not share a ledger or a run lock. */
export function isolatedStorage(azuriteConnectionString: string): Record<string, string> {
  const id = randomBytes(5).toString("hex");
  return { AzureWebJobsStorage: azuriteConnectionString, LEDGER_TABLE: `ledger${id}`, REPORT_CONTAINER: `reports-${id}` };
}

export interface CliRun extends CliResult {
  stdout: string;
  stderr: string;
}

/** One CLI run in-process, as `batch-cert-auditor --simulate <snapshot> --out <out> --now <day>` with that environment. */
export async function runCliAt(options: {
  snapshot: string;
  out: string;
  now: string;
  env: Record<string, string>;
  sendMode?: string;
  /** Further CLI options, e.g. `subscriptions` or `managementGroups`. */
  cli?: Partial<CliOptions>;
}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const result = await runCliDetailed(
    { simulate: options.snapshot, out: options.out, now: options.now, format: "json,html", ...(options.sendMode ? { sendMode: options.sendMode } : {}), ...options.cli },
    { env: options.env, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
  );
  return { ...result, stdout, stderr };
}

/** What the simulated Communication Email service accepted into `<out>/emails` (across every run that used `out`). */
export async function mailbox(out: string): Promise<Mailbox> {
  let operations: EmailOperationRecord[] = [];
  try {
    const store = JSON.parse(await readFile(join(out, "emails", "operations.json"), "utf8")) as { operations: Record<string, EmailOperationRecord> };
    operations = Object.values(store.operations);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  return new Mailbox(operations, join(out, "emails"));
}

export class Mailbox {
  constructor(
    readonly operations: EmailOperationRecord[],
    private readonly dir: string,
  ) {}

  sentTo(address: string): EmailOperationRecord[] {
    const wanted = address.toLowerCase();
    return this.operations.filter((op) => op.to.some((t) => t.toLowerCase() === wanted));
  }

  /** Messages per recipient address (lower-case). */
  perRecipient(): Map<string, number> {
    return countRecipients(this.operations.map((op) => op.to));
  }

  html(op: EmailOperationRecord): Promise<string> {
    return readFile(join(this.dir, `${op.id}.html`), "utf8");
  }
}

export function countRecipients(toLists: readonly (readonly string[])[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const to of toLists) for (const address of to) counts.set(address.toLowerCase(), (counts.get(address.toLowerCase()) ?? 0) + 1);
  return counts;
}

/** Every one of `owners` exactly `times` messages, nobody else any. */
export function exactly(owners: readonly string[], times = 1): Map<string, number> {
  return new Map(owners.map((o) => [o.toLowerCase(), times]));
}

/** A simulator the test owns (so it can read `sim.email` and inject faults), with its email store under `outDir`. */
export async function startSimulatedAzure(snapshot: TenantSnapshot, outDir?: string): Promise<{ sim: SimulatedAzure; accessKey: string }> {
  const accessKey = randomBytes(32).toString("base64");
  const sim = await startSimulator({ snapshot, email: { accessKey, ...(outDir ? { outDir } : {}) } });
  return { sim, accessKey };
}

/** The adapters of one run against `sim`, as the CLI composes them; a new call stands for a new process. */
export function composeRun(sim: SimulatedAzure, accessKey: string, env: Record<string, string>): Composition {
  const config = loadConfig({ SEND_MODE: "live", SENDER_ADDRESS: SENDER, ...env }, { simulated: true });
  return compose({ config, log: silentLogger, simulator: { url: sim.url, ca: sim.ca, emailAccessKey: accessKey, deliveryReports: deliveryReportQueue(sim) }, tenantId: "tenant" });
}

export async function runJob(composition: Composition, asOf: string, job: Partial<Composition["job"]> = {}): Promise<JobResult> {
  const ctx = { ...composition.job, ...job };
  return runAuditJob(ctx, { runId: `run-${asOf}-${randomUUID().slice(0, 8)}`, trigger: "cli", sendMode: ctx.config.sendMode, asOf });
}

export function succeeded(result: JobResult): Extract<JobResult, { state: "succeeded" }> {
  if (result.state !== "succeeded") {
    throw new Error(`expected the run to succeed, got ${result.state}${result.state === "failed" ? `: ${result.error.message}` : ""}`);
  }
  return result;
}

/**
 * One Azurite for the whole test file: started before its first test, stopped after its last. Each test keeps its
 * own ledger in it through `isolatedStorage(azurite.connectionString)`.
 */
export function sharedAzurite(): Pick<LocalStorage, "connectionString"> {
  let storage: LocalStorage | undefined;
  beforeAll(async () => {
    storage = await startAzurite();
  });
  afterAll(async () => {
    await storage?.stop();
  });
  return {
    get connectionString(): string {
      if (!storage) throw new Error("sharedAzurite() is used outside a test: its Azurite has not started");
      return storage.connectionString;
    },
  };
}
