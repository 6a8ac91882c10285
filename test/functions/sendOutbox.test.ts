// The sending timer end to end: real Timer and InvocationContext objects, the demo tenant in the simulated Azure,
// Azurite for the ledger, lock and reports. The app's clock is moved an hour on (the simulator's is not: it sets no
// send limit here), so the timer's run finds the audit's sends out of the hourly window.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dailyAudit } from "../../src/functions/dailyAudit.js";
import { sendOutbox } from "../../src/functions/sendOutbox.js";
import { invocationContext, startHarness, timer, type Harness } from "./support/functionsHarness.js";

const OWNERS = ["alice.jones@contoso.com", "bob.smith@contoso.com", "dana@contoso.com", "genomics-team@contoso.com", "imaging-oncall@contoso.com", "lab-lead@contoso.com", "priya@contoso.com", "risk-eng@contoso.com"];

let h: Harness;
let offsetMs = 0;
// The app's clock runs from 10:00 UTC today, whatever the time of day the test runs at: a sending timer's run stops a
// minute before the next audit firing (AUDIT_SCHEDULE, 07:00 UTC by default), so a clock an hour ahead of the machine's
// sent nothing when the suite reached this test between 05:58 and 05:59 UTC.
const shiftMs = new Date().setUTCHours(10, 0, 0, 0) - Date.now();
beforeAll(async () => {
  h = await startHarness();
  h.configure({ EMAIL_PER_MINUTE: "5", EMAIL_PER_HOUR: "5" }, { now: () => new Date(Date.now() + shiftMs + offsetMs) });
});
afterAll(async () => {
  await h?.close();
});

describe("the sendOutbox timer", () => {
  it("sends nothing before any audit, then what the audit could not fit once the hour allows, each owner once", async () => {
    const logs: string[] = [];
    await sendOutbox(timer(), invocationContext("sendOutbox", logs));
    expect(logs.some((l) => l.includes("no audit has run yet"))).toBe(true);
    expect(h.sim.email.messages()).toHaveLength(0);

    await dailyAudit(timer(), invocationContext("dailyAudit", logs));
    expect(h.sim.email.messages()).toHaveLength(5);

    // Within the hour of the audit's sends: nothing more.
    await sendOutbox(timer(), invocationContext("sendOutbox", logs));
    expect(h.sim.email.messages()).toHaveLength(5);
    expect(logs.filter((l) => l.includes("sending timer done")).at(-1)).toMatch(/"sent":0,"backlog":3,"eta":"\d{4}-/);

    offsetMs = 61 * 60_000;
    await sendOutbox(timer(), invocationContext("sendOutbox", logs));
    await sendOutbox(timer(), invocationContext("sendOutbox", logs));
    expect(logs.filter((l) => l.includes("sending timer done")).slice(-2).map((l) => /"sent":(\d+)/.exec(l)?.[1])).toEqual(["3", "0"]);
    expect(h.sim.email.messages().flatMap((m) => m.to).sort()).toEqual(OWNERS);
  });

  it("does nothing in dry-run: nothing is planned to be sent", async () => {
    h.configure({ SEND_MODE: "dry-run" });
    const logs: string[] = [];
    const before = h.sim.email.messages().length;
    await sendOutbox(timer(), invocationContext("sendOutbox", logs));
    expect(logs.some((l) => l.includes("SEND_MODE is dry-run"))).toBe(true);
    expect(h.sim.email.messages()).toHaveLength(before);
  });
});
