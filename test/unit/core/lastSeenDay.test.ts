// An open finding seen again as it was is not written again for its last-seen day: the day of the last tracking says
// it. What the ledger gives is still when each finding was last seen, through days it was not seen, seen again, and
// resolved, and a stop between the states and the day understates it, never overstates it.
import { describe, expect, it } from "vitest";
import type { AccountCoverage, AuditReport, Finding } from "../../../src/core/model.js";
import type { FindingState } from "../../../src/core/ports.js";
import { asTracked, trackFindings } from "../../../src/core/trackFindings.js";
import { MemoryLedger } from "../../support/memoryPorts.js";
import { minimalReport } from "../../support/minimalReport.js";

const account = (name: string) => `/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/${name}`;
const X = account("x");
const Y = account("y");

function finding(accountId: string, pool: string, extra: Partial<Finding> = {}): Finding {
  const resourceId = `${accountId}/pools/${pool}`;
  return {
    id: `pool-certificate-reference:${resourceId.toLowerCase()}`,
    kind: "pool-certificate-reference",
    severity: "critical",
    subscriptionId: "s1",
    resourceGroup: "rg",
    accountId,
    accountName: accountId.split("/").pop()!,
    resourceId,
    poolName: pool,
    detail: "references certificates",
    owners: [{ address: "alice@contoso.com", source: 'account tag "owner"' }],
    ...extra,
  } as Finding;
}
const A = finding(X, "a");
const B = finding(Y, "b");

const audited = (id: string, status: AccountCoverage["status"] = "audited"): AccountCoverage => ({ id, name: id.split("/").pop()!, subscriptionId: "s1", status, certificates: 0, pools: "batch-api" });

/** A run on `asOf` that found `findings`, with these accounts in its coverage. */
function day(asOf: string, findings: Finding[], accounts: AccountCoverage[]): AuditReport {
  const report = minimalReport(asOf, findings);
  return { ...report, coverage: { ...report.coverage, complete: accounts.every((a) => a.status === "audited"), subscriptions: [{ id: "s1", status: "audited" }], accounts } };
}

/** The ledger, counting the states each save writes. */
class CountingLedger extends MemoryLedger {
  written: number[] = [];
  override async saveFindingStates(states: FindingState[], trackedOn?: string) {
    this.written.push(states.length);
    await super.saveFindingStates(states, trackedOn);
  }
}

const read = async (ledger: MemoryLedger) => new Map((await ledger.findingStates()).map((s) => [s.findingId, s]));

