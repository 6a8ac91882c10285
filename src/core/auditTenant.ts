// The audit use case: inventory the tenant, read each account's certificates, derive findings, account for coverage.
import pLimit from "p-limit";
import { daysBetween } from "./dates.js";
import { ensureError } from "./errors.js";
import { assignOwners, type SnoozePolicy } from "./assignOwners.js";
import { accountsOnlyInPools, buildFindings } from "./findings.js";
import {
  REPORT_SCHEMA_VERSION,
  RETIREMENT_DATE,
  type AccountCertificate,
  type AccountCoverage,
  type BatchAccountInfo,
  type AuditReport,
  type Coverage,
  type Finding,
  type ReportSummary,
} from "./model.js";
import type { OwnerPolicy } from "./owners.js";
import type { AuditProgress, AuditScope, CertificateLister, InventoryReader, ReadOptions, TenantInventory } from "./ports.js";

/**
 * An inventory reader may hand over Batch accounts as its pages arrive, so that certificate reads overlap the rest
 * of the inventory (at scale the inventory is paced by Resource Graph's quota). Readers that do not are fine too.
 */
export interface StreamingInventoryReader extends InventoryReader {
  readInventory(scope: AuditScope, onAccounts?: (accounts: BatchAccountInfo[]) => void, options?: ReadOptions): Promise<TenantInventory>;
}

export interface AuditDependencies {
  inventory: StreamingInventoryReader;
  certificates: CertificateLister;
  /**
   * Certificate list calls in flight at once. A lister that bounds and paces its own calls per subscription can be
   * given Infinity, so that calls waiting on a throttled subscription hold no slot here.
   */
  concurrency: number;
  onProgress?: (progress: AuditProgress) => void;
}

export interface AuditRequest {
  scope: AuditScope;
  /** The day the audit is as of (YYYY-MM-DD). */
  asOf: string;
  /** When the report was made (ISO date-time); passed in because core reads no clock. */
  generatedAt: string;
  /** Defaults to the retirement date. */
  deadline?: string;
  tenantId?: string;
  /** When given, findings carry their owners, owner problems and snoozes. */
  owners?: { owners: OwnerPolicy; snooze: SnoozePolicy };
  /** Aborted when the run's time budget is spent: reads not finished by then fail their scope with its reason. */
  signal?: AbortSignal;
}

export async function auditTenant(deps: AuditDependencies, request: AuditRequest): Promise<AuditReport> {
  deps.onProgress?.({ phase: "inventory", done: 0, total: 1 });
  const readOptions: ReadOptions = request.signal ? { signal: request.signal } : {};
  const reads = certificateReads(deps, readOptions);
  const inventory = await deps.inventory.readInventory(request.scope, (arrived) => reads.start(arrived), readOptions);
  reads.start(inventory.accounts);
  const { certificates, accounts } = await reads.finished();
  const built = buildFindings({
    accounts: inventory.accounts,
    certificates,
    pools: inventory.pools,
    subscriptionNames: new Map(inventory.subscriptions.map((s) => [s.subscriptionId.toLowerCase(), s.displayName])),
  });
  const findings = request.owners ? assignOwners(built, inventory, { ...request.owners, asOf: request.asOf }) : built;
  const coverage = describeCoverage(request.scope, inventory, accounts);
  deps.onProgress?.({ phase: "done", done: 1, total: 1 });

  const deadline = request.deadline ?? RETIREMENT_DATE;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: request.generatedAt,
    asOf: request.asOf,
    retirementDate: RETIREMENT_DATE,
    deadline,
    daysSinceDeadline: daysBetween(deadline, request.asOf),
    daysSinceRetirement: daysBetween(RETIREMENT_DATE, request.asOf),
    ...(request.tenantId === undefined ? {} : { tenantId: request.tenantId }),
    coverage,
    summary: summarize(findings, coverage),
    findings,
  };
}

