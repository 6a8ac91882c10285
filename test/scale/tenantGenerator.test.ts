import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateTenantFile, parseShape } from "../../bench/generateTenant.js";
import { parseSnapshot } from "@batch-cert-auditor/simulated-azure";
import { expectedUsage, generateTenant } from "@batch-cert-auditor/simulated-azure";

const count = (snapshot: ReturnType<typeof generateTenant>, type: string) => snapshot.resources.filter((r) => r.type.toLowerCase() === type).length;

describe("the tenant generator", () => {
  it("gives the same tenant for the same seed and sizes, and another for another seed", () => {
    const shape = { seed: 99, subscriptions: 12, accounts: 60, pools: 150, certificateShare: 0.3 };
    expect(generateTenant(shape)).toEqual(generateTenant(shape));
    expect(generateTenant({ ...shape, seed: 100 })).not.toEqual(generateTenant(shape));
  });

  it("makes exactly the sizes asked for, as a valid snapshot with certificates and referencing pools", () => {
    const snapshot = parseSnapshot(generateTenant({ seed: 5, subscriptions: 20, accounts: 200, pools: 1000, certificateShare: 0.25 }));
    expect(snapshot.subscriptions).toHaveLength(20);
    expect(count(snapshot, "microsoft.batch/batchaccounts")).toBe(200);
    expect(count(snapshot, "microsoft.batch/batchaccounts/pools")).toBe(1000);
    const truth = expectedUsage(snapshot);
    expect(truth.certificates.length).toBeGreaterThan(0);
    expect(truth.poolsWithCertificates.length).toBeGreaterThan(0);
  });

  it("puts the hot subscription's accounts into the first subscription and spreads the rest", () => {
    const snapshot = generateTenant({ seed: 1, subscriptions: 5, accounts: 140, pools: 0, certificateShare: 0, hotSubscriptionAccounts: 100 });
    const hot = snapshot.subscriptions[0]?.subscriptionId ?? "";
    const inHot = snapshot.resources.filter((r) => r.type === "Microsoft.Batch/batchAccounts" && r.id.includes(hot)).length;
    expect(inHot).toBe(100);
  });

  it("writes a snapshot file from command-line flags and names every bad flag", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tenant-"));
    try {
      const out = join(dir, "tenant.json");
      const args = ["--seed", "3", "--subscriptions", "4", "--accounts", "10", "--pools", "20", "--certificate-share", "0.5", "--hot-subscription-accounts", "5", "--out", out];
      await generateTenantFile(args);
      const written = parseSnapshot(JSON.parse(await readFile(out, "utf8")));
      expect(written).toEqual(generateTenant(parseShape(args).shape));
      expect(() => parseShape(["--subscriptions", "0", "--accounts", "x", "--certificate-share", "2"])).toThrow(
        /--subscriptions must be a whole number >= 1; --accounts must be a whole number >= 1; --certificate-share must be a number from 0 to 1; --out/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
