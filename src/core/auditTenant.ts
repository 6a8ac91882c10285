// The audit use case: inventory the tenant, read each account's certificates, derive findings, account for coverage.
import { daysBetween } from "./dates.js";
import { AuditError, ensureError, isFatal } from "./errors.js";
import { assignOwners, findingsNeedingRoles, type SnoozePolicy } from "./assignOwners.js";
import { assertScopeMatched } from "./auditScope.js";
import { StartQueue } from "./startQueue.js";
import { accountsOnlyInPools, buildFindings, compareFindings, groupBy } from "./findings.js";
import { compactPoolConfiguration, isMigratedPool, type MigrationSettings } from "./migrationKit.js";
import type { RetirementRule, VmSizeEndOfLife } from "./rules/rule.js";
import { countByRule, reportRules, resolveRules } from "./rules/ruleSet.js";
import { mergePoolEvidence, poolsFromReportedRows } from "./poolEvidence.js";
import { carriedCertificateFindings, locator, readVmSizeEndOfLife, regionsWithPools, unjudgedCollector } from "./ruleReads.js";
import {
  REPORT_SCHEMA_VERSION,
  RETIREMENT_DATE,
  type AccountCertificate,
  type AccountCoverage,
  type BatchAccountInfo,
  type AuditReport,
  type Coverage,
  type Finding,
  type PoolCoverageSource,
  type PoolInfo,
  type ReportSummary,
} from "./model.js";
import type { AccessDirectory, OwnerPolicy } from "./owners.js";
import type {
  AccessReader,
  AccountPoolReader,
  AuditProgress,
  AuditScope,
  CertificateLister,
  FindingState,
  InventoryReader,
  PoolLister,
  ReadOptions,
  ReportedPool,
  TenantInventory,
  VmSizeLifecycleReader,
} from "./ports.js";

/**
 * An inventory reader may hand over Batch accounts as its pages arrive, so that certificate reads overlap the rest
 * of the inventory (at scale the inventory is paced by Resource Graph's quota). Readers that do not are fine too.
 */
export interface StreamingInventoryReader extends InventoryReader {
  readInventory(scope: AuditScope, onAccounts?: (accounts: BatchAccountInfo[]) => void, options?: ReadOptions): Promise<TenantInventory>;
}

export interface AuditDependencies {
  inventory: StreamingInventoryReader & Partial<AccountPoolReader>;
  certificates: CertificateLister;
  /** Pools with their certificate references, from the Batch API. */
  pools: PoolLister;
  /**
   * Batch calls (per account: its certificates, then its pools when needed) in flight at once. A lister that bounds
   * and paces its own calls per subscription can be given Infinity, so that calls waiting on a throttled
   * subscription hold no slot here.
   */
  concurrency: number;
  /** Role holders, for owners from role assignments (OWNER_SOURCES with `roles`); absent: tags and fallback only. */
  access?: AccessReader;
  /** Azure's `batchSupportEndOfLife` per region, read once per region that has pools; absent: the catalogue's dates. */
  vmSizes?: VmSizeLifecycleReader;
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
  /**
   * Lower-cased ids of accounts with pool findings still open in the ledger: their pools are read even when their
   * certificate list is empty, so such a finding is resolved only by a read of its pools, never by the rule alone.
   */
  accountsWithOpenPoolFindings?: ReadonlySet<string>;
  /** What the migration kits put in replacement pools (identity, Key Vault); placeholders where unset. */
  migration?: MigrationSettings;
  /** The rules to run (enabled, deadlines as configured, narrowed by a `rules` filter); every shipped rule when absent. */
  rules?: readonly RetirementRule[];
  /** Azure's `batchSupportEndOfLife` per region (lower-cased location -> lower-cased VM size -> YYYY-MM-DD), when read. */
  vmSizeEndOfLife?: VmSizeEndOfLife;
  /**
   * The ledger's open certificate findings (account-certificate, pool-certificate-reference): when Azure refuses the
   * certificate API's api-version as retired, those of the accounts it left unread are carried into the report, open,
   * saying that Azure no longer shows certificates and they must be verified by hand.
   */
  openCertificateFindings?: readonly FindingState[];
  /** Aborted when the run's time budget is spent: reads not finished by then fail their scope with its reason. */
  signal?: AbortSignal;
}

