// The audit use case: inventory the tenant, read each account's certificates, derive findings, account for coverage.
import { daysBetween } from "./dates.js";
import { ensureError, isFatal } from "./errors.js";
import { accountReads, type AccountReadsResult } from "./accountReads.js";
import { OwnerPlaces, findingsNeedingRoles, ownerAssigner, type OwnerPlace, type SnoozePolicy } from "./assignOwners.js";
import { assertScopeMatched } from "./auditScope.js";
import { ResourceIdMap } from "./ids.js";
import { DeflatedList, eachOf, holdList } from "./deflatedJson.js";
import { DeflatedSort } from "./deflatedSort.js";
import { compareFindingKeys, completedFinding, findingJudge, findingKey, type AccountPlace, type FindingKey } from "./findings.js";
import type { KitPlan, MigrationSettings } from "./migrationKit.js";
import { regionKey, type RetirementRule, type VmSizeEndOfLife } from "./rules/rule.js";
import { countByRule, reportRules, resolveRules } from "./rules/ruleSet.js";
import { carriedFindings, locator, readVmSizeEndOfLife, unjudgedCollector } from "./ruleReads.js";
import { FINDINGS_PAGE_SIZE, REPORT_SCHEMA_VERSION, RETIREMENT_DATE, type AccountCoverage, type AuditReport, type Awaitable, type Coverage, type Finding, type ReportSummary } from "./model.js";
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
  TenantInventory,
  VmSizeLifecycleReader,
} from "./ports.js";

/**
 * An inventory reader may hand over Batch accounts and pools as their pages arrive (InventoryListener), so that
 * certificate reads overlap the rest of the inventory (at scale it is paced by Resource Graph's quota) and pools are
 * judged without all being held. Readers that do not are fine too.
 */
export type StreamingInventoryReader = InventoryReader;

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
  // The next three may be on their way (the job reads its ledger while the audit's first reads go out): each is waited
  // for where it is first needed, and one that fails fails the audit.
  /** When given, findings carry their owners, owner problems and snoozes. */
  owners?: Awaitable<{ owners: OwnerPolicy; snooze: SnoozePolicy }>;
  /**
   * Lower-cased ids of accounts with pool findings still open in the ledger: their pools are read even when their
   * certificate list is empty, so such a finding is resolved only by a read of its pools, never by the rule alone.
   */
  accountsWithOpenPoolFindings?: Awaitable<ReadonlySet<string>>;
  /** Lower-cased ids of accounts with other rules' pool findings still open: a rule that could not judge their pools has findings to carry. */
  accountsWithOpenRuleFindings?: Awaitable<ReadonlySet<string>>;
  /** What the migration kits put in replacement pools (identity, Key Vault); placeholders where unset. */
  migration?: MigrationSettings;
  /** The rules to run (enabled, deadlines as configured, narrowed by a `rules` filter); every shipped rule when absent. */
  rules?: readonly RetirementRule[];
  /** Azure's `batchSupportEndOfLife` per region (lower-cased location -> lower-cased VM size -> YYYY-MM-DD), when read. */
  vmSizeEndOfLife?: VmSizeEndOfLife;
  /**
   * The ledger's open findings: those this run could not check (an account whose certificates or pools could not be
   * read, a rule that could not judge its pools, certificates Azure no longer shows) are carried into the report as
   * last seen (ruleReads.ts, `carriedFindings`). Asked for only when some account is in that case (the job holds the
   * ledger's states deflated through the audit, not as objects: at 100,000 accounts those are 30-50 MB).
   */
  openFindings?: () => Promise<readonly FindingState[]>;
  /**
   * Aborted when the run's time budget is spent, or when the job's read of its ledger fails: reads not finished by
   * then fail their scope with its reason.
   */
  signal?: AbortSignal;
}

