// The benchmark's cases and the simulated Azure they run against: realistic limits, about 50 ms per request with
// log-normal jitter, and a small seeded share of transient 5xx answers.
import { ARM_READS_DEFAULT } from "@batch-cert-auditor/simulated-azure";
import type { LatencyOptions, ServerErrorOptions, SimulatorOptions, TenantShape } from "@batch-cert-auditor/simulated-azure";
import { loadConfig, SETTINGS } from "../src/config.js";

/** Batch calls in flight: the app's shipped default (BATCH_CONCURRENCY), so the bench measures what ships. */
const SHIPPED_IN_FLIGHT = Number(SETTINGS.BATCH_CONCURRENCY);

export interface BenchCase {
  name: string;
  shape: TenantShape;
  /** Also run the naive sequential script against the same simulator settings. */
  baseline: boolean;
  /**
   * A smaller tenant measured the same way, in the same case. An audit case measures it first (auditor and naive
   * script, each in a fresh process against a fresh simulator), so that the speedup's growth with the tenant's size
   * shows beside the target. A whole-job case runs the job on it unconstrained, so that the part of the unconstrained
   * peak that does not come from the tenant (the job's code, and the room V8 leaves above it) shows beside the target.
   */
  comparisonShape?: TenantShape;
  /** Report the hot subscription's lower bound from ARM's token bucket. */
  hotSubscription: boolean;
  /** Requests the auditor keeps in flight over all subscriptions. */
  maxInFlight: number;
}

export interface SimulatorSettings {
  /** A fixed wait per request; `latency`, when given, replaces it. */
  latencyMs: number;
  /** A wait per request drawn around a mean (log-normal), seeded. */
  latency?: LatencyOptions;
  /** A seeded share of ARM and Resource Graph requests answered with a transient 500 or 503. */
  faults?: ServerErrorOptions;
  /** Resource Graph's per-user quota: about 15 queries per 5 seconds. */
  resourceGraphQuota: { queries: number; windowMs: number };
  tenantSubscriptionLimit: number;
  armReads: { capacity: number; refillPerSecond: number };
  /**
   * The api-version Resource Graph serves Batch pools at (the snapshot's `resourceGraph.batchPoolApiVersion`). The bench
   * takes the pessimistic one, 2025-06-01, whose pools carry no `certificates`: every pool reference must then come
   * from the Batch API.
   */
  resourceGraphBatchPoolApiVersion?: string;
}

/** Share of generated accounts that hold certificates: about 10%, as in tenants long after the retirement. */
export const CERTIFICATE_SHARE = 0.1;

/**
 * Node flags for the measured process: none, as the Functions worker runs the app (infra sets no
 * languageWorkers__node__arguments). Earlier the bench capped the heap at 1 GB, which the app never had. Without a
 * cap V8 sizes the heap from the machine's memory and collects old garbage lazily, so peak RSS here is an upper bound
 * for the same run on a 2 GB Flex Consumption instance.
 */
export const AUDITOR_EXEC_ARGV: string[] = [];

/**
 * How the measured processes pace their heap: as the app ships it (HEAP_GROWING_PERCENT's default, set by the app
 * itself, src/app/heapGrowth.ts), unless the bench is started with HEAP_GROWING_PERCENT (0: V8's own sizing) to
 * measure another pacing with the same build.
 */
export const HEAP_GROWING_PERCENT = loadConfig({ HEAP_GROWING_PERCENT: process.env.HEAP_GROWING_PERCENT ?? SETTINGS.HEAP_GROWING_PERCENT }).heapGrowingPercent;



/**
 * Realistic limits. Round trips vary: log-normal around a 50 ms mean (sigma 0.5: median 44 ms, 1 in 100 above 140 ms),
 * and 1 in 200 ARM or Resource Graph requests meets a transient 500 or 503 that the SDKs' retry policy must absorb.
 * Both are seeded, so two runs draw the same sequence.
 */
export const REALISTIC: SimulatorSettings = {
  latencyMs: 50,
  latency: { meanMs: 50, jitter: "lognormal", sigma: 0.5, seed: 50 },
  faults: { serverErrorShare: 0.005, seed: 503 },
  resourceGraphQuota: { queries: 15, windowMs: 5000 },
  tenantSubscriptionLimit: 10_000,
  armReads: ARM_READS_DEFAULT,
  resourceGraphBatchPoolApiVersion: "2025-06-01",
};