export async function auditTenant(deps: AuditDependencies, request: AuditRequest): Promise<AuditReport> {
  deps.onProgress?.({ phase: "inventory", done: 0, total: 1 });
  const readOptions: ReadOptions = request.signal ? { signal: request.signal } : {};
  const reads = accountReads(deps, readOptions, request.accountsWithOpenPoolFindings ?? new Set());
  const inventory = await deps.inventory.readInventory(request.scope, (arrived) => reads.start(arrived), readOptions);
  reads.start(inventory.accounts);
  const graphPools = groupBy(inventory.pools, (p) => p.accountId.toLowerCase());
  const { certificates, pools, accounts, migratedPools, certificateApiRetired, unreadAsRetired, poolNames } = await reads.finished(inventory.accounts, graphPools);
  assertScopeMatched(request.scope, inventory);
  const rules = request.rules ?? resolveRules();
  // Azure's dates for the regions in use, unless the request brings them.
  const vmSizes = request.vmSizeEndOfLife ? undefined : await readVmSizeEndOfLife(deps.vmSizes, rules, regionsWithPools(pools), readOptions);
  const vmSizeEndOfLife = request.vmSizeEndOfLife ?? vmSizes?.endOfLife;
  const coverageByAccount = new Map(accounts.map((a) => [a.id.toLowerCase(), a]));
  const unjudged = unjudgedCollector((id) => coverageByAccount.get(id.toLowerCase()));
  const built = buildFindings({
    accounts: inventory.accounts,
    certificates,
    pools,
    rules,
    asOf: request.asOf,
    ...(vmSizeEndOfLife ? { vmSizeEndOfLife } : {}),
    onUnknown: (rule, pool, missing) => unjudged.note(rule, pool, missing),
    poolsUnknown: new Set(accounts.filter((a) => a.pools === "failed").map((a) => a.id.toLowerCase())),
    subscriptionNames: new Map(inventory.subscriptions.map((s) => [s.subscriptionId.toLowerCase(), s.displayName])),
  });
  // Certificate findings the ledger holds open in accounts Azure no longer shows certificates for stay open, marked.
  if (certificateApiRetired !== undefined) {
    built.push(...carriedCertificateFindings(request.openCertificateFindings ?? [], unreadAsRetired, inventory.accounts, rules, request.asOf, built));
    built.sort(compareFindings);
  }
  // Each rule's kit builder over the findings (the certificate rule's builds the Key Vault replacement pool).
  const withKits = [...new Set(rules.flatMap((r) => (r.kit ? [r.kit] : [])))].reduce<Finding[]>((all, kit) => kit(all, pools, certificates, request.migration ?? {}, { poolNames }), built);
  let findings = withKits;
  if (request.owners) {
    const access = await readAccess(deps, request.owners.owners, findingsNeedingRoles(withKits, inventory, request.owners.owners), readOptions);
    findings = assignOwners(withKits, inventory, { ...request.owners, asOf: request.asOf, ...(access ? { access } : {}) });
  }
  const unjudgedRules = unjudged.entries();
  const coverage: Coverage = {
    ...describeCoverage(request.scope, inventory, accounts),
    ...(unjudgedRules.length > 0 ? { unjudged: unjudgedRules } : {}),
    ...(vmSizes ? { vmSizeEndOfLife: vmSizes.reads } : {}),
    ...(certificateApiRetired === undefined
      ? {}
      : {
          // Said once, and never "complete": no account's certificates could be read.
          complete: false,
          certificateApiRetired: `Azure refused the api-version that shows account certificates and pool certificate references as retired (${certificateApiRetired}). No account's certificates could be read this run; certificate findings already known stay open: verify them by hand.`,
        }),
  };
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
    summary: { ...summarize(findings, coverage, rules), poolsMigrated: migratedPools },
    rules: reportRules(rules),
    findings,
  };
}

/**
 * Role holders over the accounts of these findings. A failure to read them is never a failed audit: owner resolution
 * goes on without roles, and each affected finding's owner problems say why.
 */
