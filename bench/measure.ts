// One measured run against a running simulated Azure: the auditor (or the naive baseline), timed from its first
// request to its report, with the counts needed to check it found what the tenant holds.
import { armSubscriptionLister } from "../src/azure/armSubscriptions.js";
import { ArmBatchCertificates } from "../src/azure/batchCertificates.js";
import { batchClientAtVersion, batchClientFactory, createResourceGraphClient, type ArmConnection } from "../src/azure/clients.js";
import { SimulatorCredential } from "../src/azure/credentials.js";
import { ResourceGraphInventory } from "../src/azure/resourceGraphInventory.js";
import { SubscriptionPacer } from "../src/azure/subscriptionPacer.js";
import { ArmVmSizeLifecycle, VM_SKUS_API_VERSION } from "../src/azure/vmSizeLifecycle.js";
import { applyHeapGrowth } from "../src/app/heapGrowth.js";
import { HEAP_GROWING_PERCENT } from "./cases.js";
import { auditTenant } from "../src/core/auditTenant.js";
import { naiveBaseline } from "./naiveBaseline.js";

export interface Target {
  url: string;
  ca: string;
}

export interface RunMeasure {
  mode: "auditor" | "baseline";
  wallSeconds: number;
  accounts: number;
  accountCertificates: number;
  poolsWithCertificates: number;
  /** Failed subscriptions + failed accounts + problems that affect a whole scope. */
  failedScopes: number;
  resourceGraphQueries: number | null;
  /** Of those, the ones Resource Graph's quota refused (429) and the client asked again. */
  resourceGraphThrottled: number | null;
  /** 429s the client met: Resource Graph's and ARM's. */
  clientThrottled: number;
  peakInFlight: number | null;
  /** Regions whose VM sizes' end of support was read (every rule on, as shipped), and the calls that took. */
  vmSizeRegions: number | null;
  vmSizeCalls: number | null;
  /** This process's peak resident set so far (KB → MB). */
  peakRssMb: number;
  /** CPU time (user + system) the run took in this process. */
  cpuSeconds: number;
}

function connection(target: Target): ArmConnection {
  return { credential: new SimulatorCredential(), endpoint: target.url, ca: target.ca };
}

const cpuSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

const peakRssMb = () => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

/** `armReads`: the per-subscription bucket ARM documents (250 + 25/s), which the simulator is set to keep. */
export async function measureAuditor(target: Target, maxInFlight: number, armReads: { capacity: number; refillPerSecond: number }): Promise<RunMeasure> {
  // The audit alone is measured as the app runs it, its heap paced (the job's process sets it in compose).
  applyHeapGrowth(HEAP_GROWING_PERCENT);
  const conn = connection(target);
  const pacer = new SubscriptionPacer({ maxInFlight, capacity: armReads.capacity, refillPerSecond: armReads.refillPerSecond });
  const inventory = new ResourceGraphInventory(createResourceGraphClient(conn), { listSubscriptions: armSubscriptionLister(conn) });
  const certificates = new ArmBatchCertificates(batchClientFactory(conn, pacer), pacer);
  const vmSizes = new ArmVmSizeLifecycle(batchClientAtVersion(conn, VM_SKUS_API_VERSION, pacer));
  const started = performance.now();
  const cpu = process.cpuUsage();
  const report = await auditTenant(
    // The pacer bounds and paces the calls per subscription, so the audit itself holds no slots. Every shipped rule
    // runs (the default), so Azure's VM-size dates are read for each region with pools.
    { inventory, certificates, pools: certificates, vmSizes, concurrency: Infinity },
    { scope: { subscriptions: [], managementGroups: [] }, asOf: "2026-11-26", generatedAt: "2026-11-26T07:00:00.000Z" },
  );
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuSeconds = cpuSince(cpu);
  const { summary, coverage } = report;
  return {
    mode: "auditor",
    wallSeconds,
    accounts: coverage.accounts.length,
    accountCertificates: summary.accountCertificates,
    poolsWithCertificates: summary.poolsWithCertificates,
    failedScopes: summary.subscriptionsFailed + summary.accountsFailed + coverage.problems.length,
    resourceGraphQueries: inventory.stats.queries,
    resourceGraphThrottled: inventory.stats.throttled,
    clientThrottled: inventory.stats.throttled + pacer.stats.throttled,
    peakInFlight: pacer.stats.peakInFlight,
    vmSizeRegions: coverage.vmSizeEndOfLife?.length ?? 0,
    vmSizeCalls: vmSizes.calls,
    peakRssMb: peakRssMb(),
    cpuSeconds,
  };
}

export async function measureBaseline(target: Target): Promise<RunMeasure> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const result = await naiveBaseline(connection(target));
  return {
    mode: "baseline",
    wallSeconds: (performance.now() - started) / 1000,
    accounts: result.accounts,
    accountCertificates: result.accountCertificates,
    poolsWithCertificates: result.poolsWithCertificates,
    failedScopes: result.failedAccounts,
    resourceGraphQueries: null,
    resourceGraphThrottled: null,
    clientThrottled: 0,
    peakInFlight: 1,
    vmSizeRegions: null,
    vmSizeCalls: null,
    peakRssMb: peakRssMb(),
    cpuSeconds: cpuSince(cpu),
  };
}
