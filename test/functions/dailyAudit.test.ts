// The daily timer end to end: real Timer and InvocationContext objects, the demo tenant in the simulated Azure,
// Azurite for the ledger, lock and reports, mail into the simulated Communication Email service.
import { createNoopMeter, metrics, type Attributes, type Meter, type MeterProvider } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditLockWaitMs, dailyAudit, dailyAuditOptions } from "../../src/functions/dailyAudit.js";
import { getHost } from "../../src/app/functionsHost.js";
import { runningStatus } from "../../src/app/runAuditJob.js";
import { auditYieldAt } from "../../src/app/runSendOnly.js";
import { invocationContext, startHarness, timer, type Harness } from "./support/functionsHarness.js";

/** Records what the app's instruments are given (the global meter provider is read at first use). */
const recorded: { name: string; value: number; attributes: Attributes }[] = [];
const recordingProvider: MeterProvider = {
  getMeter(): Meter {
    const meter = createNoopMeter();
    const instrument = (name: string) => ({
      add: (value: number, attributes: Attributes = {}) => void recorded.push({ name, value, attributes }),
      record: (value: number, attributes: Attributes = {}) => void recorded.push({ name, value, attributes }),
    });
    meter.createCounter = instrument as unknown as Meter["createCounter"];
    meter.createHistogram = instrument as unknown as Meter["createHistogram"];
    meter.createGauge = instrument as unknown as Meter["createGauge"];
    return meter;
  },
};

const OWNERS = ["alice.jones@contoso.com", "bob.smith@contoso.com", "dana@contoso.com", "genomics-team@contoso.com", "imaging-oncall@contoso.com", "lab-lead@contoso.com", "priya@contoso.com", "risk-eng@contoso.com"];

let h: Harness;
beforeAll(async () => {
  metrics.setGlobalMeterProvider(recordingProvider);
  h = await startHarness();
});
afterAll(async () => {
  await h?.close();
  metrics.disable();
});

const sum = (name: string, match: Attributes = {}) =>
  recorded.filter((r) => r.name === name && Object.entries(match).every(([k, v]) => r.attributes[k] === v)).reduce((n, r) => n + r.value, 0);

