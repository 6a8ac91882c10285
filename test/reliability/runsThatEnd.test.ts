// Issue 16, items 2 and 7-10: answers that are not what Azure documents, duplicates, paging loops, waits the server
// sets, and a status lookup that fails. Each is reproduced over HTTP with the real SDK clients against the simulated
// Azure (faults in the snapshot), and where the harm is in the run (resolutions, all-clears, the ledger), through the
// whole job with its ledger in Azurite.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAzurite, type LocalStorage } from "@batch-cert-auditor/simulated-azure";
import { ArmBatchCertificates } from "../../src/azure/batchCertificates.js";
import { batchClientFactory } from "../../src/azure/clients.js";
import { connectStorage } from "../../src/azure/storage.js";
import { TableLedger } from "../../src/azure/tableLedger.js";
import { connectAzure } from "../../src/app/connectAzure.js";
import { auditTenant } from "../../src/core/auditTenant.js";
import type { AuditReport } from "../../src/core/model.js";
import type { AuditScope } from "../../src/core/ports.js";
import { runCliDetailed } from "../../src/cli/runCli.js";
import { startSimulator, type SimulatedAzure } from "@batch-cert-auditor/simulated-azure";
import type { SnapshotFault, TenantSnapshot } from "@batch-cert-auditor/simulated-azure";
import {
  composeRun,
  demo,
  isolatedStorage,
  mailbox,
  removeDir,
  runJob,
  startSimulatedAzure,
  succeeded,
  tempDir,
  writeSnapshot,
} from "../support/auditRuns.js";
import { startHarness, type Harness } from "../support/simulatedAzure.js";
import { SEND_CONCURRENCY } from "../../src/core/sendReminders.js";

const RESOURCE_GRAPH = "^/providers/Microsoft.ResourceGraph/resources$";
const TENANT: AuditScope = { subscriptions: [], managementGroups: [] };
const RISK_CERTIFICATES = "/batchAccounts/riskbatch/certificates$";

let azurite: LocalStorage;
let harness: Harness | undefined;
const sims: SimulatedAzure[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite.stop();
});
afterEach(async () => {
  await harness?.sim.close();
  harness = undefined;
  await Promise.all(sims.splice(0).map((s) => s.close()));
  await Promise.all(dirs.splice(0).map(removeDir));
});

function withFaults(...faults: SnapshotFault[]): TenantSnapshot {
  const snapshot = demo();
  snapshot.faults = [...(snapshot.faults ?? []), ...faults];
  return snapshot;
}

async function audit(h: Pick<Harness, "inventory" | "certificates">, scope: AuditScope = TENANT): Promise<AuditReport> {
  return auditTenant({ inventory: h.inventory, certificates: h.certificates, pools: h.certificates, concurrency: 4 }, { scope, asOf: "2026-11-26", generatedAt: "2026-11-26T07:00:00.000Z" });
}

const account = (report: AuditReport, name: string) => report.coverage.accounts.find((a) => a.name === name);
const findingIds = (report: AuditReport) => report.findings.map((f) => f.id);

/** The demo tenant's Batch account rows as Resource Graph's accounts query projects them. */
function accountRows(snapshot: TenantSnapshot): Record<string, unknown>[] {
  return snapshot.resources
    .filter((r) => r.type.toLowerCase() === "microsoft.batch/batchaccounts")
    .sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()))
    .map((r) => {
      const [, subscriptionId = "", resourceGroup = ""] = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)/i.exec(r.id) ?? [];
      return { id: r.id, name: r.name, type: r.type.toLowerCase(), subscriptionId, resourceGroup: resourceGroup.toLowerCase(), location: r.location ?? "", tags: r.tags ?? {} };
    });
}

function certificatesOf(snapshot: TenantSnapshot, accountName: string): unknown[] {
  return snapshot.resources
    .filter((r) => r.type.toLowerCase() === "microsoft.batch/batchaccounts/certificates" && r.id.toLowerCase().includes(`/batchaccounts/${accountName}/`))
    .map((r) => ({ id: r.id, name: r.name, type: r.type, properties: r.properties ?? {} }));
}