describe("the last-seen day, without writing what did not change", () => {
  it("is the last tracking's day for what it saw again, and stays the day it was last seen through the days it was not", async () => {
    const ledger = new CountingLedger();
    await trackFindings(ledger, day("2026-12-01", [A, B], [audited(X), audited(Y)]));
    // Seen again as they were: nothing written, and both read as seen today.
    const second = await trackFindings(ledger, day("2026-12-02", [A, B], [audited(X), audited(Y)]));
    expect(ledger.written).toEqual([2, 0]);
    expect(second.written).toBe(0);
    expect([...(await read(ledger)).values()].map((s) => [s.firstSeen, s.lastSeen])).toEqual([
      ["2026-12-01", "2026-12-02"],
      ["2026-12-01", "2026-12-02"],
    ]);
    // What the run goes on with says so too.
    expect(second.states.map((s) => s.lastSeen)).toEqual(["2026-12-02", "2026-12-02"]);

    // A's account could not be read: A is carried as not rechecked, written once as not seen since today.
    const carried = { ...A, notRechecked: { lastSeen: "2026-12-02", reason: "its pools could not be read" } };
    await trackFindings(ledger, day("2026-12-03", [carried, B], [audited(X, "failed"), audited(Y)]));
    expect(ledger.written.at(-1)).toBe(1);
    // Still not read, and B's account no longer in the results (its finding stays open, not seen): B written, not A.
    await trackFindings(ledger, day("2026-12-04", [carried], [audited(X, "failed")]));
    expect(ledger.written.at(-1)).toBe(1);
    let states = await read(ledger);
    expect(states.get(A.id)).toMatchObject({ lastSeen: "2026-12-02", notSeenSince: "2026-12-03" });
    expect(states.get(B.id)).toMatchObject({ lastSeen: "2026-12-03", notSeenSince: "2026-12-04" });
    expect(states.get(B.id)?.resolvedOn).toBeUndefined();

    // A seen again; B's account read and B gone: A open and seen today, B resolved, last seen when it was.
    const fifth = await trackFindings(ledger, day("2026-12-05", [A], [audited(X), audited(Y)]));
    expect(ledger.written.at(-1)).toBe(2);
    expect(fifth.resolved.map((s) => s.findingId)).toEqual([B.id]);
    states = await read(ledger);
    expect(states.get(A.id)).toEqual(expect.objectContaining({ firstSeen: "2026-12-01", lastSeen: "2026-12-05" }));
    expect(states.get(A.id)?.notSeenSince).toBeUndefined();
    expect(states.get(B.id)).toEqual(expect.objectContaining({ lastSeen: "2026-12-03", resolvedOn: "2026-12-05" }));
    expect(states.get(B.id)?.notSeenSince).toBeUndefined();

    // Days later, seen as it was: not written; the day moves on, a resolved state's does not.
    await trackFindings(ledger, day("2026-12-09", [A], [audited(X), audited(Y)]));
    expect(ledger.written.at(-1)).toBe(0);
    states = await read(ledger);
    expect(states.get(A.id)?.lastSeen).toBe("2026-12-09");
    expect(states.get(B.id)?.lastSeen).toBe("2026-12-03");
  });

  it.each([
    ["its owners", { owners: [{ address: "bob@contoso.com", source: 'account tag "owner"' }] }, { owners: ["bob@contoso.com"] }],
    ["its severity", { severity: "warning" }, { severity: "warning" }],
    ["its account's name", { accountName: "x-renamed" }, { accountName: "x-renamed" }],
  ] as [string, Partial<Finding>, Partial<FindingState>][])("is written when %s changed, with the day", async (_what, change, stored) => {
    const ledger = new CountingLedger();
    await trackFindings(ledger, day("2026-12-01", [A], [audited(X)]));
    await trackFindings(ledger, day("2026-12-02", [{ ...A, ...change }], [audited(X)]));
    expect(ledger.written).toEqual([1, 1]);
    expect(ledger.states).toEqual([expect.objectContaining({ ...stored, firstSeen: "2026-12-01", lastSeen: "2026-12-02" })]);
  });

  it("a state a run dated ahead left later than today is written again with today's day, as a seen state always was", async () => {
    const ledger = new CountingLedger();
    await trackFindings(ledger, day("2026-12-01", [A], [audited(X)]));
    await trackFindings(ledger, day("2026-12-20", [A, B], [audited(X), audited(Y)]));
    // The true day: both seen as they were, both read as seen on the 20th until written.
    await trackFindings(ledger, day("2026-12-02", [A, B], [audited(X), audited(Y)]));
    expect(ledger.written).toEqual([1, 1, 2]);
    expect([...(await read(ledger)).values()].map((s) => s.lastSeen)).toEqual(["2026-12-02", "2026-12-02"]);
    // B's account then fails: carried, last seen the true day before, not the 20th.
    const carried = { ...B, notRechecked: { lastSeen: "2026-12-02", reason: "its pools could not be read" } };
    await trackFindings(ledger, day("2026-12-03", [A, carried], [audited(X), audited(Y, "failed")]));
    expect((await read(ledger)).get(B.id)).toMatchObject({ lastSeen: "2026-12-02", notSeenSince: "2026-12-03" });
  });

  it("a stop after the states and before the day: what was not written reads as seen the tracking before, never later", async () => {
    const ledger = new MemoryLedger();
    await trackFindings(ledger, day("2026-12-01", [A, B], [audited(X), audited(Y)]));
    await trackFindings(ledger, day("2026-12-02", [A, B], [audited(X), audited(Y)]));
    // On the third day A's account fails and the process stops once the states are written, before the day is.
    const stopping = new (class extends MemoryLedger {
      override async saveFindingStates(states: FindingState[]) {
        await super.saveFindingStates(states);
        throw new Error("killed");
      }
    })();
    stopping.states = ledger.states;
    stopping.trackedOn = ledger.trackedOn;
    const carried = { ...A, notRechecked: { lastSeen: "2026-12-02", reason: "its pools could not be read" } };
    await expect(trackFindings(stopping, day("2026-12-03", [carried, B], [audited(X, "failed"), audited(Y)]))).rejects.toThrow("killed");
    const states = await read(stopping);
    expect(states.get(A.id)).toMatchObject({ lastSeen: "2026-12-02", notSeenSince: "2026-12-03" });
    // B was seen on the third day too: read as the second, the last tracking that finished.
    expect(states.get(B.id)?.lastSeen).toBe("2026-12-02");
  });

  it("asTracked: a tracking's day never moves a state back, nor one resolved or not seen", () => {
    const open: FindingState = { findingId: "f", kind: "pool", resourceId: "r", accountId: "a", accountName: "a", subscriptionId: "s", severity: "critical", owners: [], firstSeen: "2026-11-01", lastSeen: "2026-12-03" };
    expect(asTracked(open, "2026-12-05").lastSeen).toBe("2026-12-05");
    expect(asTracked(open, "2026-12-01").lastSeen).toBe("2026-12-03");
    expect(asTracked(open, undefined).lastSeen).toBe("2026-12-03");
    expect(asTracked({ ...open, notSeenSince: "2026-12-04" }, "2026-12-05").lastSeen).toBe("2026-12-03");
    expect(asTracked({ ...open, resolvedOn: "2026-12-04" }, "2026-12-05").lastSeen).toBe("2026-12-03");
  });
});
