// The daily timer end to end: real Timer and InvocationContext objects, the demo tenant in the simulated Azure,
// Azurite for the ledger, lock and reports, mail into the simulated Communication Email service.
import { createNoopMeter, metrics, type Attributes, type Meter, type MeterProvider } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dailyAudit } from "../../src/functions/dailyAudit.js";
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
    expect(sum("audit.findings", { severity: "critical" })).toBe(8);
    expect(sum("audit.findings", { severity: "warning" })).toBe(6);
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

  it("logs a past-due firing as late and runs it", async () => {
    const logs: string[] = [];
    await dailyAudit(timer(true), invocationContext("dailyAudit", logs));

    expect(logs[0]).toMatch(/^dailyAudit warning: timer is past due; running now \{.*"trigger":"timer"/);
    expect(logs.some((l) => l.includes("daily audit done"))).toBe(true);
  });
});
