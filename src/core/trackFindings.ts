// Progress across runs: first seen, last seen and resolved, kept in the ledger. A finding counts as resolved only when
// its own account was read successfully this run: a scope we could not read, or no longer see, resolves nothing.
import type { AuditReport, Finding } from "./model.js";
import { daysBetween } from "./dates.js";
import { ruleOfFindingId } from "./findings.js";
import { indexWanted } from "./ids.js";
import type { FindingState, ReminderLedger } from "./ports.js";
import { copyWith, eachOf, pagesOf } from "./deflatedJson.js";
import { ensureError } from "./errors.js";
import { KEPT_DAYS, oldestToForget } from "./retention.js";

export interface FindingProgress {
  /** Findings that were open before this run and are gone now, from an account that was read. */
  resolved: FindingState[];
  /** Open findings seen for the first time on this run (or again after a resolution). */
  newFindings: number;
  /** States this run wrote: new, changed, resolved, or not seen since this run (an open one seen as it was is not). */
  written: number;
  /** Every finding the ledger knows, as it stands after this run (resolved ones for KEPT_DAYS). */
  states: FindingState[];
  /** Resolved findings whose states this run deleted, KEPT_DAYS after their resolution. */
  forgotten: number;
  /** Why they could not be deleted (they stay, for the next run): the run goes on. */
  forgetProblem?: string;
  /** The report with the scopes the ledger knew and this run no longer saw added to its coverage as not read. */
  report: AuditReport;
}

/** `known`: the ledger's finding states when the caller has already read them this run (saves a second read). */
export async function trackFindings(ledger: ReminderLedger, audited: AuditReport, known?: readonly FindingState[]): Promise<FindingProgress> {
  const previous = new Map((known ?? (await ledger.findingStates())).map((s) => [s.findingId, s]));
  const report = withScopesNoLongerVisible(audited, [...previous.values()]);
  const asOf = report.asOf;
  // The findings are read once, a page at a time where the run holds them deflated (./deflatedJson.ts): tracking
  // needs of each only its id, owners and where it is.
  const current = new Set<string>();

  // What is written: states that change. An open finding seen again as it was is not (at 100,000 accounts, 45,000
  // rows rewritten every day for their last-seen day alone); the day this tracking records says it was seen.
  const updates: FindingState[] = [];
  // This run's states of those not written, their `lastSeen` today.
  const seenAgain: FindingState[] = [];
  let newFindings = 0;
  for (const f of eachOf(pagesOf(report, "findings"))) {
    current.add(f.id);
    const before = previous.get(f.id);
    const open = before !== undefined && !before.resolvedOn;
    if (!open) newFindings++;
    // Carried by the audit as last seen (it could not check it): its state stands, `lastSeen` the last run that saw it.
    if (f.notRechecked && open) {
      if (before.notSeenSince === undefined) updates.push(notSeen(before, asOf));
      continue;
    }
    const next = toState(f, open ? before.firstSeen : asOf, asOf);
    // Not written only when the day the ledger gives it cannot be later than today: a state a run dated ahead (--now,
    // a wrong clock) left later is written, as every seen state was before.
    if (open && before.notSeenSince === undefined && before.lastSeen <= asOf && sameButLastSeen(before, next)) seenAgain.push(next);
    else updates.push(next);
  }

  const gone = [...previous.values()].filter((state) => !state.resolvedOn && !current.has(state.findingId));
  const resolvable = resolvableAccounts(report, gone);
  const resolved: FindingState[] = [];
  for (const state of gone) {
    if (!resolvable(state)) {
      // Open, and not seen: its last-seen day is kept as it is from here, whatever later trackings record.
      if (state.notSeenSince === undefined) updates.push(notSeen(state, asOf));
      continue;
    }
    const { notSeenSince: _notSeenSince, ...lastKnown } = state;
    const done = { ...lastKnown, resolvedOn: asOf };
    resolved.push(done);
    updates.push(done);
  }
  // Deleted once this run's states are saved (a stop in between: the next run deletes them), never one found again.
  const forgotten = oldestToForget(
    [...previous.values()].filter((s): s is FindingState & { resolvedOn: string } => s.resolvedOn !== undefined && daysBetween(s.resolvedOn, asOf) > KEPT_DAYS && !current.has(s.findingId)),
    (s) => s.resolvedOn,
  ).map((s) => s.findingId);
  await ledger.saveFindingStates(updates, asOf);
  // Housekeeping: a delete that fails loses nothing (the next run deletes them), so it does not fail the run.
  let forgetProblem: string | undefined;
  try {
    await ledger.forgetFindingStates(forgotten);
  } catch (error) {
    forgetProblem = ensureError(error).message;
  }
  const states = new Map(previous);
  for (const id of forgotten) states.delete(id);
  // What the ledger holds: of a finding the report has twice, the state written last.
  for (const u of [...seenAgain, ...updates]) states.set(u.findingId, u);
  return { resolved, newFindings, written: updates.length, states: [...states.values()], forgotten: forgetProblem ? 0 : forgotten.length, ...(forgetProblem ? { forgetProblem } : {}), report };
}

/**
 * Whether a finding that is gone may count as resolved: only when its account was read successfully this run (an
 * account is "audited" only when its certificates and its pools were both read, or its pools were not needed), in a subscription that was read,
 * and no tenant-wide query problem leaves the inventory uncertain; and only when its rule could judge every pool of
 * the account (`coverage.unjudged`: a pool the rule could not judge is neither affected nor clean, so its finding
 * stays open until a run can judge it). `gone`: the open findings this run did not find.
 */
