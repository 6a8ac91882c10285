// npm run dashboard: the HTTP API of the Functions app, served locally on http://127.0.0.1:7071 against the demo
// tenant in the simulated Azure and a local Azurite. The function files are loaded and register themselves as they
// would in the Functions host; requests reach the same handlers. One dry-run audit runs at start so there is a
// report to look at. There are no function keys here: in Azure the host checks them before a handler runs.
import { randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { basename, extname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { configureHost, type HostOptions } from "../app/functionsHost.js";
import { dashboardPort } from "../config.js";
import { backgroundRuns } from "../functions/support/backgroundRun.js";
import { deliveryReportQueue, loadLocalAzure, type LocalSimulator, type LocalStorage } from "../app/localAzure.js";
import { createFunctionsServer } from "./adapter.js";
import { installFunctionsCore, type RegisteredFunction } from "./functionsCore.js";

const SIMULATED_SENDER = "DoNotReply@batch-cert-auditor.example";

export interface DashboardOptions {
  port?: number;
  /** Tenant snapshot for the simulator; default examples/demo-tenant.json. */
  snapshotPath?: string;
  /** Azurite's data directory; absent: in memory. */
  azuriteLocation?: string;
  /** Where the simulated mail service writes what it accepts. */
  mailDir?: string;
  /** Settings on top of the defaults below (SEND_MODE live into the simulator, a simulated sender). */
  env?: Readonly<Record<string, string | undefined>>;
  auditAtStart?: boolean;
  log?: (line: string) => void;
}

export interface Dashboard {
  url: string;
  registrations: readonly RegisteredFunction[];
  /** The simulated Azure (a `SimulatedAzure` of @batch-cert-auditor/simulated-azure). */
  sim: LocalSimulator;
  storage: LocalStorage;
  close(): Promise<void>;
}

export async function startDashboard(options: DashboardOptions = {}): Promise<Dashboard> {
  const print = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  // Before any function file loads: @azure/functions looks for the worker's core module when it registers.
  const core = installFunctionsCore();
  await loadFunctionFiles();

  const { loadSnapshot, startSimulator, startAzurite } = await loadLocalAzure("The dashboard");
  const snapshot = await loadSnapshot(options.snapshotPath ?? fileURLToPath(new URL("examples/demo-tenant.json", rootRelative())));
  const emailAccessKey = randomBytes(32).toString("base64");
  const sim = await startSimulator({ snapshot, email: { accessKey: emailAccessKey, ...(options.mailDir ? { outDir: options.mailDir } : {}) } });
  let storage: LocalStorage;
  try {
    storage = await startAzurite(options.azuriteLocation ? { location: options.azuriteLocation } : {});
  } catch (error) {
    await sim.close();
    throw error;
  }

  const server = createFunctionsServer(core.registrations, {
    log: (fn, level, message) => {
      if (level === "warning" || level === "error" || level === "critical") print(`[${fn}] ${level}: ${message}`);
    },
  });
  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 7071, "127.0.0.1", () => resolveListen());
    });
  } catch (error) {
    await Promise.all([sim.close(), storage.stop()]);
    throw error;
  }
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const host: HostOptions = {
    env: { SEND_MODE: "live", SENDER_ADDRESS: SIMULATED_SENDER, ...options.env },
    simulator: { url: sim.url, ca: sim.ca, emailAccessKey, deliveryReports: deliveryReportQueue(sim) },
    storageConnectionString: storage.connectionString,
    tenantId: snapshot.tenantId,
    reportUrl: `${url}/api/audit/report?format=html`,
    hostLogSink: (level, message, fields) => {
      if (level !== "info") print(`[host] ${level}: ${message} ${JSON.stringify(fields)}`);
    },
  };
  configureHost(host);

  const close = async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await backgroundRuns();
    await Promise.all([sim.close(), storage.stop()]);
  };

  if (options.auditAtStart ?? true) {
    const started = await fetch(`${url}/api/audit/runs`, { method: "POST" });
    const body = (await started.json()) as { runId?: string; error?: { message: string } };
    if (started.status !== 202) {
      await close();
      throw new Error(`The first audit did not start (${started.status}): ${body.error?.message ?? ""}`);
    }
    await backgroundRuns();
  }
  return { url, registrations: core.registrations, sim, storage, close };
}

/** Loads the function files next to this module (dist/src/functions/*.js, or the .ts sources under a test runner). */
async function loadFunctionFiles(): Promise<void> {
  const ext = extname(fileURLToPath(import.meta.url));
  const dir = fileURLToPath(new URL("../functions/", import.meta.url));
  const files = (await readdir(dir)).filter((f) => extname(f) === ext && !f.endsWith(`.d${ext}`)).sort();
  for (const file of files) await import(pathToFileURL(resolve(dir, file)).href);
}

/** The project root, from dist/src/dashboard or src/dashboard. */
function rootRelative(): URL {
  const here = fileURLToPath(import.meta.url);
  return basename(resolve(here, "../../..")) === "dist" ? new URL("../../../", import.meta.url) : new URL("../../", import.meta.url);
}

async function main(): Promise<void> {
  const port = dashboardPort();
  const root = fileURLToPath(rootRelative());
  process.stdout.write("Starting the simulated Azure and Azurite, then one dry-run audit...\n");
  const dashboard = await startDashboard({
    port,
    azuriteLocation: resolve(root, "out/.state-dashboard"),
    mailDir: resolve(root, "out/dashboard"),
    env: process.env,
  });
  const u = dashboard.url;
  process.stdout.write(
    [
      "",
      `batch-cert-auditor dashboard on ${u} (demo tenant in the simulated Azure; storage: Azurite in out/.state-dashboard)`,
      "",
      `  Report (HTML)  ${u}/api/audit/report?format=html`,
      `  Report (JSON)  ${u}/api/audit/report`,
      `  Report (CSV)   ${u}/api/audit/report?format=csv`,
      `  Filters        ${u}/api/audit/report?format=html&severity=critical   (also subscription=<GUID>, owner=<email>)`,
      `  Start a run    curl -i -X POST ${u}/api/audit/runs            (add ?send=true to mail the simulated service)`,
      `  Run status     ${u}/api/audit/runs/<runId>`,
      "",
      "No function keys here: in Azure every route needs one (authLevel function). Ctrl+C stops.",
      "",
    ].join("\n"),
  );
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("Stopping (waiting for a run in progress)...\n");
    void dashboard.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

const entry = process.argv[1];
if (entry && import.meta.url === pathToFileURL(resolve(entry)).href) {
  main().catch((error: unknown) => {
    const e = error as NodeJS.ErrnoException;
    process.stderr.write(e.code === "EADDRINUSE" ? `Port in use: set PORT to another port (e.g. PORT=7072 npm run dashboard)\n` : `dashboard: ${e.message}\n`);
    process.exit(1);
  });
}
