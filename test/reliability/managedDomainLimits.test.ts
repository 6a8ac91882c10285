// 200 owners against the Azure-managed domain's limits (Microsoft Learn, "Service limits for Azure Communication
// Services", email: sends 5 a minute and 10 an hour; Get Email Status 10 a minute and 20 an hour), modelled per
// Communication Services resource by the simulator. The app is configured for more than the service allows, as a
// first deployment easily is.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateTenant, startAzurite, startSimulator, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { composeRun, isolatedStorage, runJob, succeeded } from "../support/auditRuns.js";

let azurite: LocalStorage;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});

describe("200 owners under the managed-domain limits", () => {
  it("ends with every message accepted or deferred, none failed and no status read, and a rerun sends nothing twice", async () => {
    const tenant = generateTenant({ seed: 11, subscriptions: 4, accounts: 200, pools: 200, certificateShare: 1, poolReferenceShare: 1 });
    let n = 0;
    for (const r of tenant.resources) if (r.type === "Microsoft.Batch/batchAccounts") r.tags = { owner: `owner${++n}@contoso.com` };
    const accessKey = randomBytes(32).toString("base64");
    const sim = await startSimulator({
      snapshot: tenant,
      email: { accessKey, limits: { perMinute: 5, perHour: 10 }, statusReadLimits: { perMinute: 10, perHour: 20 } },
    });
    try {
      const env = { ...isolatedStorage(azurite.connectionString), EMAIL_PER_MINUTE: "30", EMAIL_PER_HOUR: "100" };
      const started = performance.now();
      const first = succeeded(await runJob(composeRun(sim, accessKey, env), "2026-11-26")).reminders;
      // The 6th send is refused with a Retry-After of about a minute: not waited out, the rest is deferred.
      expect(performance.now() - started).toBeLessThan(60_000);
      expect(first.planned).toBeGreaterThanOrEqual(200);
      expect(first.sent).toBe(5);
      expect(first.failed).toEqual([]);
      expect(first.sent + first.deferred + first.refused.length).toBe(first.planned);
      expect(first.throttled).toMatch(/asked to wait .* longer than EMAIL_MAX_RETRY_WAIT_MS \(5 s\)|without saying/);

      const rerun = succeeded(await runJob(composeRun(sim, accessKey, env), "2026-11-26")).reminders;
      expect(rerun.failed).toEqual([]);
      expect(rerun.lookupFailed).toEqual([]);
      expect(rerun.sent + rerun.deferred + rerun.refused.length + rerun.alreadySent).toBe(rerun.planned);
      const perRecipient = new Map<string, number>();
      for (const m of sim.email.messages()) for (const to of m.to) perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
      expect([...perRecipient.values()].every((count) => count === 1)).toBe(true);
      expect(sim.email.stats.statusReads).toBe(0);
    } finally {
      await sim.close();
    }
  }, 180_000);
});