describe("2. a Batch or Resource Graph answer that is not the documented shape fails its scope, never reads as empty", () => {
  it("a certificate list answering 200 without `value` does not resolve the account's findings nor tell its owner all clear", async () => {
    const out = await tempDir("malformed");
    dirs.push(out);
    const env = { ...isolatedStorage(azurite.connectionString), SEND_MODE: "live" };
    const healthy = await startSimulatedAzure(demo(), out);
    sims.push(healthy.sim);
    const first = succeeded(await runJob(composeRun(healthy.sim, healthy.accessKey, env), "2026-11-26"));
    const riskFindings = first.report.findings.filter((f) => f.accountName === "riskbatch" && f.kind === "account-certificate");
    expect(riskFindings.length).toBeGreaterThan(0);
    const riskOwners = new Set(riskFindings.flatMap((f) => (f.owners ?? []).map((o) => o.address)));
    await healthy.sim.close();

    const broken = await startSimulatedAzure(withFaults({ pathPattern: RISK_CERTIFICATES, status: 200, body: {} }), out);
    sims.push(broken.sim);
    const second = succeeded(await runJob(composeRun(broken.sim, broken.accessKey, env), "2026-11-27"));

    expect(account(second.report, "riskbatch")).toMatchObject({ status: "failed", certificates: "unknown" });
    expect(account(second.report, "riskbatch")?.reason).toMatch(/certificate list: the answer is not the documented shape \(value: .*\); nothing in it was taken/);
    expect(second.report.coverage.complete).toBe(false);
    expect(second.report.run?.resolvedSinceLastRun.map((r) => r.findingId)).not.toEqual(expect.arrayContaining(riskFindings.map((f) => f.id)));
    expect(second.reminders.messages.filter((m) => m.kind === "all-clear" && riskOwners.has(m.owner))).toEqual([]);
  });

  it("an HTML page answered 200 for a certificate list fails that account with the reason", async () => {
    const html = "<!DOCTYPE html><html><body><h1>Sign in to continue</h1></body></html>";
    harness = await startHarness({ snapshot: withFaults({ pathPattern: RISK_CERTIFICATES, status: 200, headers: { "content-type": "text/html; charset=utf-8" }, body: html }) });
    const report = await audit(harness);

    expect(account(report, "riskbatch")).toMatchObject({ status: "failed", certificates: "unknown" });
    expect(account(report, "riskbatch")?.reason).toMatch(/the answer was not JSON \(text\/html; charset=utf-8: "<!DOCTYPE html>/);
    expect(report.coverage.complete).toBe(false);
  });

  it("a Resource Graph page without totalRecords and resultTruncated is not taken as a complete answer", async () => {
    harness = await startHarness({ snapshot: withFaults({ pathPattern: RESOURCE_GRAPH, status: 200, times: 1, body: { count: 0, data: [] } }) });
    const report = await audit(harness);

    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.problems.join("\n")).toMatch(/Batch account query, tenant: Resource Graph: the answer is not the documented shape \(totalRecords: .*resultTruncated: /);
    expect(report.coverage.accounts).toEqual([]);
  });
});

describe("7. duplicate rows are merged by id: a run never fails on them", () => {
  it("a subscription named both in --subscriptions and inside a management group in --management-groups: one finding per resource, exit as usual", async () => {
    const out = await tempDir("overlap");
    dirs.push(out);
    const snapshot = await writeSnapshot(out, demo());
    let stdout = "";
    const result = await runCliDetailed(
      { simulate: snapshot, out, now: "2026-11-26", format: "json", subscriptions: "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", managementGroups: "contoso-finance,contoso-sandbox" },
      { env: { ...isolatedStorage(azurite.connectionString), SEND_MODE: "dry-run" }, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: () => undefined } },
    );

    expect(result.exitCode, stdout).toBe(2); // reportingbatch answers 403 in the demo tenant
    const report = result.report as AuditReport;
    expect(new Set(findingIds(report)).size).toBe(report.findings.length);
    expect(report.findings.some((f) => f.accountName === "riskbatch")).toBe(true);
    expect(new Set(report.coverage.accounts.map((a) => a.id.toLowerCase())).size).toBe(report.coverage.accounts.length);
    expect(new Set(report.coverage.subscriptions.map((s) => s.id.toLowerCase())).size).toBe(report.coverage.subscriptions.length);
  });

  it("duplicate Resource Graph rows and a Batch page that repeats a certificate: each resource once, the run succeeds", async () => {
    const snapshot = demo();
    const rows = accountRows(snapshot);
    const risk = certificatesOf(snapshot, "riskbatch");
    expect(risk.length).toBeGreaterThan(0);
    snapshot.faults = [
      ...(snapshot.faults ?? []),
      // The first query (the accounts) answers every row twice, one of them with its id upper-cased.
      { pathPattern: RESOURCE_GRAPH, status: 200, times: 1, body: { totalRecords: rows.length * 2, count: rows.length * 2, resultTruncated: "false", facets: [], data: [...rows, ...rows.map((r) => ({ ...r, id: String(r.id).toUpperCase() }))] } },
      { pathPattern: RISK_CERTIFICATES, status: 200, body: { value: [...risk, ...risk] } },
    ];
    const { sim, accessKey } = await startSimulatedAzure(snapshot);
    sims.push(sim);
    const result = succeeded(await runJob(composeRun(sim, accessKey, { ...isolatedStorage(azurite.connectionString), SEND_MODE: "dry-run" }), "2026-11-26"));

    expect(new Set(findingIds(result.report)).size).toBe(result.report.findings.length);
    expect(result.report.findings.filter((f) => f.accountName === "riskbatch" && f.kind === "account-certificate")).toHaveLength(risk.length);
    expect(account(result.report, "riskbatch")).toMatchObject({ status: "audited", certificates: risk.length });
    expect(result.report.coverage.accounts.filter((a) => a.name === "riskbatch")).toHaveLength(1);
  });
});

describe("7. the ledger's batch writes take a finding given twice", () => {
  it("writes a finding given twice in one save once, as last given, instead of failing the batch", async () => {
    const env = isolatedStorage(azurite.connectionString);
    const storage = connectStorage({ connectionString: env.AzureWebJobsStorage });
    const ledger = new TableLedger(storage.table(env.LEDGER_TABLE ?? "ledger"));
    const state = { findingId: "account-certificate:/subscriptions/s/x", kind: "account-certificate", resourceId: "/subscriptions/s/x", accountId: "a", accountName: "a", subscriptionId: "s", severity: "critical", owners: ["a@contoso.com"], firstSeen: "2026-11-20", lastSeen: "2026-11-26" };

    await ledger.saveFindingStates([state, { ...state, lastSeen: "2026-11-27" }]);

    expect(await ledger.findingStates()).toEqual([{ ...state, lastSeen: "2026-11-27" }]);
  });
});

describe("8. a paging loop ends its scope with the reason and the run finishes", () => {
  it("a $skipToken that repeats forever: each Resource Graph query stops at the repeat, the scope is incomplete", { timeout: 20_000 }, async () => {
    harness = await startHarness({ snapshot: withFaults({ pathPattern: RESOURCE_GRAPH, status: 200, body: { totalRecords: 10, count: 0, data: [], resultTruncated: "false", $skipToken: "c2FtZQ==" } }) });
    const report = await audit(harness);

    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.problems.join("\n")).toMatch(/Batch account query, tenant: Resource Graph: page 2 gave a \$skipToken that an earlier page already gave; paging stopped/);
    expect(harness.sim.stats.resourceGraphQueries + harness.sim.stats.faultsInjected).toBeLessThan(20);
  });

  it("a nextLink that repeats forever: that account fails with the reason, the others are read", { timeout: 20_000 }, async () => {
    const risk = certificatesOf(demo(), "riskbatch");
    const self = "/subscriptions/7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d/resourceGroups/rg-risk/providers/Microsoft.Batch/batchAccounts/riskbatch/certificates?api-version=2023-11-01&$skiptoken=again";
    harness = await startHarness({ snapshot: withFaults({ pathPattern: RISK_CERTIFICATES, status: 200, body: { value: risk, nextLink: self } }) });
    const report = await audit(harness);

    expect(account(report, "riskbatch")).toMatchObject({ status: "failed", certificates: "unknown" });
    expect(account(report, "riskbatch")?.reason).toMatch(/certificate list: page 2 gave a nextLink that an earlier page already gave; paging stopped so the run can finish/);
    expect(account(report, "genomicsbatch")?.status).toBe("audited");
  });

  it("a list longer than MAX_PAGES_PER_SCOPE: that scope fails with the reason instead of paging on", async () => {
    harness = await startHarness({ snapshot: demo(), batch: { pageSize: 1 } }, { pageSize: 2, maxPages: 3 });
    const conn = { credential: harness.credential, endpoint: harness.sim.url, ca: harness.sim.ca };
    const certificates = new ArmBatchCertificates(batchClientFactory(conn), undefined, 1);
    const report = await audit({ inventory: harness.inventory, certificates });

    const multi = report.coverage.accounts.filter((a) => a.status === "failed" && /more than 1 pages \(MAX_PAGES_PER_SCOPE\)/.test(a.reason ?? ""));
    expect(multi.map((a) => a.name)).toContain("riskbatch");
    expect(report.coverage.problems.join("\n")).toMatch(/query, tenant: Resource Graph: more than 3 pages \(MAX_PAGES_PER_SCOPE\)/);
    expect(report.coverage.complete).toBe(false);
  });
});

