// Turns an inventory into findings by running every rule (src/core/rules): per account certificate for the
// certificate rule, per pool and rule for the pool rules (a pool three rules find is three findings).
import { certificateNameOf, parseResourceId } from "./certificateReference.js";
import { daysBetween } from "./dates.js";
import type { AccountCertificate, BatchAccountInfo, DeadlineSource, Finding, PoolFacts, PoolInfo, ResolvedReference, Severity } from "./model.js";
import type { FindingState } from "./ports.js";
import { BUILT_IN_RULES } from "./rules/catalogue.js";
import { evaluatePoolRule, factsRead, readsFact } from "./rules/evaluate.js";
import { deadlineFor, type RetirementRule, type VmSizeEndOfLife } from "./rules/rule.js";

export interface FindingInputs {
  accounts: readonly BatchAccountInfo[];
  /** Keyed by lower-cased account id; "unknown" when the account's certificates could not be read. */
  certificates: ReadonlyMap<string, readonly AccountCertificate[] | "unknown">;
  pools: readonly PoolInfo[];
  subscriptionNames: ReadonlyMap<string, string>;
  /** Lower-cased ids of accounts whose pools no source could read: whether a pool uses a certificate is unknown. */
  poolsUnknown?: ReadonlySet<string>;
  /** The rules to run (src/core/rules); every shipped rule when absent. */
  rules?: readonly RetirementRule[];
  /** The day the audit is as of: with it each finding carries `daysLeft`. */
  asOf?: string;
  /** Azure's `batchSupportEndOfLife` per region and VM size, when read: wins over the catalogue for VM-size rules. */
  vmSizeEndOfLife?: VmSizeEndOfLife;
  /** Told of each pool a rule could not judge, and which facts the read did not carry. */
  onUnknown?: (rule: RetirementRule, pool: PoolInfo, missing: readonly string[], account: AccountPlace) => void;
}

/** `<rule>:<lower-cased resource id>` (the certificate rules' ids are the finding kinds they always were). */
export function findingId(rule: string, resourceId: string): string {
  return `${rule}:${resourceId.toLowerCase()}`;
}

/** The rule of a finding id (`<rule>:<resource id>`; resource ids hold no `:` before their first `/`). */
export function ruleOfFindingId(id: string): string {
  const colon = id.indexOf(":");
  return colon > 0 ? id.slice(0, colon) : id;
}

export type AccountPlace = Pick<BatchAccountInfo, "id" | "name" | "subscriptionId" | "resourceGroup">;

/**
 * Accounts that have pools in the inventory but are not in its account list (the two come from different
 * Resource Graph tables and pages): their certificates are unknown, and their pools must not vanish.
 */
export function accountsOnlyInPools(accounts: readonly BatchAccountInfo[], pools: readonly PoolInfo[]): AccountPlace[] {
  const listed = new Set(accounts.map((a) => a.id.toLowerCase()));
  const missing = new Map<string, AccountPlace>();
  for (const pool of pools) {
    const key = pool.accountId.toLowerCase();
    if (listed.has(key) || missing.has(key)) continue;
    missing.set(key, { id: pool.accountId, name: pool.accountName, subscriptionId: pool.subscriptionId, resourceGroup: pool.resourceGroup });
  }
  return [...missing.values()];
}

export function buildFindings(inputs: FindingInputs): Finding[] {
  const judge = findingJudge(inputs);
  const poolsByAccount = groupBy(inputs.pools, (p) => p.accountId.toLowerCase());
  const findings: Finding[] = [];
  const unlisted = accountsOnlyInPools(inputs.accounts, inputs.pools);
  for (const account of inputs.accounts) {
    const key = account.id.toLowerCase();
    findings.push(...judge(account, account, inputs.certificates.get(key), poolsByAccount.get(key) ?? [], inputs.poolsUnknown?.has(key) ?? false));
  }
  for (const account of unlisted) findings.push(...judge(account, undefined, "unknown", poolsByAccount.get(account.id.toLowerCase()) ?? [], false));
  return findings.sort(compareFindings);
}