async function readAccess(deps: AuditDependencies, policy: OwnerPolicy, needing: readonly Finding[], readOptions: ReadOptions): Promise<AccessDirectory | undefined> {
  if (needing.length === 0) return undefined;
  const unavailable = (reason: string): AccessDirectory => ({ assignments: [], principals: new Map(), managementGroups: new Map(), unavailable: reason });
  // The app always has a reader; a harness without one resolves from tags and fallback only.
  if (!deps.access) return undefined;
  const accounts = new Map(needing.map((f) => [f.accountId.toLowerCase(), { accountId: f.accountId, subscriptionId: f.subscriptionId, resourceGroup: f.resourceGroup }]));
  try {
    return await deps.access.readAccess([...accounts.values()], policy.roleNames ?? [], readOptions);
  } catch (error) {
    if (isFatal(error)) throw error;
    return unavailable(ensureError(error).message);
  }
}

/**
 * Reads started at once when the lister paces itself: far more than it keeps going (twice its requests in flight),
 * so it always has calls of many subscriptions to choose from; a subscription may hold a quarter of them (a hot
 * subscription's reads wait in the lister for its bucket, the others' go on beside them).
 */
const PACED_READS_STARTED = 1024;
const PACED_READS_STARTED_PER_SUBSCRIPTION = 256;

/** What one account's Batch reads gave. */
interface AccountRead {
  certificates: AccountCertificate[] | "unknown";
  certificatesReason?: string;
  /** The Batch API's pools (configurations held compactly); undefined when not read (not needed) or when the read failed. */
  batchPools?: PoolInfo[];
  /** Of those, the names of the pools already migrated (a Key Vault extension and no certificate references). */
  migratedPools?: string[];
  poolsError?: string;
  /** Not read because Azure refused the certificate API's api-version as retired (said once, in the coverage). */
  retired?: boolean;
}

/**
 * Per account: its certificates, then its pools from the Batch API when they can matter, that is when the
 * certificate list is non-empty or could not be read (a 403 or a removed API on `certificates` says nothing about
 * `pools`), or when Resource Graph already shows references. An account whose certificate list was read and is empty
 * needs no pool read: Batch refuses to delete a certificate that a pool still references. Started as accounts become
 * known (each account once), gathered when all are done; then Resource Graph stands in for pools the Batch API could
 * not list, where its rows carry the `certificates` key.
 */
