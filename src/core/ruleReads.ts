// What the audit's read stage gives the retirement rules beyond the pools themselves: the account's region on each
// pool's facts, Azure's `batchSupportEndOfLife` per region (read once per region that has pools), and, per rule and
// account, what could not be judged because the reads did not carry it.
import { parseResourceId } from "./certificateReference.js";
import { daysBetween } from "./dates.js";
import { ensureError, isFatal } from "./errors.js";
import { ruleOfFindingId } from "./findings.js";
import type { AccountCoverage, BatchAccountInfo, Finding, PoolFacts, PoolInfo, RegionRead, Severity, UnjudgedRule } from "./model.js";
import type { FindingState, ReadOptions, VmSizeLifecycleReader } from "./ports.js";
import { deadlineFor, type RetirementRule, type VmSizeEndOfLife } from "./rules/rule.js";

/** Region reads in flight at once: a tenant has a few dozen regions at most. */
const REGION_READS_IN_FLIGHT = 4;

/**
 * Sets `facts.location` (the account's region) on pools that have facts but no location, in place: the pools are this
 * run's own objects, and at 500,000 pools a copy each would double them. Pools sharing facts share the located copy.
 */
export function locator(): (pools: readonly PoolInfo[], location: string | undefined) => void {
  const located = new WeakMap<PoolFacts, Map<string, PoolFacts>>();
  return (pools, location) => {
    if (!location) return;
    for (const pool of pools) {
      const facts = pool.facts;
      if (!facts || facts.location !== undefined) continue;
      let byLocation = located.get(facts);
      if (!byLocation) located.set(facts, (byLocation = new Map()));
      let withLocation = byLocation.get(location);
      if (!withLocation) byLocation.set(location, (withLocation = { ...facts, location }));
      pool.facts = withLocation;
    }
  };
}

/**
 * Azure's end of support per VM size, for each region where a pool of a listed account runs, read once per region
 * (through one subscription that has an account there). A region that could not be read is said so; its VM-size rules
 * then take the catalogue's date. Nothing is read when no rule takes Azure's date.
 */
export async function readVmSizeEndOfLife(
  reader: VmSizeLifecycleReader | undefined,
  rules: readonly RetirementRule[],
  regions: ReadonlyMap<string, string>,
  options: ReadOptions,
): Promise<{ endOfLife: VmSizeEndOfLife; reads: RegionRead[] } | undefined> {
  if (!reader || regions.size === 0 || !rules.some((r) => r.vmSizeEndOfLife)) return undefined;
  const endOfLife = new Map<string, ReadonlyMap<string, string>>();
  const reads: RegionRead[] = [];
  const queue = [...regions];
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [location, subscriptionId] = next;
      try {
        const sizes = await reader.readEndOfLife(subscriptionId, location, options);
        endOfLife.set(location, sizes);
        reads.push({ location, status: "read", sizesWithEndOfLife: sizes.size });
      } catch (error) {
        if (isFatal(error)) throw error;
        reads.push({ location, status: "failed", reason: `${ensureError(error).message}; VM-size rules use the catalogue's dates in this region` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGION_READS_IN_FLIGHT, regions.size) }, worker));
  reads.sort((a, b) => a.location.localeCompare(b.location));
  return { endOfLife, reads };
}