export function simulatorOptions(settings: SimulatorSettings): Omit<SimulatorOptions, "snapshot"> {
  return {
    latencyMs: settings.latencyMs,
    ...(settings.latency ? { latency: settings.latency } : {}),
    ...(settings.faults ? { faults: settings.faults } : {}),
    resourceGraph: { quota: settings.resourceGraphQuota, tenantSubscriptionLimit: settings.tenantSubscriptionLimit },
    batch: { readThrottle: settings.armReads },
  };
}

export const CASES: BenchCase[] = [
  {
    // The naive script makes about 2.2 sequential calls per account plus one per subscription (4,401 here, 1,101 at
    // 500 accounts), at about 58 ms each: roughly 4.5 minutes here and 1 minute at 500.
    name: "2,000 accounts / 400 subscriptions / 10,000 pools, auditor vs naive script",
    shape: { seed: 2_000, subscriptions: 400, accounts: 2_000, pools: 10_000, certificateShare: CERTIFICATE_SHARE },
    comparisonShape: { seed: 501, subscriptions: 100, accounts: 500, pools: 2_500, certificateShare: CERTIFICATE_SHARE },
    baseline: true,
    hotSubscription: false,
    maxInFlight: SHIPPED_IN_FLIGHT,
  },
  {
    name: "10,000 accounts / 2,000 subscriptions / 50,000 pools",
    shape: { seed: 10_000, subscriptions: 2_000, accounts: 10_000, pools: 50_000, certificateShare: CERTIFICATE_SHARE },
    baseline: false,
    hotSubscription: false,
    maxInFlight: SHIPPED_IN_FLIGHT,
  },
  {
    name: "hot subscription: 1,000 accounts in one subscription (+200 elsewhere)",
    shape: { seed: 1_000, subscriptions: 21, accounts: 1_200, pools: 6_000, certificateShare: CERTIFICATE_SHARE, hotSubscriptionAccounts: 1_000 },
    baseline: false,
    hotSubscription: true,
    maxInFlight: SHIPPED_IN_FLIGHT,
  },
];

/** Whole-job cases: the daily job end to end with shipped settings (owners spread over many addresses). */
export const JOB_CASES: BenchCase[] = [
  {
    name: "whole daily job: 10,000 accounts / 2,000 subscriptions / 50,000 pools / 2,000 owner addresses",
    shape: { seed: 10_000, subscriptions: 2_000, accounts: 10_000, pools: 50_000, certificateShare: CERTIFICATE_SHARE, owners: 2_000, ownerTagShare: 0.9 },
    comparisonShape: { seed: 1_000, subscriptions: 200, accounts: 1_000, pools: 5_000, certificateShare: CERTIFICATE_SHARE, owners: 200, ownerTagShare: 0.9 },
    baseline: false,
    hotSubscription: false,
    maxInFlight: SHIPPED_IN_FLIGHT,
  },
];

/**
 * Large cases: ten times the 10k case. Run only when named by number (`npm run bench -- 5`, numbered after the audit
 * and whole-job cases) or with `--large`: generating and serving the tenant, and the audit itself, take minutes.
 * 20,000 subscriptions are past Resource Graph's 10,000-subscription tenant-scope limit, so the auditor queries in
 * subscription batches.
 */
export const LARGE_CASES: BenchCase[] = [
  {
    name: "100,000 accounts / 20,000 subscriptions / 500,000 pools",
    shape: { seed: 100_000, subscriptions: 20_000, accounts: 100_000, pools: 500_000, certificateShare: CERTIFICATE_SHARE },
    baseline: false,
    hotSubscription: false,
    maxInFlight: SHIPPED_IN_FLIGHT,
  },
];

/** The whole daily job at the large size, numbered after LARGE_CASES; run like them (by number or --large). */
export const LARGE_JOB_CASES: BenchCase[] = [
  {
    name: "whole daily job: 100,000 accounts / 20,000 subscriptions / 500,000 pools / 20,000 owner addresses",
    shape: { seed: 100_000, subscriptions: 20_000, accounts: 100_000, pools: 500_000, certificateShare: CERTIFICATE_SHARE, owners: 20_000, ownerTagShare: 0.9 },
    baseline: false,
    hotSubscription: false,
    maxInFlight: SHIPPED_IN_FLIGHT,
  },
];

/**
 * Node flags for the simulator's own process (not the measured one): a 100,000-account tenant with its Resource Graph
 * tables and cached query results outgrows V8's default old space on small machines.
 */
export const SIMULATOR_EXEC_ARGV = ["--max-old-space-size=4096"];