function accountReads(deps: AuditDependencies, readOptions: ReadOptions, openPoolFindings: ReadonlySet<string>) {
  // A lister that paces itself (concurrency Infinity) is still not handed every account at once: at 100,000
  // accounts the reads waiting in it (each a suspended call with its promises, about a kilobyte) were most of the
  // heap while the inventory outran the Batch calls. Accounts wait here instead, in their subscription's turn, with
  // a bound per subscription so that a throttled one never holds the room the others need.
  const queue =
    deps.concurrency === Infinity
      ? new StartQueue(PACED_READS_STARTED, PACED_READS_STARTED_PER_SUBSCRIPTION)
      : new StartQueue(Math.max(1, deps.concurrency), Math.max(1, deps.concurrency));
  // Keyed by the lower-cased id, one copy per account (at 100,000 accounts each copy of the keys is about 17 MB).
  const reads = new Map<string, AccountRead>();
  let fatal: unknown;
  /** Why Azure refused the certificate API's api-version as retired (the first answer that said so). */
  let retired: string | undefined;
  const refusedAsRetired = (error: unknown, entry: AccountRead): boolean => {
    if (!(error instanceof AuditError && error.code === "BATCH.API_RETIRED")) return false;
    retired ??= error.message;
    entry.retired = true;
    return true;
  };
  let done = 0;
  deps.onProgress?.({ phase: "certificates", done, total: 0 });

  const readPools = async (account: BatchAccountInfo, entry: AccountRead) => {
    try {
      const listed = await deps.pools.listPools(account, readOptions);
      // Counted now, and each configuration kept as text: at scale the pools of every account read stay in memory
      // until the findings are made.
      entry.migratedPools = listed.filter((p) => isMigratedPool(p.configuration, p.certificateReferences.length)).map((p) => p.name);
      entry.batchPools = listed.map((p) => (p.configuration ? { ...p, configuration: compactPoolConfiguration(p.configuration) } : p));
    } catch (error) {
      if (isFatal(error)) throw error;
      if (refusedAsRetired(error, entry)) return;
      entry.poolsError = ensureError(error).message;
    }
  };

  const read = async (account: BatchAccountInfo, entry: AccountRead) => {
    if (fatal) return;
    try {
      // Each account is asked (its own answer decides it, whatever the others got); one call, as before.
      try {
        entry.certificates = await deps.certificates.listCertificates(account, readOptions);
      } catch (error) {
        if (isFatal(error)) throw error;
        // A failure is never "no certificates": the account is reported as failed and its certificates unknown.
        if (!refusedAsRetired(error, entry)) entry.certificatesReason = ensureError(error).message;
      }
      // The pools are read at the same api-version: refused the same way, so not asked once it was refused.
      const needPools = entry.certificates === "unknown" || entry.certificates.length > 0 || openPoolFindings.has(account.id.toLowerCase());
      if (!entry.retired && needPools) await readPools(account, entry);
    } catch (error) {
      fatal ??= error;
    }
    deps.onProgress?.({ phase: "certificates", done: ++done, total: reads.size });
  };

  const start = (arrived: readonly BatchAccountInfo[]): void => {
    for (const account of arrived) {
      const key = account.id.toLowerCase();
      if (reads.has(key)) continue;
      const entry: AccountRead = { certificates: "unknown" };
      reads.set(key, entry);
      queue.add(account.subscriptionId.toLowerCase(), () => read(account, entry));
    }
  };

  return {
    start,
    async finished(accounts: readonly BatchAccountInfo[], graphPools: ReadonlyMap<string, PoolInfo[]>) {
      await queue.idle();
      if (fatal) throw fatal;
      // Resource Graph shows references in an account whose certificate list is empty (dangling references):
      // read its pools from the Batch API as well, so the finding says what the pool holds now.
      const extra = accounts.filter((a) => {
        const entry = reads.get(a.id.toLowerCase());
        // Not an account whose pools were already read (one with an open pool finding): once is enough.
        const unread = entry?.batchPools === undefined && entry?.poolsError === undefined;
        const referencing = graphPools.get(a.id.toLowerCase())?.some((p) => p.certificateReferences.length > 0) ?? false;
        return entry && unread && entry.certificates !== "unknown" && entry.certificates.length === 0 && referencing;
      });
      for (const a of extra) queue.add(a.subscriptionId.toLowerCase(), () => readPools(a, reads.get(a.id.toLowerCase()) as AccountRead));
      await queue.idle();

      const fallback = await graphFallback(deps, readOptions, accounts.filter((a) => reads.get(a.id.toLowerCase())?.poolsError !== undefined));
      const certificates = new Map<string, AccountCertificate[] | "unknown">();
      const pools: PoolInfo[] = [];
      // Every pool name read per account, pools without certificates too (a replacement must not take one).
      const poolNames = new Map<string, string[]>();
      const coverage: AccountCoverage[] = [];
      const covered = new Set<string>();
      const setLocation = locator();
      const locate = (list: PoolInfo[], location: string) => {
        setLocation(list, location);
        return list;
      };
      let migratedPools = 0;
      for (const account of accounts) {
        const key = account.id.toLowerCase();
        const entry = reads.get(key);
        if (!entry || covered.has(key)) continue;
        covered.add(key);
        certificates.set(key, entry.certificates);
        const fromGraph = graphPools.get(key) ?? [];
        poolNames.set(key, [...(entry.batchPools ?? []), ...fromGraph].map((p) => p.name));
        let source: PoolCoverageSource;
        let poolsReason: string | undefined;
        if (entry.retired) {
          // Resource Graph's rows are all there is; whether they carry references depends on its api-version.
          source = "resource-graph";
          poolsReason = "the Batch API no longer answers at the api-version that shows certificates; pools from Resource Graph's rows";
          pools.push(...locate(mergePoolEvidence(undefined, fromGraph), account.location));
        } else if (entry.batchPools) {
          source = "batch-api";
          migratedPools += entry.migratedPools?.length ?? 0;
          pools.push(...locate(mergePoolEvidence(entry.batchPools, fromGraph), account.location));
        } else if (entry.poolsError !== undefined) {
          const stand = fallback.get(key) ?? { failed: "Resource Graph was not asked" };
          if ("pools" in stand) {
            source = "resource-graph";
            poolsReason = `the Batch API could not list pools (${entry.poolsError}); read from Resource Graph instead`;
            pools.push(...locate(mergePoolEvidence(undefined, dedupeById([...fromGraph, ...stand.pools])), account.location));
          } else {
            source = "failed";
            poolsReason = `${entry.poolsError}; ${stand.failed}`;
            pools.push(...locate(mergePoolEvidence(undefined, fromGraph), account.location));
          }
        } else {
          source = "not-needed";
          pools.push(...locate(mergePoolEvidence(undefined, fromGraph), account.location));
        }
        // An account the retirement left unread is not a failure of its own: the coverage says it once.
        const failed = (entry.certificates === "unknown" && !entry.retired) || source === "failed";
        const reasons = [entry.certificatesReason, source === "failed" ? `pools: ${poolsReason}` : undefined].filter((r) => r !== undefined);
        coverage.push({
          id: account.id,
          name: account.name,
          subscriptionId: account.subscriptionId,
          status: failed ? "failed" : "audited",
          ...(failed ? { reason: reasons.join("; ") } : {}),
          certificates: entry.certificates === "unknown" ? "unknown" : entry.certificates.length,
          pools: source,
          ...(poolsReason === undefined ? {} : { poolsReason }),
          ...(entry.migratedPools?.length ? { migratedPools: entry.migratedPools } : {}),
        });
      }
      // Pools of accounts that are not in the account list stay (their account is reported as a coverage problem).
      const listed = new Set(accounts.map((a) => a.id.toLowerCase()));
      for (const [key, list] of graphPools) if (!listed.has(key)) pools.push(...list);
      coverage.sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()));
      const unreadAsRetired = new Set([...reads].filter(([, entry]) => entry.retired).map(([key]) => key));
      return { certificates, pools, accounts: coverage, migratedPools, certificateApiRetired: retired, unreadAsRetired, poolNames };
    },
  };
}

