// Composition root: turns configuration into the adapters a run needs. The Functions app and the CLI both use it.
import type { AppConfig, SendMode } from "../config.js";
import { AcsEmailSender } from "../azure/acsEmailSender.js";
import { BlobReportStore } from "../azure/blobReportStore.js";
import { BlobRunLock } from "../azure/blobRunLock.js";
import { connectStorage, type StorageClients } from "../azure/storage.js";
import { TableLedger } from "../azure/tableLedger.js";
import { RETIREMENT_DATE } from "../core/model.js";
import { reportRules } from "../core/rules/ruleSet.js";
import type { EmailSender } from "../core/ports.js";
import { mjmlMessageRenderer } from "../render/messageRenderer.js";
import { connectAzure, type AzureAdapters } from "./connectAzure.js";
import { applyHeapGrowth, type Heap } from "./heapGrowth.js";
import type { Logger } from "./logger.js";
import type { DeliveryReportQueue, JobContext } from "./runAuditJob.js";

export interface CompositionOptions {
  config: AppConfig;
  log: Logger;
  /** The simulated Azure (ARM and Communication Email) instead of the real one. */
  simulator?: { url: string; ca: string; emailAccessKey: string; deliveryReports?: DeliveryReportQueue };
  /** Storage override (the CLI's own Azurite); otherwise from AzureWebJobsStorage. */
  storageConnectionString?: string;
  tenantId?: string;
  reportUrl?: string;
  onMessage?: JobContext["onMessage"];
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
  /** The process's V8 heap, paced from HEAP_GROWING_PERCENT (tests give a fake). */
  heap?: Heap;
}

export interface Composition {
  job: JobContext;
  azure: AzureAdapters;
  storage: StorageClients;
  reports: BlobReportStore;
  lock: BlobRunLock;
}

export function compose(options: CompositionOptions): Composition {
  const { config } = options;
  // The process's heap is paced before anything is read (the host, the CLI and the bench's job all compose here).
  applyHeapGrowth(config.heapGrowingPercent, options.heap);
  const azure = connectAzure({
    ...(options.simulator ? { simulator: { url: options.simulator.url, ca: options.simulator.ca } } : {}),
    ...(config.managedIdentityClientId ? { managedIdentityClientId: config.managedIdentityClientId } : {}),
    ...(options.simulator ? { retry: { maxRetries: 3, retryDelayInMs: 50, maxRetryDelayInMs: 500 } } : {}),
    batchConcurrency: config.batchConcurrency,
    maxRetryWaitMs: config.runLimits.maxRetryWaitSeconds * 1000,
    maxPagesPerScope: config.runLimits.maxPagesPerScope,
    groupMaxMembers: config.owners.groupMaxMembers,
    log: (m) => options.log.warn(m),
  });
  const storage = connectStorage({
    connectionString: options.storageConnectionString ?? config.storage.connectionString,
    accountName: config.storage.accountName,
    credential: azure.credential,
  });
  const table = storage.table(config.ledgerTable);
  const ledgers = new Map<string, TableLedger>();
  const reports = new BlobReportStore(storage.blobs, config.reportContainer);
  const lock = new BlobRunLock(storage.blobs, config.reportContainer);
  const sender = createSender(config, azure, options.simulator);

  const job: JobContext = {
    config,
    inventory: azure.inventory,
    certificates: azure.certificates,
    pools: azure.certificates,
    access: azure.access,
    vmSizes: azure.vmSizes,
    // The Batch adapter paces itself per subscription (BATCH_CONCURRENCY in flight), so the run adds no limit.
    certificateConcurrency: Number.POSITIVE_INFINITY,
    ledgerFor: (mode) => {
      const key = mode === "redirect" ? "redirect" : "live";
      let ledger = ledgers.get(key);
      if (!ledger) ledgers.set(key, (ledger = new TableLedger(table, key)));
      return ledger;
    },
    lock,
    reports,
    ...(sender ? { sender } : {}),
    rendererFor: (asOf) =>
      mjmlMessageRenderer({
        asOf,
        deadline: config.schedule.deadline,
        retirementDate: RETIREMENT_DATE,
        snoozeTagKey: config.snooze.tagKey,
        itemsInFull: config.email.digestItemsInFull,
        rules: reportRules(config.rules.enabled),
        ...(options.reportUrl ? { reportUrl: options.reportUrl } : {}),
      }),
    now: options.now ?? (() => new Date()),
    sleep: options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    log: options.log,
    ...(options.tenantId ? { tenantId: options.tenantId } : {}),
    ...(options.onMessage ? { onMessage: options.onMessage } : {}),
    ...(options.simulator?.deliveryReports ? { deliveryReports: options.simulator.deliveryReports } : {}),
  };
  return { job, azure, storage, reports, lock };
}

function createSender(config: AppConfig, azure: AzureAdapters, simulator: CompositionOptions["simulator"]): EmailSender | undefined {
  const senderAddress = config.email.senderAddress;
  if (!senderAddress) return undefined;
  // Keep 429 retries inside one call short: what does not fit waits for the next run.
  const retry = { maxRetries: 2, retryDelayInMs: 500, maxRetryDelayInMs: 5_000 };
  const maxRetryWaitMs = config.runLimits.maxRetryWaitSeconds * 1000;
  if (simulator) {
    return AcsEmailSender.fromConnectionString(`endpoint=${simulator.url}/;accesskey=${simulator.emailAccessKey}`, senderAddress, {
      ca: simulator.ca,
      retry,
      maxRetryWaitMs,
    });
  }
  if (config.email.connectionString) return AcsEmailSender.fromConnectionString(config.email.connectionString, senderAddress, { retry, maxRetryWaitMs });
  if (config.email.endpoint) return new AcsEmailSender({ endpoint: config.email.endpoint, credential: azure.credential, senderAddress, retry, maxRetryWaitMs });
  return undefined;
}

export type { SendMode };