export async function auditTenant(deps: AuditDependencies, request: AuditRequest): Promise<AuditReport> {
  // What is on its way is told where it is waited for, not as an unhandled rejection should the audit fail first.
  for (const arriving of [request.owners, request.accountsWithOpenPoolFindings, request.accountsWithOpenRuleFindings]) if (arriving instanceof Promise) arriving.catch(() => undefined);
  deps.onProgress?.({ phase: "inventory", done: 0, total: 1 });
  const readOptions: ReadOptions = request.signal ? { signal: request.signal } : {};
  const rules = request.rules ?? resolveRules();
  const rulesById = new Map(rules.map((r) => [r.id, r]));
  // Pools are judged as they arrive, before Azure's VM-size dates are read: those findings are completed at the end
  // (the same fields, in the same order, as if the dates had been known).
  const regions = new Map<string, string>();
  const undated = new WeakMap<Finding, { location: string | undefined; vmSize: string }>();
  let coverageOf: (id: string) => AccountCoverage | undefined = () => undefined;
  const unjudged = unjudgedCollector((id) => coverageOf(id));
  const judge = findingJudge({
    rules,
    asOf: request.asOf,
    ...(request.vmSizeEndOfLife ? { vmSizeEndOfLife: request.vmSizeEndOfLife } : {}),
    subscriptionNames: new Map(),
    onUnknown: (rule, _pool, missing, account) => unjudged.note(rule, account.id, missing),
    onVmSizeFinding: (finding, location, vmSize) => undated.set(finding, { location, vmSize }),
  });
  // From the moment an account is gathered its findings are held as objects only until a run of them is full (2,048):
  // each is noted for its kit and its owners, and added to a sort whose runs are held deflated (./deflatedSort.ts), or,
  // where Azure's VM-size dates will complete it, kept deflated as made until they are read. The report's list is made
  // from the runs at the end, in order, a finding at a time: at 100,000 accounts the 45,000 findings were tens of MB of
  // the heap, whole at the audit's end, where its peak is (docs/benchmarks.md). Equal keys keep the order findings were
  // added in (those completed by the dates after the others; two findings tie only on the same resource and rule).
  const kitPlans = [...new Set(rules.flatMap((r) => (r.kit ? [r.kit] : [])))].map((builder) => builder());
  const places = new OwnerPlaces();
  const inOrder = new DeflatedSort<Finding, FindingKey>({ key: findingKey, compare: compareFindingKeys, pageSize: FINDINGS_PAGE_SIZE });
  const awaitingDates = new DeflatedList<{ finding: Finding; location: string | undefined; vmSize: string }>([], FINDINGS_PAGE_SIZE);
  let subscriptionNames = new Map<string, string>();
  const take = (finding: Finding) => {
    for (const plan of kitPlans) plan.note(finding);
    places.note(finding);
    inOrder.add(finding);
  };
  const reads = accountReads(
    {
      certificates: deps.certificates,
      pools: deps.pools,
      ...(deps.inventory.readAccountPools ? { accountPools: deps.inventory.readAccountPools.bind(deps.inventory) } : {}),
      concurrency: deps.concurrency,
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    },
    {
      judge,
      locate: locator(),
      // Read through the first subscription (in id order) with a pool there, whatever order the reads finish in.
      noteRegion: (location, subscriptionId) => {
        const region = regionKey(location);
        const known = regions.get(region);
        if (region && (known === undefined || subscriptionId.toLowerCase() < known.toLowerCase())) regions.set(region, subscriptionId);
      },
      forgetUnjudged: (accountId) => unjudged.forget(accountId),
      // Gathered once the inventory is read: the subscriptions' names are known.
      found: (made) => {
        for (const judged of made) {
          const pending = undated.get(judged);
          const finding = completedFinding(judged, subscriptionNames.get(judged.subscriptionId.toLowerCase()));
          if (pending) awaitingDates.push({ finding, ...pending });
          else take(finding);
        }
      },
    },
    readOptions,
    request.accountsWithOpenPoolFindings ?? new Set(),
  );
  const inventory = await deps.inventory.readInventory(request.scope, { accounts: (arrived) => reads.start(arrived), pools: (page) => reads.pools(page) }, readOptions);
  reads.start(inventory.accounts);
  // A reader that keeps its pools hands them over at the end.
  if (inventory.pools.length > 0) reads.pools(inventory.pools);
  subscriptionNames = new Map(inventory.subscriptions.map((s) => [s.subscriptionId.toLowerCase(), s.displayName]));
  // What the reads gathered for the migration kits (the pools that get one, the accounts' certificates and pool names)
  // is let go once the report's list is made.
  let read: AccountReadsResult | undefined = await reads.finished();
  const { accounts, unlisted, migratedPools, certificateApiRetired, unreadAsRetired, notFound } = read;
  assertScopeMatched(request.scope, inventory);
  // By id, case-insensitively, with no lower-cased copy of 100,000 ids (./ids.ts).
  const coverageByAccount = new ResourceIdMap<AccountCoverage>((a) => a.id);
  for (const a of accounts) coverageByAccount.set(a);
  coverageOf = (id) => coverageByAccount.get(id);
  // Azure's dates for the regions in use, unless the request brings them.
  const vmSizes = request.vmSizeEndOfLife ? undefined : await readVmSizeEndOfLife(deps.vmSizes, rules, regions, readOptions);
  for (const { finding, location, vmSize } of eachOf(awaitingDates.done().pages())) {
    const rule = finding.rule === undefined ? undefined : rulesById.get(finding.rule);
    take(completedFinding(finding, undefined, rule && vmSizes ? { rule, location, vmSize, vmSizeEndOfLife: vmSizes.endOfLife, asOf: request.asOf } : undefined));
  }
  awaitingDates.clear();
  // What this run could not check of the ledger's open findings is carried as last seen (before kits and owners, so
  // they get the owners and snoozes the tags name today).
  const unjudgedRules = unjudged.entries();
  // The ledger is read for them only when some account is in that case (a rule that could not judge an account's pools
  // matters only where the ledger holds that rule's findings open: no set given, it may anywhere).
  const withOpenRuleFindings = await request.accountsWithOpenRuleFindings;
  const unchecked =
    unreadAsRetired.size > 0 ||
    accounts.some((a) => a.certificates === "unknown" || a.pools === "failed") ||
    unjudgedRules.some((u) => withOpenRuleFindings === undefined || withOpenRuleFindings.has(u.accountId.toLowerCase()));
  if (unchecked && request.openFindings) {
    const carried = carriedFindings(await request.openFindings(), {
      coverageOf,
      unjudged: unjudgedRules,
      unreadAsRetired,
      notFound,
      accounts: inventory.accounts,
      rules,
      asOf: request.asOf,
      made: inOrder.unordered(),
    });
    for (const finding of carried) take(finding);
  }
  // Nothing looks an account's coverage up after this.
  coverageByAccount.clear();
  const owners = await request.owners;
  let assign: ((finding: Finding) => Finding) | undefined;
  if (owners) {
    const access = await readAccess(deps, owners.owners, findingsNeedingRoles([...places.firstOfEachAccount()], inventory, owners.owners, places), readOptions);
    assign = ownerAssigner(inventory, places, { ...owners, asOf: request.asOf, ...(access ? { access } : {}) });
  }
  // The report's list, a finding at a time in its order: each given its kit (file and replacement names are taken in
  // this order) and its owners, counted, and deflated with the findings before it; each kit kept as it is.
  const findings = new DeflatedList<Finding>([], FINDINGS_PAGE_SIZE, { byReference: ["migration"] });
  const counts = new FindingCounts(rules);
  const kits = kitsFrom(kitPlans, read, request.migration ?? {});
  read = undefined;
  for (const sorted of inOrder.sorted()) {
    let finding = sorted;
    for (const kit of kits) finding = kit(finding);
    if (assign) finding = assign(finding);
    counts.add(finding);
    findings.push(finding);
  }
  findings.done();
  // What the kits were made from is let go with them.
  kits.length = 0;
  const coverage: Coverage = {
    ...describeCoverage(request.scope, inventory, accounts, unlisted),
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
  const report: AuditReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    generatedAt: request.generatedAt,
    asOf: request.asOf,
    retirementDate: RETIREMENT_DATE,
    deadline,
    daysSinceDeadline: daysBetween(deadline, request.asOf),
    daysSinceRetirement: daysBetween(RETIREMENT_DATE, request.asOf),
    ...(request.tenantId === undefined ? {} : { tenantId: request.tenantId }),
    coverage,
    summary: { ...counts.summary(coverage), poolsMigrated: migratedPools },
    rules: reportRules(rules),
    findings: [],
  };
  // The report holds its findings deflated: reading `report.findings` gives them all, inflated; the writers, tracking
  // and the planning of the mail read them a page at a time (./deflatedJson.ts `pagesOf`).
  holdList(report, "findings", findings);
  return report;
}