/** Certificate reads, started as accounts become known (each account once), gathered when all are done. */
function certificateReads(deps: AuditDependencies, readOptions: ReadOptions) {
  const limit = pLimit(deps.concurrency === Infinity ? Infinity : Math.max(1, deps.concurrency));
  const certificates = new Map<string, AccountCertificate[] | "unknown">();
  const accounts: AccountCoverage[] = [];
  const pending: Promise<void>[] = [];
  const started = new Set<string>();
  let done = 0;
  deps.onProgress?.({ phase: "certificates", done, total: 0 });

  const read = async (account: BatchAccountInfo) => {
    const base = { id: account.id, name: account.name, subscriptionId: account.subscriptionId };
    try {
      const certs = await deps.certificates.listCertificates(account, readOptions);
      certificates.set(account.id.toLowerCase(), certs);
      accounts.push({ ...base, status: "audited", certificates: certs.length });
    } catch (error) {
      // A failure is never "no certificates": the account is reported as failed and its certificates unknown.
      certificates.set(account.id.toLowerCase(), "unknown");
      accounts.push({ ...base, status: "failed", reason: ensureError(error).message, certificates: "unknown" });
    }
    deps.onProgress?.({ phase: "certificates", done: ++done, total: started.size });
  };

  return {
    start(arrived: readonly BatchAccountInfo[]): void {
      for (const account of arrived) {
        const key = account.id.toLowerCase();
        if (started.has(key)) continue;
        started.add(key);
        pending.push(limit(() => read(account)));
      }
    },
    async finished() {
      await Promise.all(pending);
      accounts.sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()));
      return { certificates, accounts };
    },
  };
}

function describeCoverage(scope: AuditScope, inventory: TenantInventory, accounts: AccountCoverage[]): Coverage {
  const failedSubscriptions = new Map<string, string>();
  const problems: string[] = [];
  for (const problem of inventory.problems) {
    if (problem.subscriptionIds === undefined) problems.push(problem.reason);
    for (const id of problem.subscriptionIds ?? []) failedSubscriptions.set(id.toLowerCase(), problem.reason);
  }
  for (const account of accountsOnlyInPools(inventory.accounts, inventory.pools)) {
    problems.push(
      `Batch account ${account.id} has pools in Resource Graph's batchresources table but was not in the account list; its certificates are unknown`,
    );
  }

  const seen = new Set<string>();
  const subscriptions: Coverage["subscriptions"] = inventory.subscriptions.map((s) => {
    seen.add(s.subscriptionId.toLowerCase());
    const reason = failedSubscriptions.get(s.subscriptionId.toLowerCase());
    return reason === undefined
      ? { id: s.subscriptionId, displayName: s.displayName, status: "audited" }
      : { id: s.subscriptionId, displayName: s.displayName, status: "failed", reason };
  });
  // A subscription that was asked for but not seen could not be read: say so instead of calling it clean.
  for (const id of scope.subscriptions) {
    if (seen.has(id.toLowerCase())) continue;
    seen.add(id.toLowerCase());
    subscriptions.push({
      id,
      status: "failed",
      reason: failedSubscriptions.get(id.toLowerCase()) ?? "Not visible to Resource Graph: it does not exist or the identity has no Reader access",
    });
  }
  for (const [id, reason] of failedSubscriptions) {
    if (!seen.has(id)) subscriptions.push({ id, status: "failed", reason });
  }
  subscriptions.sort((a, b) => a.id.localeCompare(b.id));

  const complete =
    problems.length === 0 && subscriptions.every((s) => s.status === "audited") && accounts.every((a) => a.status === "audited");
  return { complete, subscriptions, accounts, problems };
}

function summarize(findings: Finding[], coverage: Coverage): ReportSummary {
  const count = (predicate: (f: Finding) => boolean) => findings.filter(predicate).length;
  return {
    findings: findings.length,
    critical: count((f) => f.severity === "critical"),
    warning: count((f) => f.severity === "warning"),
    accountCertificates: count((f) => f.kind === "account-certificate"),
    poolsWithCertificates: count((f) => f.kind === "pool-certificate-reference"),
    accountsAudited: coverage.accounts.filter((a) => a.status === "audited").length,
    accountsFailed: coverage.accounts.filter((a) => a.status === "failed").length,
    subscriptionsAudited: coverage.subscriptions.filter((s) => s.status === "audited").length,
    subscriptionsFailed: coverage.subscriptions.filter((s) => s.status === "failed").length,
  };
}
