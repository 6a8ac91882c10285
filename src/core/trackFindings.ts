// Progress across runs: first seen, last seen and resolved, kept in the ledger. A finding counts as resolved only when
// its own account was read successfully this run: a scope we could not read, or no longer see, resolves nothing.
import type { AuditReport, Finding } from "./model.js";
import { compareFindings, findingFromState, ruleOfFindingId } from "./findings.js";
import type { FindingState, ReminderLedger } from "./ports.js";

export interface FindingProgress {
  /** Findings that were open before this run and are gone now, from an account that was read. */
  resolved: FindingState[];
  /** Open findings seen for the first time on this run (or again after a resolution). */
  newFindings: number;
  /** Every finding the ledger knows, as it stands after this run. */
  states: FindingState[];
  /** The report with the scopes the ledger knew and this run no longer saw added to its coverage as not read. */
  report: AuditReport;
}

/**
 * `known`: the ledger's finding states when the caller has already read them this run (saves a second read).
 *
 * An open finding this run did not find is resolved only when the run could check it (see `whyNotChecked`); otherwise
 * it is carried into the report as last seen (`notRechecked`, with why), with the owners recorded then, so the report
 * counts it and its owner is still reminded on schedule, told it was not rechecked. A carried finding keeps its state
 * (its `lastSeen` is the last run that saw it). Some stay open without being carried (see `HOLD`).
 */
export async function trackFindings(ledger: ReminderLedger, audited: AuditReport, known?: readonly FindingState[]): Promise<FindingProgress> {
  const previous = new Map((known ?? (await ledger.findingStates())).map((s) => [s.findingId, s]));
  const scoped = withScopesNoLongerVisible(audited, [...previous.values()]);
  const asOf = scoped.asOf;
  const current = new Set(scoped.findings.map((f) => f.id));
  const gone = [...previous.values()].filter((state) => !state.resolvedOn && !current.has(state.findingId));
  const whyNot = whyNotChecked(scoped, audited.coverage, gone);

  const updates: FindingState[] = [];
  let newFindings = 0;
  for (const f of scoped.findings) {
    const before = previous.get(f.id);
    const open = before !== undefined && !before.resolvedOn;
    if (!open) newFindings++;
    // Carried by the audit (not checked, as last seen): its state stands as it is.
    if (f.notRechecked && open) continue;
    updates.push(toState(f, open ? before.firstSeen : asOf, asOf));
  }

  const resolved: FindingState[] = [];
  const carried: Finding[] = [];
  for (const state of gone) {
    const why = whyNot(state);
    if (why === HOLD) continue;
    if (why !== undefined) {
      const finding = carriedFinding(scoped, state, why);
      if (finding) carried.push(finding);
      continue;
    }
    const done = { ...state, resolvedOn: asOf };
    resolved.push(done);
    updates.push(done);
  }
  await ledger.saveFindingStates(updates);
  const states = new Map(previous);
  for (const u of updates) states.set(u.findingId, u);
  return { resolved, newFindings, states: [...states.values()], report: withCarried(scoped, carried) };
}

/**
 * Stays open, not carried: a finding of a rule this run did not run (switched off, or left out by a `rules` filter),
 * of a scope not in this run's results at all (out of scope, access removed, or deleted: "no longer visible"), or of
 * an account that was read when only a tenant-wide problem stops its resolution. None of these is reminded.
 */
const HOLD = Symbol("held open");

/**
 * Why an open finding this run did not find could not be checked (then it is carried, with this reason); `HOLD` when
 * it stays open without being carried; undefined when it could be checked (then it is resolved): only when its
 * account was read successfully this run (an account is "audited" only when its certificates and its pools were both
 * read, or its pools were not needed), in a subscription that was read, no tenant-wide query problem leaves the
 * inventory uncertain, and its rule could judge every pool of the account (`coverage.unjudged`: a pool the rule could
 * not judge is neither affected nor clean). `own`: the run's own coverage (without the scopes added as no longer
 * visible); `gone`: the open findings this run did not find.
 */
