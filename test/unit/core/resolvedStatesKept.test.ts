// Resolved findings' states are deleted KEPT_DAYS after their resolution (trackFindings): every run
// reads every state, so kept for ever they grow with the months where pools come and go.
import { describe, expect, it } from "vitest";
import { addDays } from "../../../src/core/dates.js";
import type { Finding } from "../../../src/core/model.js";
import type { FindingState } from "../../../src/core/ports.js";
import { ALL_CLEAR_WINDOW_DAYS, FORGOTTEN_PER_RUN, KEPT_DAYS } from "../../../src/core/retention.js";
import { trackFindings } from "../../../src/core/trackFindings.js";
import { AuditError } from "../../../src/core/errors.js";
import { MemoryLedger } from "../../support/memoryPorts.js";
import { minimalReport } from "../../support/minimalReport.js";

const AS_OF = "2026-12-04";
const ACCOUNT = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Batch/batchAccounts/acct";
const idOf = (pool: string) => `pool-certificate-reference:${ACCOUNT.toLowerCase()}/pools/${pool}`;
const state = (pool: string, resolvedOn?: string): FindingState => ({
  findingId: idOf(pool),
  kind: "pool-certificate-reference",
  resourceId: `${ACCOUNT}/pools/${pool}`,
  accountId: ACCOUNT,
  accountName: "acct",
  subscriptionId: "s1",
  severity: "critical",
  owners: ["alice@contoso.com"],
  firstSeen: "2025-01-01",
  lastSeen: resolvedOn ?? AS_OF,
  ...(resolvedOn ? { resolvedOn } : {}),
});
const finding = (pool: string): Finding => ({
  id: idOf(pool),
  kind: "pool-certificate-reference",
  rule: "pool-certificate-reference",
  severity: "critical",
  resourceId: `${ACCOUNT}/pools/${pool}`,
  subscriptionId: "s1",
  resourceGroup: "rg",
  accountName: "acct",
  accountId: ACCOUNT,
  poolName: pool,
  detail: "references a certificate",
  owners: [{ address: "alice@contoso.com", source: "tag" }],
});
const report = (findings: Finding[]) => ({
  ...minimalReport(AS_OF, findings),
  coverage: {
    complete: true,
    subscriptions: [{ id: "s1", status: "audited" as const }],
    accounts: [{ id: ACCOUNT, name: "acct", subscriptionId: "s1", status: "audited" as const, certificates: 0, pools: "batch-api" as const }],
    problems: [],
  },
});

describe("states of findings resolved long ago", () => {
  it("outlive the all-clear's window", () => {
    expect(KEPT_DAYS).toBeGreaterThan(ALL_CLEAR_WINDOW_DAYS);
  });

  it("are deleted past KEPT_DAYS, and only they: open, recent, future-dated and found-again states stay", async () => {
    const ledger = new MemoryLedger();
    const past = addDays(AS_OF, -(KEPT_DAYS + 1));
    ledger.states = [
      state("old", past),
      state("edge", addDays(AS_OF, -KEPT_DAYS)),
      state("recent", addDays(AS_OF, -ALL_CLEAR_WINDOW_DAYS)),
      // Resolved on a later day than this run's (a run replayed with an earlier --now): not old.
      state("later", addDays(AS_OF, 5)),
      state("open"),
      // Resolved long ago, and found again on this run: reopened, not deleted.
      state("back", past),
    ];
    const progress = await trackFindings(ledger, report([finding("open"), finding("back")]));

    expect(progress.forgotten).toBe(1);
    const kept = ledger.states.map((s) => s.findingId).sort();
    expect(kept).toEqual(["back", "edge", "later", "open", "recent"].map(idOf).sort());
    expect(progress.states.map((s) => s.findingId).sort()).toEqual(kept);
    const back = ledger.states.find((s) => s.findingId === idOf("back"));
    expect(back?.resolvedOn).toBeUndefined();
    // Back after a resolution is new, as it was when the state was kept.
    expect(back?.firstSeen).toBe(AS_OF);
    expect(progress.newFindings).toBe(1);
  });

  it("make no difference to a finding that comes back after them: new either way", async () => {
    const withState = new MemoryLedger();
    withState.states = [state("p", addDays(AS_OF, -(KEPT_DAYS + 30)))];
    const without = new MemoryLedger();
    const a = await trackFindings(withState, report([finding("p")]));
    const b = await trackFindings(without, report([finding("p")]));
    expect(a.newFindings).toBe(b.newFindings);
    expect(withState.states).toEqual(without.states);
  });

  it(`go at most ${FORGOTTEN_PER_RUN} a run, the oldest first, the rest on the next runs`, async () => {
    const ledger = new MemoryLedger();
    const oldest = addDays(AS_OF, -(KEPT_DAYS + 50));
    const older = addDays(AS_OF, -(KEPT_DAYS + 10));
    // The oldest listed last: the ledger's order is its keys', not the days'.
    ledger.states = [...Array.from({ length: FORGOTTEN_PER_RUN }, (_, i) => state(`a${i}`, older)), ...Array.from({ length: 10 }, (_, i) => state(`z${i}`, oldest))];

    expect((await trackFindings(ledger, report([]))).forgotten).toBe(FORGOTTEN_PER_RUN);
    expect(ledger.states).toHaveLength(10);
    expect(ledger.states.every((s) => s.resolvedOn === older)).toBe(true);
    expect((await trackFindings(ledger, report([]))).forgotten).toBe(10);
    expect(ledger.states).toEqual([]);
  });

  it("that cannot be deleted do not fail the run: the states are saved, it says why, and they go on a later run", async () => {
    const ledger = new MemoryLedger();
    ledger.refuseDeletes = new AuditError("LEDGER.UNAVAILABLE", "The reminder ledger could not write (503)");
    ledger.states = [state("old", addDays(AS_OF, -(KEPT_DAYS + 1))), state("open")];

    const refused = await trackFindings(ledger, report([finding("open")]));

    expect(refused).toMatchObject({ forgotten: 0, forgetProblem: expect.stringContaining("503") });
    expect(ledger.states.find((s) => s.findingId === idOf("open"))?.lastSeen).toBe(AS_OF);
    ledger.refuseDeletes = undefined;
    expect((await trackFindings(ledger, report([finding("open")]))).forgotten).toBe(1);
  });
});

