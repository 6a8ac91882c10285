// The simulated Azure and the local Azurite are test and demo equipment: the package
// @batch-cert-auditor/simulated-azure, installed beside the app by its postinstall and never in the Functions package. The CLI
// (--simulate, or local state when AzureWebJobsStorage is not set) and the dashboard load it only when asked, through
// this narrow interface, so the app compiles and runs without it.
import { AuditError } from "../core/errors.js";

export interface LocalSimulator {
  url: string;
  /** The simulator's self-signed CA, for the SDK clients' TLS options. */
  ca: string;
  /** The simulated Communication Services' delivery report events, queued until the app has recorded them. */
  email: { pendingDeliveryReports(): Promise<unknown[]>; acknowledgeDeliveryReports(count: number): Promise<void> };
  close(): Promise<void>;
}

/** The local stand-in for the Event Grid subscription: the simulator's queue of delivery reports. */
export function deliveryReportQueue(simulator: LocalSimulator): { pending(): Promise<unknown[]>; acknowledge(count: number): Promise<void> } {
  return {
    pending: () => simulator.email.pendingDeliveryReports(),
    acknowledge: (count) => simulator.email.acknowledgeDeliveryReports(count),
  };
}

export interface LocalStorage {
  connectionString: string;
  /** The storage process, so a lock on its folder can tell whether it is still alive. */
  pid?: number;
  stop(): Promise<void>;
}

export interface LocalAzure {
  loadSnapshot(path: string): Promise<{ tenantId: string }>;
  startSimulator(options: { snapshot: { tenantId: string }; email?: { outDir?: string; accessKey?: string } }): Promise<LocalSimulator>;
  startAzurite(options?: { location?: string }): Promise<LocalStorage>;
}

/** A variable, not a literal: the app's own build must not need the package's types to exist. */
const PACKAGE: string = "@batch-cert-auditor/simulated-azure";

/** The package, or a clear error naming what it was needed for and how to get it. */
export async function loadLocalAzure(purpose: string): Promise<LocalAzure> {
  try {
    return (await import(PACKAGE)) as LocalAzure;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== "ERR_MODULE_NOT_FOUND" && code !== "ERR_PACKAGE_PATH_NOT_EXPORTED") throw error;
    throw new AuditError(
      "CONFIG.INVALID",
      `${purpose} needs the simulated Azure (${PACKAGE}), a development package that is not installed or not built here: ` +
        "in a clone of the repository run `npm ci` and `npm run build:local` (or `npm start`)",
      { cause: error },
    );
  }
}