describe("9. waits the server sets are capped, and a run ends within its time budget", () => {
  it("a Resource Graph 429 with x-ms-user-quota-resets-after 01:00:00 is not waited out: the scope fails at once, with the reason", { timeout: 20_000 }, async () => {
    const waits: number[] = [];
    const fault = { pathPattern: RESOURCE_GRAPH, status: 429, times: 1, headers: { "x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "01:00:00" }, body: { error: { code: "RateLimiting", message: "throttled" } } };
    harness = await startHarness(
      { snapshot: withFaults(fault) },
      { maxRetryWaitMs: 2000, sleep: (ms) => (waits.push(ms), new Promise((r) => setTimeout(r, Math.min(ms, 10)))) },
    );
    const report = await audit(harness);

    expect(waits.every((ms) => ms <= 2000)).toBe(true);
    expect(report.coverage.complete).toBe(false);
    expect(report.coverage.problems.join("\n")).toMatch(/Resource Graph's query quota is spent for another 3600 s, longer than MAX_RETRY_WAIT_SECONDS \(2 s\); not queried this run/);
  });

  it("a Batch 429 with Retry-After: 3600 fails that account at once with the reason; the SDK's retry and the pacer do not wait it", { timeout: 20_000 }, async () => {
    const sim = await startSimulator({
      snapshot: withFaults({ pathPattern: RISK_CERTIFICATES, status: 429, headers: { "retry-after": "3600" }, body: { error: { code: "SubscriptionRequestsThrottled", message: "Try again after 3600 seconds." } } }),
    });
    sims.push(sim);
    const azure = connectAzure({ simulator: { url: sim.url, ca: sim.ca }, retry: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 50 }, maxRetryWaitMs: 2000 });
    const report = await audit(azure);

    expect(account(report, "riskbatch")).toMatchObject({ status: "failed", certificates: "unknown" });
    expect(account(report, "riskbatch")?.reason).toMatch(/HTTP 429 .* asked to wait 3600 s before trying again, longer than MAX_RETRY_WAIT_SECONDS \(2 s\); not retried this run/);
    // One 429, not retried (the other injected fault is the demo tenant's own 403 for reportingbatch).
    expect(sim.stats.faultsInjected).toBe(2);
    expect(account(report, "genomicsbatch")?.status).toBe("audited");
  });

  it("a mail service 429 with Retry-After: 3600 is not waited out: that message waits for the next run, which sends it once", { timeout: 40_000 }, async () => {
    const out = await tempDir("mail-wait");
    dirs.push(out);
    const env = { ...isolatedStorage(azurite.connectionString), SEND_MODE: "live", MAX_RETRY_WAIT_SECONDS: "2" };
    const throttled = await startSimulatedAzure(withFaults({ pathPattern: "^/emails:send$", method: "POST", status: 429, headers: { "retry-after": "3600" }, body: { error: { code: "TooManyRequests", message: "Retry after 3600 seconds." } }, after: 2, times: 1 }), out);
    sims.push(throttled.sim);
    const first = succeeded(await runJob(composeRun(throttled.sim, throttled.accessKey, env), "2026-11-26"));
    // The sends out beside the refused one (up to SEND_CONCURRENCY at once) finish; none starts after it.
    expect(first.reminders.sent).toBeGreaterThanOrEqual(2);
    expect(first.reminders.sent).toBeLessThan(first.reminders.planned - 1);
    expect(first.reminders.deferred).toBe(first.reminders.planned - first.reminders.sent);
    // MAX_RETRY_WAIT_SECONDS=2 is below the mail sender's own 5 s cap: the reason names the setting that applied.
    expect(first.reminders.throttled).toMatch(/asked to wait 3600 s before trying again, longer than MAX_RETRY_WAIT_SECONDS \(2 s\)/);
    await throttled.sim.close();

    const healthy = await startSimulatedAzure(demo(), out);
    sims.push(healthy.sim);
    const second = succeeded(await runJob(composeRun(healthy.sim, healthy.accessKey, env), "2026-11-26"));
    expect(second.reminders.sent).toBe(first.reminders.planned - first.reminders.sent);
    for (const count of (await mailbox(out)).perRecipient().values()) expect(count).toBe(1);
  });

  it("a Retry-After storm that outlasts the run's budget: the unread account fails with the reason, the report is written, the other owners get their digests", { timeout: 40_000 }, async () => {
    const snapshot = withFaults({ pathPattern: RISK_CERTIFICATES, status: 429, headers: { "retry-after": "1" }, body: { error: { code: "SubscriptionRequestsThrottled", message: "Try again after 1 second." } } });
    const out = await tempDir("storm");
    dirs.push(out);
    const { sim, accessKey } = await startSimulatedAzure(snapshot, out);
    sims.push(sim);
    const composition = composeRun(sim, accessKey, { ...isolatedStorage(azurite.connectionString), SEND_MODE: "live" });
    const result = succeeded(await runJob(composition, "2026-11-26", { runBudgetMs: 5000 }));

    expect(account(result.report, "riskbatch")).toMatchObject({ status: "failed", certificates: "unknown" });
    expect(account(result.report, "riskbatch")?.reason).toMatch(/Not read: the run's time budget for Azure reads \(80% of RUN_BUDGET_MINUTES=25\) was spent first/);
    expect(account(result.report, "genomicsbatch")?.status).toBe("audited");
    expect(result.report.coverage.complete).toBe(false);
    expect((await composition.reports.latestReport())?.coverage.complete).toBe(false);
    const box = await mailbox(out);
    expect(box.sentTo("alice.jones@contoso.com")).toHaveLength(1);
  });
});

describe("10. a status lookup that fails blocks nothing", () => {
  it("a pending send whose lookup answers 500 stays pending and is reported; the run goes on and every other owner gets their digest", { timeout: 40_000 }, async () => {
    const out = await tempDir("lookup");
    dirs.push(out);
    const env = { ...isolatedStorage(azurite.connectionString), SEND_MODE: "live" };
    // Run 1: from the 3rd send on, the sends out together (up to SEND_CONCURRENCY) get 500s after the SDK's retries:
    // their fate is unknown, their intents stay pending.
    const first = await startSimulatedAzure(withFaults({ pathPattern: "^/emails:send$", method: "POST", status: 500, after: 2, times: 3 * SEND_CONCURRENCY }), out);
    sims.push(first.sim);
    const one = succeeded(await runJob(composeRun(first.sim, first.accessKey, env), "2026-11-26"));
    const unknown = one.reminders.unconfirmed;
    expect(unknown).toBeGreaterThanOrEqual(1);
    expect(unknown).toBeLessThanOrEqual(SEND_CONCURRENCY);
    await first.sim.close();

    // Run 2: looking those operations up answers 500. Before, every later run failed here.
    const composition = composeRun(first.sim, first.accessKey, env);
    const pending = await composition.job.ledgerFor("live").outbox({ status: "pending" });
    expect(pending).toHaveLength(unknown);
    const second = await startSimulatedAzure(withFaults({ pathPattern: "^/emails/operations/", method: "GET", status: 500 }), out);
    sims.push(second.sim);
    const two = succeeded(await runJob(composeRun(second.sim, second.accessKey, env), "2026-11-26"));
    const byId = (a: { operationId: string }, b: { operationId: string }) => a.operationId.localeCompare(b.operationId);
    expect([...two.reminders.lookupFailed].sort(byId)).toEqual(
      pending.map((p) => ({ recipient: p.recipient, operationId: p.operationId, error: expect.stringMatching(/HTTP 500/) as unknown })).sort(byId),
    );
    expect(two.report.run?.reminders.lookupFailed).toHaveLength(unknown);
    for (const p of pending) expect(two.reminders.messages.find((m) => m.operationId === p.operationId)?.outcome).toBe("deferred");
    expect(await composition.job.ledgerFor("live").outbox({ status: "pending" })).toHaveLength(unknown);
    await second.sim.close();

    // Run 3, the next day: the status can be read and the service does not know the operations, past
    // EMAIL_NOT_FOUND_GRACE_HOURS (the same day it would be "unknown, look again"): sent once. Every owner has
    // exactly one digest.
    const third = await startSimulatedAzure(demo(), out);
    sims.push(third.sim);
    const three = succeeded(await runJob(composeRun(third.sim, third.accessKey, env), "2026-11-27"));
    expect(three.reminders.recovered.abandoned).toBe(unknown);
    const box = await mailbox(out);
    for (const count of box.perRecipient().values()) expect(count).toBe(1);
    for (const p of pending) expect(box.sentTo(p.recipient)).toHaveLength(1);
    expect(box.perRecipient().size).toBe(one.reminders.planned);
  });
});