/** Resource Graph's pools of the accounts whose pools the Batch API could not list, each usable or with the reason. */
async function graphFallback(deps: AuditDependencies, readOptions: ReadOptions, accounts: BatchAccountInfo[]): Promise<Map<string, { pools: PoolInfo[] } | { failed: string }>> {
  const result = new Map<string, { pools: PoolInfo[] } | { failed: string }>();
  if (accounts.length === 0) return result;
  const reader = deps.inventory.readAccountPools?.bind(deps.inventory);
  if (!reader) {
    for (const a of accounts) result.set(a.id.toLowerCase(), { failed: "no other source of pool data" });
    return result;
  }
  let rows: Map<string, ReportedPool[]>;
  try {
    rows = await reader(accounts, readOptions);
  } catch (error) {
    if (isFatal(error)) throw error;
    for (const a of accounts) result.set(a.id.toLowerCase(), { failed: `Resource Graph could not be asked instead: ${ensureError(error).message}` });
    return result;
  }
  for (const a of accounts) {
    const stand = poolsFromReportedRows(rows.get(a.id.toLowerCase()) ?? []);
    result.set(a.id.toLowerCase(), "pools" in stand ? stand : { failed: stand.unreported });
  }
  return result;
}

function dedupeById(pools: PoolInfo[]): PoolInfo[] {
  const byId = new Map<string, PoolInfo>();
  for (const p of pools) if (!byId.has(p.id.toLowerCase())) byId.set(p.id.toLowerCase(), p);
  return [...byId.values()];
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

function summarize(findings: Finding[], coverage: Coverage, rules: readonly RetirementRule[]): ReportSummary {
  const count = (predicate: (f: Finding) => boolean) => findings.filter(predicate).length;
  return {
    byRule: countByRule(findings, rules),
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