/** Collects the rules' "unknown" verdicts per rule and account (one entry each, however many pools). */
export function unjudgedCollector(coverageOf: (accountId: string) => AccountCoverage | undefined) {
  const byKey = new Map<string, { rule: string; accountId: string; pools: number; missing: Set<string> }>();
  return {
    note(rule: RetirementRule, pool: PoolInfo, missing: readonly string[]): void {
      const key = `${pool.accountId.toLowerCase()}\n${rule.id}`;
      let entry = byKey.get(key);
      if (!entry) byKey.set(key, (entry = { rule: rule.id, accountId: pool.accountId, pools: 0, missing: new Set() }));
      entry.pools++;
      for (const m of missing) entry.missing.add(m);
    },
    /** Drops what was noted of an account's pools (they are judged again from another read). */
    forget(accountId: string): void {
      const prefix = `${accountId.toLowerCase()}\n`;
      for (const key of byKey.keys()) if (key.startsWith(prefix)) byKey.delete(key);
    },
    entries(): UnjudgedRule[] {
      // At 100,000 accounts most entries say the same thing: one missing list and one reason per distinct wording.
      const shared = new Map<string, { missing: string[]; reason: string }>();
      // Keyed by lower-cased account, then rule: sorted by key, the entries come by account, then rule.
      return [...byKey]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, e]) => {
          const source = coverageOf(e.accountId)?.pools;
          const missing = [...e.missing];
          const key = `${missing.join(",")}|${source ?? ""}`;
          let words = shared.get(key);
          if (!words) shared.set(key, (words = { missing, reason: notCarried(missing, source) }));
          return { rule: e.rule, accountId: e.accountId, pools: e.pools, missing: words.missing, reason: words.reason };
        });
    },
  };
}

function notCarried(missing: readonly string[], source: AccountCoverage["pools"] | undefined): string {
  const what = `${missing.join(", ")} not carried by the reads`;
  if (source === "not-needed") return `${what} (only Resource Graph's pool rows were read for this account, and its api-version's pool contract may not have them)`;
  if (source === "resource-graph") return `${what} (the Batch API's pool list was not available; Resource Graph's rows were read instead)`;
  if (source === "failed") return `${what} (no source could list the account's pools)`;
  return what;
}

/** What an owner reads on a certificate finding Azure can no longer show. */
export const CERTIFICATES_NOT_SHOWN = "Azure no longer shows certificates: verify by hand";

/**
 * The ledger's open certificate findings of accounts left unread because Azure refused the certificate API's
 * api-version as retired, as findings again: open, as last seen, saying why they could not be checked. (Azure's
 * answer says nothing about them: they are neither gone nor confirmed.) Findings the run made itself are not repeated.
 */
export function carriedCertificateFindings(
  states: readonly FindingState[],
  unread: ReadonlySet<string>,
  accounts: readonly BatchAccountInfo[],
  rules: readonly RetirementRule[],
  asOf: string,
  made: readonly Finding[],
): Finding[] {
  const madeIds = new Set(made.map((f) => f.id));
  const rulesById = new Map(rules.map((r) => [r.id, r]));
  const locations = new Map(accounts.filter((a) => unread.has(a.id.toLowerCase())).map((a) => [a.id.toLowerCase(), a.location]));
  const carried: Finding[] = [];
  for (const state of states) {
    const kind = state.kind;
    if (state.resolvedOn !== undefined || madeIds.has(state.findingId) || !unread.has(state.accountId.toLowerCase())) continue;
    if (kind !== "account-certificate" && kind !== "pool-certificate-reference") continue;
    const rule = rulesById.get(ruleOfFindingId(state.findingId));
    const place = parseResourceId(state.resourceId);
    if (!rule || !place) continue;
    const due = deadlineFor(rule, locations.get(state.accountId.toLowerCase()), undefined, undefined);
    const name = state.resourceId.split("/").pop() ?? state.resourceId;
    const [algorithm = "sha1", ...thumbprint] = name.split("-");
    carried.push({
      id: state.findingId,
      kind,
      rule: rule.id,
      deadline: due.date,
      daysLeft: daysBetween(asOf, due.date),
      deadlineSource: due.source,
      ...(due.confirmed ? {} : { deadlineConfirmed: false as const }),
      severity: (state.severity === "warning" ? "warning" : "critical") satisfies Severity,
      resourceId: state.resourceId,
      subscriptionId: state.subscriptionId,
      resourceGroup: place.resourceGroup,
      accountName: state.accountName,
      accountId: state.accountId,
      ...(kind === "pool-certificate-reference"
        ? { poolName: name, references: [], sources: [] }
        : { certificate: { id: state.resourceId, name, accountId: state.accountId, thumbprint: thumbprint.join("-"), thumbprintAlgorithm: algorithm, referencedByPools: [] } }),
      detail: `${CERTIFICATES_NOT_SHOWN} (last seen ${state.lastSeen}; the api-version that shows certificates was refused as retired).`,
    });
  }
  return carried;
}