describe("the dailyAudit timer", () => {
  it("audits the tenant and sends each owner one digest", async () => {
    const logs: string[] = [];
    await dailyAudit(timer(), invocationContext("dailyAudit", logs));

    const messages = h.sim.email.messages();
    const recipients = messages.flatMap((m) => m.to).sort();
    expect(recipients).toEqual(OWNERS);
    for (const owner of OWNERS) expect(h.sim.email.sentTo(owner)).toHaveLength(1);
    // Structured lines through the invocation context, each carrying the run id.
    const done = logs.find((l) => l.includes("daily audit done"));
    expect(done).toMatch(/^dailyAudit information: daily audit done \{.*"runId":"run-[0-9TZ-]+-[0-9a-f]{6}".*"sent":8/);
    expect(logs.filter((l) => l.includes("reminders done")).every((l) => /"runId":"run-/.test(l))).toBe(true);

    expect(sum("audit.messages.sent")).toBe(8);
    expect(sum("audit.findings", { severity: "critical" })).toBe(11);
    expect(sum("audit.findings", { severity: "warning" })).toBe(9);
    expect(sum("audit.scopes.failed")).toBe(1);
    expect(sum("audit.runs", { trigger: "timer", outcome: "succeeded" })).toBe(1);
    expect(recorded.some((r) => r.name === "audit.run.duration" && r.value > 0)).toBe(true);
  });

  it("sends nothing the second time it fires on the same day", async () => {
    const before = h.sim.email.messages().length;
    const logs: string[] = [];
    await dailyAudit(timer(), invocationContext("dailyAudit", logs));

    expect(h.sim.email.messages()).toHaveLength(before);
    expect(logs.find((l) => l.includes("daily audit done"))).toMatch(/"sent":0/);
    expect(sum("audit.messages.sent")).toBe(8);
  });

  it("runs once when two firings overlap: the other one logs the active run and does not fail", async () => {
    const before = h.sim.email.messages().length;
    const logs: string[] = [];
    const results = await Promise.allSettled([dailyAudit(timer(), invocationContext("dailyAudit", logs)), dailyAudit(timer(), invocationContext("dailyAudit", logs))]);

    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    expect(logs.filter((l) => l.includes("daily audit done"))).toHaveLength(1);
    expect(logs.filter((l) => /information: another run is active; this firing does nothing .*"activeRunId":"run-/.test(l))).toHaveLength(1);
    expect(h.sim.email.messages()).toHaveLength(before);
    expect(sum("audit.runs", { trigger: "timer", outcome: "already-running" })).toBe(1);
  });

  it("waits for a sending run that holds the run lock, then audits: the daily audit is never skipped for a drain", async () => {
    const { job } = getHost().composition;
    const held = await job.lock.acquire("send-holding");
    if ("heldBy" in held) throw new Error("the lock was not free");
    await job.reports.saveStatus(runningStatus({ runId: "send-holding", trigger: "timer", sendMode: "live" }, new Date(), "reminders", "send-only"));
    setTimeout(() => void held.release(), 3000);
    const logs: string[] = [];
    await dailyAudit(timer(), invocationContext("dailyAudit", logs));

    expect(logs.some((l) => /a sending run holds the run lock; the audit waits for it .*"activeRunId":"send-holding"/.test(l))).toBe(true);
    expect(logs.some((l) => l.includes("daily audit done"))).toBe(true);
    expect(logs.some((l) => l.includes("this firing does nothing"))).toBe(false);
  });

  it("throws when a sending run keeps the lock past what the function timeout leaves, so the timer's retry policy runs the audit again", async () => {
    // A clock that runs ten minutes a read: the wait the timeout leaves (3 minutes at RUN_BUDGET_MINUTES=26) is soon over.
    let t = Date.now();
    h.configure(undefined, { now: () => new Date((t += 600_000)) });
    const { job } = getHost().composition;
    const held = await job.lock.acquire("send-stuck");
    if ("heldBy" in held) throw new Error("the lock was not free");
    try {
      await job.reports.saveStatus(runningStatus({ runId: "send-stuck", trigger: "timer", sendMode: "live" }, new Date(), "reminders", "send-only"));
      await expect(dailyAudit(timer(), invocationContext("dailyAudit", []))).rejects.toThrow(/the sending run send-stuck still holds the run lock; the retry policy runs the audit again/);
    } finally {
      await held.release();
      h.configure();
    }
    // The policy that runs it again: the runtime's, set on the timer (timers are served by retry policies).
    expect(dailyAuditOptions.retry).toMatchObject({ strategy: "exponentialBackoff", maxRetryCount: 3 });
    expect(auditLockWaitMs(25)).toBe(4 * 60_000);
    expect(auditLockWaitMs(26)).toBe(3 * 60_000);
  });

  it("stops a sending timer's run a minute before the next audit firing, so the audit finds the lock free", () => {
    expect(new Date(auditYieldAt("0 0 7 * * *", new Date("2026-11-26T06:55:00Z")) ?? 0).toISOString()).toBe("2026-11-26T06:59:00.000Z");
    expect(new Date(auditYieldAt("0 0 7 * * *", new Date("2026-11-26T07:30:00Z")) ?? 0).toISOString()).toBe("2026-11-27T06:59:00.000Z");
  });

  it("logs a past-due firing as late and runs it", async () => {
    const logs: string[] = [];
    await dailyAudit(timer(true), invocationContext("dailyAudit", logs));

    expect(logs[0]).toMatch(/^dailyAudit warning: timer is past due; running now \{.*"trigger":"timer"/);
    expect(logs.some((l) => l.includes("daily audit done"))).toBe(true);
  });
});