/** What gives each finding its kits, from what the reads gathered for them (held by the kits, not by the caller). */
function kitsFrom(plans: readonly KitPlan[], read: Pick<AccountReadsResult, "kitPools" | "certificates" | "poolNames">, settings: MigrationSettings): ((finding: Finding) => Finding)[] {
  return plans.map((plan) => plan.kits(read.kitPools, read.certificates, settings, { poolNames: read.poolNames }));
}

/**
 * Role holders over the accounts of these findings. A failure to read them is never a failed audit: owner resolution
 * goes on without roles, and each affected finding's owner problems say why.
 */
async function readAccess(deps: AuditDependencies, policy: OwnerPolicy, needing: readonly OwnerPlace[], readOptions: ReadOptions): Promise<AccessDirectory | undefined> {
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

function describeCoverage(scope: AuditScope, inventory: TenantInventory, accounts: AccountCoverage[], unlisted: readonly AccountPlace[]): Coverage {
  const failedSubscriptions = new Map<string, string>();
  const problems: string[] = [];
  for (const problem of inventory.problems) {
    if (problem.subscriptionIds === undefined) problems.push(problem.reason);
    for (const id of problem.subscriptionIds ?? []) failedSubscriptions.set(id.toLowerCase(), problem.reason);
  }
  for (const account of unlisted) {
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

/** The summary's counts of the findings, a finding at a time. */
class FindingCounts {
  readonly #byRule: Record<string, number>;
  #findings = 0;
  #critical = 0;
  #warning = 0;
  #accountCertificates = 0;
  #poolsWithCertificates = 0;
  #notRechecked = 0;

  constructor(rules: readonly RetirementRule[]) {
    this.#byRule = countByRule([], rules);
  }

  add(f: Finding): void {
    const id = f.rule ?? f.kind;
    this.#byRule[id] = (this.#byRule[id] ?? 0) + 1;
    this.#findings++;
    if (f.severity === "critical") this.#critical++;
    if (f.severity === "warning") this.#warning++;
    if (f.kind === "account-certificate") this.#accountCertificates++;
    if (f.kind === "pool-certificate-reference") this.#poolsWithCertificates++;
    if (f.notRechecked !== undefined) this.#notRechecked++;
  }

  summary(coverage: Coverage): ReportSummary {
    return {
      byRule: this.#byRule,
      findings: this.#findings,
      critical: this.#critical,
      warning: this.#warning,
      accountCertificates: this.#accountCertificates,
      poolsWithCertificates: this.#poolsWithCertificates,
      accountsAudited: coverage.accounts.filter((a) => a.status === "audited").length,
      accountsFailed: coverage.accounts.filter((a) => a.status === "failed").length,
      subscriptionsAudited: coverage.subscriptions.filter((s) => s.status === "audited").length,
      subscriptionsFailed: coverage.subscriptions.filter((s) => s.status === "failed").length,
      ...(this.#notRechecked > 0 ? { notRechecked: this.#notRechecked } : {}),
    };
  }
}
