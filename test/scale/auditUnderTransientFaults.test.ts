// The auditor against a simulated Azure that answers some ARM and Resource Graph requests with a transient 500 or
// 503 and varies every round trip (both seeded): the SDKs' retry policy must absorb the errors, so the audit still
// covers every subscription and account and finds every certificate and certificate-referencing pool.
import { describe, expect, it } from "vitest";
import type { BenchCase, SimulatorSettings } from "../../bench/cases.js";
import { benchLine, foundEverything } from "../../bench/report.js";
import { runCase } from "../../bench/runCase.js";

const TENANT: BenchCase = {
  name: "small, with transient faults",
  shape: { seed: 31, subscriptions: 9, accounts: 120, pools: 360, certificateShare: 0.3 },
  baseline: false,
  hotSubscription: false,
  maxInFlight: 16,
};

const FLAKY: SimulatorSettings = {
  latencyMs: 0,
  latency: { meanMs: 4, jitter: "lognormal", sigma: 0.8, seed: 9 },
  // With this seed the first and third draws fail: the audit's first request (the tenant-scope Resource Graph query)
  // meets a 503 with Retry-After, and the one after its retry (ARM's subscription list) a 500.
  faults: { serverErrorShare: 0.05, seed: 87 },
  // Small enough that the audit queries in subscription batches (more Resource Graph requests to fail).
  resourceGraphQuota: { queries: 50, windowMs: 1000 },
  tenantSubscriptionLimit: 4,
  armReads: { capacity: 250, refillPerSecond: 25 },
  resourceGraphBatchPoolApiVersion: "2025-06-01",
};

describe("an audit against a simulated Azure that answers 5% of ARM and Resource Graph requests with a 5xx", () => {
  it("retries them and still finds every certificate and pool reference, with complete coverage", async () => {
    const result = await runCase(TENANT, FLAKY, { isolate: false });
    const { measure, simulator, expected } = result.auditor;

    // The faults happened (the seed makes them happen), and nothing was lost to them.
    expect(simulator.serverErrors).toBeGreaterThanOrEqual(2);
    expect(measure.failedScopes).toBe(0);
    expect(measure.accounts).toBe(expected.accounts);
    expect(measure.accountCertificates).toBe(expected.accountCertificates);
    expect(measure.poolsWithCertificates).toBe(expected.poolsWithCertificates);
    expect(expected.poolsWithCertificates).toBeGreaterThan(0);
    expect(foundEverything(result.auditor)).toBe(true);
    expect(benchLine(result, FLAKY).serverErrors).toBe(simulator.serverErrors);
  }, 120_000);
});
