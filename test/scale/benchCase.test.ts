// Keeps the benchmark from rotting: a small case runs end to end in this process (no timing is asserted; the
// benchmark itself measures). The limits are shrunk so that every mechanism is exercised: the tenant-scope cap
// (the auditor switches to subscription batches), ARM's token bucket (the pacer defers the hot subscription),
// and the Resource Graph quota.
import { describe, expect, it } from "vitest";
import { CASES, type BenchCase, type SimulatorSettings } from "../../bench/cases.js";
import { benchLine, foundEverything, growthFrom, humanTable, resourceGraphLowerBoundSeconds, SPEEDUP_TARGET_ACCOUNTS, targets, type BenchLine } from "../../bench/report.js";
import { runCase } from "../../bench/runCase.js";

const SMALL: BenchCase = {
  name: "small",
  shape: { seed: 12, subscriptions: 7, accounts: 60, pools: 150, certificateShare: 0.4, hotSubscriptionAccounts: 30 },
  baseline: true,
  hotSubscription: true,
  maxInFlight: 16,
};
const TIGHT: SimulatorSettings = {
  latencyMs: 0,
  resourceGraphQuota: { queries: 6, windowMs: 300 },
  tenantSubscriptionLimit: 4,
  armReads: { capacity: 10, refillPerSecond: 25 },
  resourceGraphBatchPoolApiVersion: "2025-06-01",
};

describe("the benchmark", () => {
  it("runs a small case with the auditor and the naive script, both finding everything, and prints its machine line", async () => {
    const result = await runCase(SMALL, TIGHT, { isolate: false });
    expect(foundEverything(result.auditor)).toBe(true);
    expect(result.baseline && foundEverything(result.baseline)).toBe(true);
    expect(result.auditor.measure.failedScopes).toBe(0);

    const line = benchLine(result, TIGHT);
    expect(Object.keys(line)).toEqual([
      "accounts", "subscriptions", "pools", "wallSeconds", "baselineWallSeconds", "speedup", "peakRssMb",
      "callsPerAccount", "certificateShare", "callsPerAccountTarget", "vmSizeRegions", "vmSizeCallsPerRegion", "throttled429", "serverErrors", "failedScopes", "hotSubscription",
      "lowerBoundSeconds", "resourceGraphLowerBoundSeconds",
    ]);
    // Every shipped rule runs: the generated tenant's one region has its VM sizes' end of support read in one call.
    expect(line).toMatchObject({ vmSizeRegions: 1, vmSizeCallsPerRegion: 1 });
    expect(humanTable(result, line)).toMatch(/VM-size reads: regions \/ calls per region\s+1 \/ 1\.00/);
    expect(line).toMatchObject({ accounts: 60, subscriptions: 7, pools: 150, hotSubscription: true, failedScopes: 0 });
    // One certificate list per account, and a pool list per account with certificates (plus the odd throttled
    // retry): Resource Graph here serves pools at 2025-06-01, without certificates.
    expect(line.certificateShare).toBeGreaterThan(0);
    expect(line.callsPerAccount).toBeGreaterThanOrEqual(1 + line.certificateShare);
    expect(line.callsPerAccount).toBeLessThanOrEqual(line.callsPerAccountTarget + 0.1);
    const hotWithCertificates = result.auditor.simulator.hotSubscriptionCalls - 30;
    expect(hotWithCertificates).toBeGreaterThanOrEqual(0);
    expect(line.lowerBoundSeconds).toBeCloseTo((result.auditor.simulator.hotSubscriptionCalls - 10) / 25, 5);
    expect(humanTable(result, line)).toMatch(/found everything\s+yes\s+yes/);
    expect(targets(result, line).map((t) => t.target)).toContain("finds every certificate and certificate-referencing pool");

    // The speedup is held to 30x only from 2,000 accounts: at 60 (or 500) the auditor's start-up dominates.
    expect(line.speedup).not.toBeNull();
    const speedupTargets = (l: BenchLine) => targets(result, l).filter((t) => t.target.startsWith("speedup over the naive script"));
    expect(speedupTargets(line)).toEqual([]);
    expect(speedupTargets({ ...line, accounts: 2_000, speedup: 29.9 })).toEqual([{ target: "speedup over the naive script >= 30x at 2,000 accounts (29.9x)", met: false }]);
    expect(speedupTargets({ ...line, accounts: 2_000, speedup: 30 })).toEqual([{ target: "speedup over the naive script >= 30x at 2,000 accounts (30x)", met: true }]);
  });

  it("compares with the naive script on a tenant of at least 2,000 accounts in the default cases, and at 500 beside it", () => {
    const compared = CASES.filter((c) => c.baseline);
    expect(compared.some((c) => c.shape.accounts >= SPEEDUP_TARGET_ACCOUNTS)).toBe(true);
    expect(compared.map((c) => c.comparisonShape?.accounts)).toContain(500);
  });

  it("bounds an audit by Resource Graph's quota: the first window's queries are free, each further 15 cost 5 s", () => {
    const quota = { queries: 15, windowMs: 5000 };
    expect(resourceGraphLowerBoundSeconds(15, quota)).toBe(0);
    expect(resourceGraphLowerBoundSeconds(16, quota)).toBe(5);
    expect(resourceGraphLowerBoundSeconds(241, quota)).toBe(80);
  });

  it("says how a large case grew from the 10k case, per account (1 is linear)", () => {
    const line = (accounts: number, wallSeconds: number, peakRssMb: number) => ({ accounts, wallSeconds, peakRssMb }) as BenchLine;
    expect(growthFrom(line(10_000, 12, 250), line(100_000, 132, 500))).toEqual({ accountsRatio: 10, wallRatio: 11, rssRatio: 2, wallPerAccount: 1.1, rssPerAccount: 0.2 });
  });
});
