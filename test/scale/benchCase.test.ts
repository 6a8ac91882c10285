// Keeps the benchmark from rotting: a small case runs end to end in this process (no timing is asserted; the
// benchmark itself measures). The limits are shrunk so that every mechanism is exercised: the tenant-scope cap
// (the auditor switches to subscription batches), ARM's token bucket (the pacer defers the hot subscription),
// and the Resource Graph quota.
import { describe, expect, it } from "vitest";
import type { BenchCase, SimulatorSettings } from "../../bench/cases.js";
import { benchLine, foundEverything, humanTable, targets } from "../../bench/report.js";
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
      "callsPerAccount", "certificateShare", "callsPerAccountTarget", "throttled429", "serverErrors", "failedScopes", "hotSubscription", "lowerBoundSeconds",
      "resourceGraphLowerBoundSeconds",
    ]);
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
  });
});