function resolvableAccounts(report: AuditReport, gone: readonly FindingState[]): (state: FindingState) => boolean {
  const { coverage } = report;
  // Problems not tied to a subscription (a truncated tenant query) make the whole inventory uncertain.
  if (coverage.problems.length > 0 || gone.length === 0) return () => false;
  const failedSubscriptions = new Set(coverage.subscriptions.filter((s) => s.status !== "audited").map((s) => s.id.toLowerCase()));
  // A rule this run did not run (switched off, or left out by a `rules` filter) resolves none of its findings.
  const ran = report.rules ? new Set(report.rules.map((r) => r.id.toLowerCase())) : undefined;
  // Keyed only for the accounts of the findings that are gone: at 100,000 accounts the coverage has a row for every
  // account (a set of them all, by lower-cased id, is about 20 MB) and the findings that are gone are few.
  const goneAccounts = new Set(gone.map((s) => s.accountId.toLowerCase()));
  const audited = idsAmong(coverage.accounts.filter((a) => a.status === "audited"), goneAccounts);
  // Rule and account pairs that could not judge some pool, among the accounts of the findings that are gone.
  const unjudged = new Set<string>();
  for (const u of coverage.unjudged ?? []) {
    const account = u.accountId.toLowerCase();
    if (goneAccounts.has(account)) unjudged.add(`${u.rule.toLowerCase()} ${account}`);
  }
  return (state) => {
    const rule = ruleOfFindingId(state.findingId).toLowerCase();
    const account = state.accountId.toLowerCase();
    return (
      audited.has(account) &&
      !failedSubscriptions.has(state.subscriptionId.toLowerCase()) &&
      (ran === undefined || ran.has(rule)) &&
      !unjudged.has(`${rule} ${account}`)
    );
  };
}

/** The lower-cased ids of `rows` that are in `wanted`: keyed only for those, not for every account's row. */
function idsAmong(rows: readonly { id: string }[], wanted: ReadonlySet<string>): Set<string> {
  return new Set(indexWanted(rows, (row) => row.id, wanted).keys());
}

export const NO_LONGER_VISIBLE = "No longer visible";

/**
 * Subscriptions and accounts that hold findings the ledger has open, and that this run did not see at all (Reader
 * lost, the scope narrowed, the account moved or deleted), are added to the coverage as not read: the coverage is
 * incomplete and their findings stay open. Silence from a scope is never taken for a clean scope.
 */
export function withScopesNoLongerVisible(report: AuditReport, states: readonly FindingState[]): AuditReport {
  const coverage = report.coverage;
  const open = states.filter((s) => s.resolvedOn === undefined);
  if (open.length === 0) return report;
  const seenSubscriptions = new Set(coverage.subscriptions.map((s) => s.id.toLowerCase()));
  // Which of the open findings' accounts the coverage has.
  const seenAccounts = idsAmong(coverage.accounts, new Set(open.map((s) => s.accountId.toLowerCase())));
  const subscriptions = [...coverage.subscriptions];
  const accounts = [...coverage.accounts];
  let addedSubscriptions = 0;
  let addedAccounts = 0;
  for (const state of open) {
    const sub = state.subscriptionId.toLowerCase();
    if (!seenSubscriptions.has(sub)) {
      seenSubscriptions.add(sub);
      addedSubscriptions++;
      subscriptions.push({
        id: state.subscriptionId,
        status: "failed",
        reason: `${NO_LONGER_VISIBLE}: audited before and holds open findings, but not in this run's results (Reader removed, the subscription left the audit scope, or it was deleted); its findings stay open`,
      });
    }
    const account = state.accountId.toLowerCase();
    if (!seenAccounts.has(account)) {
      seenAccounts.add(account);
      addedAccounts++;
      accounts.push({
        id: state.accountId,
        name: state.accountName,
        subscriptionId: state.subscriptionId,
        status: "failed",
        certificates: "unknown",
        pools: "failed",
        reason: `${NO_LONGER_VISIBLE}: audited before and holds open findings, but not in this run's results (access removed, out of scope, moved or deleted); its findings stay open`,
      });
    }
  }
  if (addedSubscriptions + addedAccounts === 0) return report;
  subscriptions.sort((a, b) => a.id.localeCompare(b.id));
  accounts.sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()));
  // A copy that holds the report's findings as it does (a spread would read them whole where the run holds them deflated).
  return copyWith(report, {
    coverage: { ...coverage, complete: false, subscriptions, accounts },
    summary: {
      ...report.summary,
      subscriptionsFailed: report.summary.subscriptionsFailed + addedSubscriptions,
      accountsFailed: report.summary.accountsFailed + addedAccounts,
    },
  });
}

/**
 * A stored state as the ledger gives it: one open and seen by the last tracking (no `notSeenSince`) was seen on that
 * tracking's day (`trackedOn`, the ledger's record of it), whether or not its row was written then.
 */
export function asTracked(stored: FindingState, trackedOn: string | undefined): FindingState {
  if (trackedOn === undefined || stored.resolvedOn !== undefined || stored.notSeenSince !== undefined || trackedOn <= stored.lastSeen) return stored;
  return { ...stored, lastSeen: trackedOn };
}

function notSeen(state: FindingState, asOf: string): FindingState {
  return { ...state, notSeenSince: asOf };
}

/** Whether the two states say the same but for their last-seen day (every field `toState` makes, so a new one counts too). */
function sameButLastSeen(before: FindingState, next: FindingState): boolean {
  return (Object.keys(next) as (keyof FindingState)[]).every((key) => {
    if (key === "lastSeen") return true;
    const a = before[key];
    const b = next[key];
    return Array.isArray(a) && Array.isArray(b) ? a.length === b.length && a.every((value, i) => value === b[i]) : a === b;
  });
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