/** What a judge needs besides one account's pools: the rules, the day, Azure's VM-size dates and subscription names. */
export type JudgeInputs = Omit<FindingInputs, "accounts" | "certificates" | "pools" | "poolsUnknown"> & {
  /**
   * Told of each finding of a VM-size rule (one that takes Azure's date) made without Azure's dates (`vmSizeEndOfLife`
   * absent), with the pool's region and size, so that its date can be set once they are read (`rescheduled`).
   */
  onVmSizeFinding?: (finding: Finding, location: string | undefined, vmSize: string) => void;
};

/**
 * The findings of one account from some of its pools and its certificates, unsorted: a pool finding per pool and rule
 * the rule holds for, a certificate finding per certificate (none when `certificates` is "unknown", undefined or
 * empty). `listed` is the account as the account list gave it (undefined for an account only its pools showed). The
 * audit calls it as pools arrive, page by page: every pool finding depends on its own pool alone, and an account's
 * certificate findings are made in the one call that has all its pools.
 */
export function findingJudge(inputs: JudgeInputs) {
  const rules = inputs.rules ?? BUILT_IN_RULES;
  const poolRules = rules.filter((r) => r.target === "pool");
  // Whether a rule's finding is about certificate references: asked once per rule, not once per finding.
  const aboutReferences = new Set(poolRules.filter((r) => r.when !== undefined && readsFact(r.when, "certificateReferences")));
  const certificateRules = rules.filter((r) => r.target === "account-certificate");
  return (
    account: AccountPlace,
    listed: BatchAccountInfo | undefined,
    certs: readonly AccountCertificate[] | "unknown" | undefined,
    pools: readonly PoolInfo[],
    poolsUnknown: boolean,
  ): Finding[] => {
    const findings: Finding[] = [];
    const subscriptionName = inputs.subscriptionNames.get(account.subscriptionId.toLowerCase());
    const where = {
      subscriptionId: account.subscriptionId,
      ...(subscriptionName === undefined ? {} : { subscriptionName }),
      resourceGroup: account.resourceGroup,
      accountName: account.name,
      accountId: account.id,
    };
    const scheduled = (rule: RetirementRule, vmSize?: string | null) => scheduleFor(rule, listed?.location, vmSize, inputs.vmSizeEndOfLife, inputs.asOf);

    const certNames = certs === "unknown" || certs === undefined ? undefined : new Set(certs.map((c) => c.name.toLowerCase()));
    const referencing = new Map<string, string[]>();

    for (const pool of pools) {
      const references: ResolvedReference[] = pool.certificateReferences.map((ref) => {
        const certificateName = certificateNameOf(ref.id);
        if (certificateName) referencing.set(certificateName, [...(referencing.get(certificateName) ?? []), pool.name]);
        const resolves = certNames === undefined ? ("unknown" as const) : certificateName !== undefined && certNames.has(certificateName);
        return { ...ref, ...(certificateName === undefined ? {} : { certificateName }), resolves };
      });
      for (const rule of poolRules) {
        const verdict = evaluatePoolRule(rule, pool, listed);
        if (verdict.status === "unknown") inputs.onUnknown?.(rule, pool, verdict.missing, account);
        if (verdict.status !== "affected") continue;
        const certificatePool = aboutReferences.has(rule);
        const vmSize = pool.facts?.vmSize;
        const finding: Finding = {
          id: findingId(rule.id, pool.id),
          kind: certificatePool ? "pool-certificate-reference" : "pool",
          ...scheduled(rule, vmSize),
          severity: rule.severity,
          resourceId: pool.id,
          ...where,
          poolName: pool.name,
          ...(certificatePool
            ? {
                references,
                sources: pool.sources ?? ["resource-graph"],
                ...(pool.disagreement ? { sourceNote: pool.disagreement } : {}),
                detail: describeReferences(references),
              }
            : { detail: describePoolRule(rule, pool) }),
        };
        findings.push(finding);
        if (rule.vmSizeEndOfLife && typeof vmSize === "string" && inputs.vmSizeEndOfLife === undefined) inputs.onVmSizeFinding?.(finding, listed?.location, vmSize);
      }
    }

    if (certs === "unknown" || certs === undefined) return findings;
    for (const rule of certificateRules) {
      for (const cert of certs) {
        const referencedByPools = referencing.get(cert.name.toLowerCase()) ?? [];
        findings.push({
          id: findingId(rule.id, cert.id),
          kind: "account-certificate",
          ...scheduled(rule),
          // With the pools unknown, a pool may use it: never call it unreferenced (a warning, "can be deleted").
          severity: referencedByPools.length > 0 || poolsUnknown ? rule.severity : "warning",
          resourceId: cert.id,
          ...where,
          certificate: { ...cert, referencedByPools },
          detail: describeCertificate(cert, referencedByPools, poolsUnknown),
        });
      }
    }
    return findings;
  };
}

