// Turns an inventory into findings: one per account certificate, one per pool that references certificates.
import { certificateNameOf } from "./certificateReference.js";
import type { AccountCertificate, BatchAccountInfo, Finding, PoolInfo, ResolvedReference } from "./model.js";

export interface FindingInputs {
  accounts: readonly BatchAccountInfo[];
  /** Keyed by lower-cased account id; "unknown" when the account's certificates could not be read. */
  certificates: ReadonlyMap<string, readonly AccountCertificate[] | "unknown">;
  pools: readonly PoolInfo[];
  subscriptionNames: ReadonlyMap<string, string>;
  /** Lower-cased ids of accounts whose pools no source could read: whether a pool uses a certificate is unknown. */
  poolsUnknown?: ReadonlySet<string>;
}

export function findingId(kind: Finding["kind"], resourceId: string): string {
  return `${kind}:${resourceId.toLowerCase()}`;
}

type AccountPlace = Pick<BatchAccountInfo, "id" | "name" | "subscriptionId" | "resourceGroup">;

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
  const poolsByAccount = groupBy(inputs.pools, (p) => p.accountId.toLowerCase());
  const findings: Finding[] = [];
  const unlisted = accountsOnlyInPools(inputs.accounts, inputs.pools);
  const unlistedKeys = new Set(unlisted.map((a) => a.id.toLowerCase()));

  for (const account of [...inputs.accounts, ...unlisted]) {
    const key = account.id.toLowerCase();
    const certs = unlistedKeys.has(key) ? "unknown" : inputs.certificates.get(key);
    const pools = poolsByAccount.get(key) ?? [];
    const subscriptionName = inputs.subscriptionNames.get(account.subscriptionId.toLowerCase());
    const where = {
      subscriptionId: account.subscriptionId,
      ...(subscriptionName === undefined ? {} : { subscriptionName }),
      resourceGroup: account.resourceGroup,
      accountName: account.name,
      accountId: account.id,
    };

    const certNames = certs === "unknown" || certs === undefined ? undefined : new Set(certs.map((c) => c.name.toLowerCase()));
    const referencing = new Map<string, string[]>();

    for (const pool of pools) {
      const references: ResolvedReference[] = pool.certificateReferences.map((ref) => {
        const certificateName = certificateNameOf(ref.id);
        if (certificateName) referencing.set(certificateName, [...(referencing.get(certificateName) ?? []), pool.name]);
        const resolves = certNames === undefined ? ("unknown" as const) : certificateName !== undefined && certNames.has(certificateName);
        return { ...ref, ...(certificateName === undefined ? {} : { certificateName }), resolves };
      });
      const missing = references.filter((r) => r.resolves === false).length;
      findings.push({
        id: findingId("pool-certificate-reference", pool.id),
        kind: "pool-certificate-reference",
        severity: "critical",
        resourceId: pool.id,
        ...where,
        poolName: pool.name,
        references,
        sources: pool.sources ?? ["resource-graph"],
        ...(pool.disagreement ? { sourceNote: pool.disagreement } : {}),
        detail:
          `Pool references ${plural(references.length, "certificate")}; it cannot be resized or recreated with them and must be ` +
          `replaced by a pool that uses the Key Vault VM extension` +
          (missing > 0 ? `. ${plural(missing, "reference")} no longer ${missing === 1 ? "resolves" : "resolve"} to a certificate of the account.` : "."),
      });
    }

    if (certs === "unknown" || certs === undefined) continue;
    const poolsUnknown = inputs.poolsUnknown?.has(key) ?? false;
    for (const cert of certs) {
      const referencedByPools = referencing.get(cert.name.toLowerCase()) ?? [];
      findings.push({
        id: findingId("account-certificate", cert.id),
        kind: "account-certificate",
        // With the pools unknown, a pool may use it: never call it unreferenced (a warning, "can be deleted").
        severity: referencedByPools.length > 0 || poolsUnknown ? "critical" : "warning",
        resourceId: cert.id,
        ...where,
        certificate: { ...cert, referencedByPools },
        detail: describeCertificate(cert, referencedByPools, poolsUnknown),
      });
    }
  }

  return findings.sort(compareFindings);
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

const SEVERITY_RANK: Record<Finding["severity"], number> = { critical: 0, warning: 1 };

/** Most urgent first, then grouped by subscription, account and resource. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
    a.subscriptionId.localeCompare(b.subscriptionId) ||
    a.accountId.toLowerCase().localeCompare(b.accountId.toLowerCase()) ||
    a.resourceId.toLowerCase().localeCompare(b.resourceId.toLowerCase())
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