function whyNotChecked(report: AuditReport, own: AuditReport["coverage"], gone: readonly FindingState[]): (state: FindingState) => string | typeof HOLD | undefined {
  const ran = report.rules ? new Set(report.rules.map((r) => r.id.toLowerCase())) : undefined;
  const goneAccounts = new Set(gone.map((s) => s.accountId.toLowerCase()));
  const goneSubscriptions = new Set(gone.map((s) => s.subscriptionId.toLowerCase()));
  // Only the scopes of the findings that are gone (at 100,000 accounts the coverage has a row for every account and
  // an unjudged entry for most; the findings that are gone are few).
  const subscriptions = new Map(own.subscriptions.filter((s) => goneSubscriptions.has(s.id.toLowerCase())).map((s) => [s.id.toLowerCase(), s]));
  const accounts = new Map(own.accounts.filter((a) => goneAccounts.has(a.id.toLowerCase())).map((a) => [a.id.toLowerCase(), a]));
  const unjudged = new Map<string, string>();
  for (const u of own.unjudged ?? []) {
    const account = u.accountId.toLowerCase();
    if (goneAccounts.has(account)) unjudged.set(`${u.rule.toLowerCase()} ${account}`, u.reason);
  }
  // Problems not tied to a subscription (a truncated tenant query) make the whole inventory uncertain.
  const tenantProblem = own.problems.length > 0;
  return (state) => {
    const rule = ruleOfFindingId(state.findingId).toLowerCase();
    const accountId = state.accountId.toLowerCase();
    if (ran !== undefined && !ran.has(rule)) return HOLD;
    const subscription = subscriptions.get(state.subscriptionId.toLowerCase());
    if (subscription !== undefined && subscription.status !== "audited") return `its subscription was not read (${subscription.reason ?? "failed"})`;
    const account = accounts.get(accountId);
    if (account === undefined) return HOLD;
    if (account.status !== "audited") return `its account was not read (${account.reason ?? account.poolsReason ?? "failed"})`;
    const notJudged = unjudged.get(`${rule} ${accountId}`);
    if (notJudged !== undefined) return `its rule could not judge the account's pools (${notJudged})`;
    return tenantProblem ? HOLD : undefined;
  };
}

/** The finding as last seen, open, saying why it was not checked; its deadline as recorded then, or its rule's. */
function carriedFinding(report: AuditReport, state: FindingState, reason: string): Finding | undefined {
  const rule = report.rules?.find((r) => r.id.toLowerCase() === ruleOfFindingId(state.findingId).toLowerCase());
  const deadline = state.deadline ?? rule?.deadline ?? report.deadline;
  const fromRule = state.deadline === undefined && rule !== undefined;
  const finding = findingFromState(state, {
    asOf: report.asOf,
    deadline,
    ...(fromRule ? { deadlineSource: rule.deadlineSource, deadlineConfirmed: rule.deadlineConfirmed } : {}),
    detail: `Not rechecked this run: ${reason}. Last seen ${state.lastSeen}; it stays open until a run can check it.`,
    owners: state.owners.map((address) => ({ address, source: `recorded when last seen (${state.lastSeen})` })),
  });
  return finding && { ...finding, notRechecked: { lastSeen: state.lastSeen, reason } };
}

/** The report with the carried findings among its own (in the report's order) and counted in its summary. */
function withCarried(report: AuditReport, carried: readonly Finding[]): AuditReport {
  if (carried.length === 0) return report;
  const { summary } = report;
  const count = (kind: (f: Finding) => boolean) => carried.filter(kind).length;
  const byRule = summary.byRule ? { ...summary.byRule } : undefined;
  if (byRule) for (const f of carried) byRule[f.rule ?? f.kind] = (byRule[f.rule ?? f.kind] ?? 0) + 1;
  return {
    ...report,
    findings: [...report.findings, ...carried].sort(compareFindings),
    summary: {
      ...summary,
      findings: summary.findings + carried.length,
      critical: summary.critical + count((f) => f.severity === "critical"),
      warning: summary.warning + count((f) => f.severity === "warning"),
      accountCertificates: summary.accountCertificates + count((f) => f.kind === "account-certificate"),
      poolsWithCertificates: summary.poolsWithCertificates + count((f) => f.kind === "pool-certificate-reference"),
      ...(byRule ? { byRule } : {}),
      notRechecked: (summary.notRechecked ?? 0) + carried.length,
    },
  };
}

export const NO_LONGER_VISIBLE = "No longer visible";

/**
 * Subscriptions and accounts that hold findings the ledger has open, and that this run did not see at all (Reader
 * lost, the scope narrowed, the account moved or deleted), are added to the coverage as not read: the coverage is
 * incomplete and their findings stay open. Silence from a scope is never taken for a clean scope.
 */
export function withScopesNoLongerVisible(report: AuditReport, states: readonly FindingState[]): AuditReport {
  const coverage = report.coverage;
  const seenSubscriptions = new Set(coverage.subscriptions.map((s) => s.id.toLowerCase()));
  const seenAccounts = new Set(coverage.accounts.map((a) => a.id.toLowerCase()));
  const subscriptions = [...coverage.subscriptions];
  const accounts = [...coverage.accounts];
  let addedSubscriptions = 0;
  let addedAccounts = 0;
  for (const state of states) {
    if (state.resolvedOn !== undefined) continue;
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
  return {
    ...report,
    coverage: { ...coverage, complete: false, subscriptions, accounts },
    summary: {
      ...report.summary,
      subscriptionsFailed: report.summary.subscriptionsFailed + addedSubscriptions,
      accountsFailed: report.summary.accountsFailed + addedAccounts,
    },
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
    ...(f.deadline === undefined ? {} : { deadline: f.deadline }),
  };
}