type Scheduled = Pick<Finding, "rule" | "deadline" | "daysLeft" | "deadlineSource" | "deadlineConfirmed">;

function scheduleFor(rule: RetirementRule, location: string | undefined, vmSize: string | null | undefined, azure: VmSizeEndOfLife | undefined, asOf: string | undefined): Scheduled {
  const due = deadlineFor(rule, location, vmSize, azure);
  return {
    rule: rule.id,
    deadline: due.date,
    ...(asOf === undefined ? {} : { daysLeft: daysBetween(asOf, due.date) }),
    deadlineSource: due.source,
    ...(due.confirmed ? {} : { deadlineConfirmed: false as const }),
  };
}

/**
 * A finding made before its subscription's name or Azure's VM-size dates were known, as it would have been made with
 * them: the same fields in the same order (the report's JSON is compared and diffed by people).
 */
export function completedFinding(
  finding: Finding,
  subscriptionName: string | undefined,
  dated?: { rule: RetirementRule; location: string | undefined; vmSize: string; vmSizeEndOfLife: VmSizeEndOfLife; asOf: string | undefined },
): Finding {
  const schedule = dated ? scheduleFor(dated.rule, dated.location, dated.vmSize, dated.vmSizeEndOfLife, dated.asOf) : undefined;
  if (schedule && schedule.deadline === finding.deadline && schedule.deadlineSource === finding.deadlineSource && (subscriptionName === undefined || finding.subscriptionName !== undefined)) return finding;
  if (!schedule && (subscriptionName === undefined || finding.subscriptionName !== undefined)) return finding;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(finding)) {
    if (schedule && key === "deadlineConfirmed") continue;
    if (schedule && key === "rule") {
      Object.assign(out, schedule);
      continue;
    }
    if (schedule && (key === "deadline" || key === "daysLeft" || key === "deadlineSource")) continue;
    out[key] = value;
    if (key === "subscriptionId" && subscriptionName !== undefined && finding.subscriptionName === undefined) out.subscriptionName = subscriptionName;
  }
  return out as unknown as Finding;
}

function describeReferences(references: readonly ResolvedReference[]): string {
  const missing = references.filter((r) => r.resolves === false).length;
  return (
    `Pool references ${plural(references.length, "certificate")}; it cannot be resized or recreated with them and must be ` +
    `replaced by a pool that uses the Key Vault VM extension` +
    (missing > 0 ? `. ${plural(missing, "reference")} no longer ${missing === 1 ? "resolves" : "resolve"} to a certificate of the account.` : ".")
  );
}

/** What the pool has that the rule is about, from the facts its condition reads (values quoted as Azure gave them). */
function describePoolRule(rule: RetirementRule, pool: PoolInfo): string {
  const facts = pool.facts ?? {};
  const shown = factsRead(rule.when)
    .filter((name): name is keyof PoolFacts => name in facts && facts[name as keyof PoolFacts] !== null && facts[name as keyof PoolFacts] !== undefined)
    .map((name) => `${name} ${JSON.stringify(facts[name])}`);
  return `${rule.title}${shown.length > 0 ? ` (${shown.join(", ")})` : ""}: supported by Batch until ${rule.deadline}.`;
}

