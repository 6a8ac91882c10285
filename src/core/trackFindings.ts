// Progress across runs: first seen, last seen and resolved, kept in the ledger. A finding counts as resolved only
// when the place it lived in was read completely this run: a scope we could not read resolves nothing.
import type { AuditReport, Finding } from "./model.js";
import type { FindingState, ReminderLedger } from "./ports.js";

export interface FindingProgress {
  /** Findings that were open before this run and are gone now, from a scope that was read. */
  resolved: FindingState[];
  /** Open findings seen for the first time on this run. */
  newFindings: number;
  /** Every finding the ledger knows, as it stands after this run. */
  states: FindingState[];
}

export async function trackFindings(ledger: ReminderLedger, report: AuditReport): Promise<FindingProgress> {
  const previous = new Map((await ledger.findingStates()).map((s) => [s.findingId, s]));
  const asOf = report.asOf;
  const current = new Set(report.findings.map((f) => f.id));
  const unreadable = unreadableScopes(report);

  const updates: FindingState[] = [];
  let newFindings = 0;
  for (const f of report.findings) {
    const before = previous.get(f.id);
    if (!before || before.resolvedOn) newFindings++;
    updates.push(toState(f, before && !before.resolvedOn ? before.firstSeen : asOf, asOf));
  }

  const resolved: FindingState[] = [];
  for (const state of previous.values()) {
    if (state.resolvedOn || current.has(state.findingId)) continue;
    if (unreadable.accounts.has(state.accountId.toLowerCase()) || unreadable.subscriptions.has(state.subscriptionId.toLowerCase()) || unreadable.all) continue;
    const done = { ...state, resolvedOn: asOf };
    resolved.push(done);
    updates.push(done);
  }
  await ledger.saveFindingStates(updates);
  const states = new Map(previous);
  for (const u of updates) states.set(u.findingId, u);
  return { resolved, newFindings, states: [...states.values()] };
}

function unreadableScopes(report: AuditReport) {
  return {
    // Problems not tied to a subscription (a truncated tenant query) make the whole inventory uncertain.
    all: report.coverage.problems.length > 0,
    subscriptions: new Set(report.coverage.subscriptions.filter((s) => s.status === "failed").map((s) => s.id.toLowerCase())),
    accounts: new Set(report.coverage.accounts.filter((a) => a.status === "failed").map((a) => a.id.toLowerCase())),
  };
}

function toState(f: Finding, firstSeen: string, lastSeen: string): FindingState {
  return {
    findingId: f.id,
    kind: f.kind,
    resourceId: f.resourceId,
    accountId: f.accountId,
    accountName: f.accountName,
    subscriptionId: f.subscriptionId,
    severity: f.severity,
    owners: (f.owners ?? []).map((o) => o.address),
    firstSeen,
    lastSeen,
  };
}