function describeCertificate(cert: AccountCertificate, referencedByPools: string[], poolsUnknown: boolean): string {
  const parts: string[] = [];
  if (cert.provisioningState === "Failed" && cert.deleteCertificateError) {
    const targets = (cert.deleteCertificateError.details ?? []).map((d) => d.target ?? d.message).filter(Boolean);
    parts.push(
      `Deletion is blocked (${cert.deleteCertificateError.code}: ${cert.deleteCertificateError.message})` +
        (targets.length > 0 ? `; still referenced by ${targets.join(", ")}` : ""),
    );
  } else if (cert.provisioningState === "Deleting") {
    parts.push("Deletion is in progress");
  }
  parts.push(
    referencedByPools.length > 0
      ? `Referenced by ${plural(referencedByPools.length, "pool")}: ${referencedByPools.join(", ")}`
      : poolsUnknown
        ? "The account's pools could not be read, so whether a pool uses it is unknown: do not delete it until that is checked"
        : "Not referenced by any pool: it can be deleted once nothing else depends on it",
  );
  if (referencedByPools.length > 0 && poolsUnknown) parts.push("Other pools of the account could not be read");
  return `${parts.join(". ")}.`;
}

/**
 * A finding the ledger holds open, rebuilt from its state for a run that could not check it: what the state records
 * (no references, facts or kit: they were not read), the deadline given, and the detail given. Undefined when the
 * state's resource id is not an ARM id (nothing in the report could name its place).
 */
export function findingFromState(
  state: FindingState,
  how: { asOf: string; deadline: string; deadlineSource?: DeadlineSource; deadlineConfirmed?: boolean; detail: string },
): Finding | undefined {
  const place = parseResourceId(state.resourceId);
  if (!place) return undefined;
  const kind = state.kind === "account-certificate" || state.kind === "pool-certificate-reference" ? state.kind : "pool";
  const name = state.resourceId.split("/").pop() ?? state.resourceId;
  const [algorithm = "sha1", ...thumbprint] = name.split("-");
  return {
    id: state.findingId,
    kind,
    rule: ruleOfFindingId(state.findingId),
    deadline: how.deadline,
    daysLeft: daysBetween(how.asOf, how.deadline),
    ...(how.deadlineSource ? { deadlineSource: how.deadlineSource } : {}),
    ...(how.deadlineConfirmed === false ? { deadlineConfirmed: false as const } : {}),
    severity: (state.severity === "warning" ? "warning" : "critical") satisfies Severity,
    resourceId: state.resourceId,
    subscriptionId: state.subscriptionId,
    resourceGroup: place.resourceGroup,
    accountName: state.accountName,
    accountId: state.accountId,
    ...(kind === "account-certificate"
      ? { certificate: { id: state.resourceId, name, accountId: state.accountId, thumbprint: thumbprint.join("-"), thumbprintAlgorithm: algorithm, referencedByPools: [] } }
      : { poolName: name, ...(kind === "pool-certificate-reference" ? { references: [] } : {}) }),
    detail: how.detail,
  };
}

const SEVERITY_RANK: Record<Finding["severity"], number> = { critical: 0, warning: 1 };

/** Most urgent first (soonest deadline, then severity), then grouped by subscription, account, resource and rule. */
export function compareFindings(a: Finding, b: Finding): number {
  return compareFindingKeys(findingKey(a), findingKey(b));
}

/** What the report's order compares of a finding (compareFindingKeys): made once per finding for a sort. */
export interface FindingKey {
  deadline: string;
  severity: number;
  subscriptionId: string;
  account: string;
  resource: string;
  rule: string;
}

export function findingKey(f: Finding): FindingKey {
  return {
    deadline: f.deadline ?? "",
    severity: SEVERITY_RANK[f.severity],
    subscriptionId: f.subscriptionId,
    account: f.accountId.toLowerCase(),
    resource: f.resourceId.toLowerCase(),
    rule: f.rule ?? f.kind,
  };
}

/** The report's order: the soonest deadline, then critical first, then by subscription, account, resource and rule. */
export function compareFindingKeys(a: FindingKey, b: FindingKey): number {
  return (
    a.deadline.localeCompare(b.deadline) ||
    a.severity - b.severity ||
    a.subscriptionId.localeCompare(b.subscriptionId) ||
    a.account.localeCompare(b.account) ||
    a.resource.localeCompare(b.resource) ||
    a.rule.localeCompare(b.rule)
  );
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
