// What the audit's read stage gives the retirement rules beyond the pools themselves: the account's region on each
// pool's facts, Azure's `batchSupportEndOfLife` per region (read once per region that has pools), and, per rule and
// account, what could not be judged because the reads did not carry it.
import { ensureError, isFatal } from "./errors.js";
import { findingFromState, ruleOfFindingId } from "./findings.js";
import { compareLowerCased } from "./ids.js";
import type { AccountCoverage, BatchAccountInfo, Finding, PoolFacts, PoolInfo, RegionRead, UnjudgedRule } from "./model.js";
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
  // Per rule, by account (its id as the account list gives it: `note` is told the account): how many pools, and which
  // of the distinct lists of what was missing, packed into one small integer (POOLS_PACKED). At 100,000 accounts there
  // is an entry for nearly every account and several rules: an array and an object per rule for each account was
  // about 19 MB; a number in a map per rule is a third of that.
  const byRule = new Map<string, Map<string, number | Noted>>();
  const lists: (readonly string[])[] = [];
  const listIndex = new Map<string, number>();
  const shareList = (names: readonly string[]): number => {
    const key = names.join(",");
    let index = listIndex.get(key);
    if (index === undefined) {
      index = lists.push([...names]) - 1;
      listIndex.set(key, index);
    }
    return index;
  };
  return {
    note(rule: RetirementRule, accountId: string, missing: readonly string[]): void {
      let accounts = byRule.get(rule.id);
      if (!accounts) byRule.set(rule.id, (accounts = new Map()));
      const noted = accounts.get(accountId);
      if (noted === undefined) {
        accounts.set(accountId, packNoted(1, shareList(missing)));
        return;
      }
      const { pools, list } = unpackNoted(noted);
      const known = lists[list] as readonly string[];
      const merged = missing.every((m) => known.includes(m)) ? list : shareList([...new Set([...known, ...missing])]);
      accounts.set(accountId, packNoted(pools + 1, merged));
    },
    /** Drops what was noted of an account's pools (they are judged again from another read). */
    forget(accountId: string): void {
      for (const accounts of byRule.values()) accounts.delete(accountId);
    },
    /** The report's entries, once: what was noted is let go as it is turned into them. */
    entries(): UnjudgedRule[] {
      // At 100,000 accounts most entries say the same thing: one missing list and one reason per distinct wording.
      const shared = new Map<string, { missing: string[]; reason: string }>();
      const out: UnjudgedRule[] = [];
      const byOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
      const rules = [...byRule.keys()].sort(byOrder);
      const noted = new Set<string>();
      for (const accounts of byRule.values()) for (const id of accounts.keys()) noted.add(id);
      // Sorted by account (lower-cased, compared without making lower-cased copies), then rule.
      const accounts = [...noted].sort(compareLowerCased);
      noted.clear();
      for (const id of accounts) {
        const coverage = coverageOf(id);
        const accountId = coverage?.id ?? id;
        for (const rule of rules) {
          const of = byRule.get(rule) as Map<string, number | Noted>;
          const packed = of.get(id);
          if (packed === undefined) continue;
          // Let go as it is turned into report entries (the collector is held by the run's judge until the audit returns).
          of.delete(id);
          const { pools, list } = unpackNoted(packed);
          const missing = lists[list] as readonly string[];
          const wording = `${missing.join(",")}|${coverage?.pools ?? ""}`;
          let words = shared.get(wording);
          if (!words) shared.set(wording, (words = { missing: [...missing], reason: notCarried(missing, coverage?.pools) }));
          out.push({ rule, accountId, pools, missing: words.missing, reason: words.reason });
        }
      }
      return out;
    },
  };
}

/** What was noted of one rule and account when it does not pack into a small integer. */
interface Noted {
  pools: number;
  list: number;
}

/** Packed: pools × POOLS_PACKED + the list's index, a small integer (below 2^30) while both are in range. */
const POOLS_PACKED = 1024;
const MOST_POOLS_PACKED = 2 ** 20;

function packNoted(pools: number, list: number): number | Noted {
  return pools < MOST_POOLS_PACKED && list < POOLS_PACKED ? pools * POOLS_PACKED + list : { pools, list };
}

function unpackNoted(noted: number | Noted): Noted {
  return typeof noted === "number" ? { pools: Math.floor(noted / POOLS_PACKED), list: noted % POOLS_PACKED } : noted;
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

/** What `carriedFindings` needs to know of the run: its own reads, what it made, and its rules. */
export interface CarryContext {
  /** This run's coverage row of an account (its id in any case); undefined when the account is not in the results. */
  coverageOf: (accountId: string) => AccountCoverage | undefined;
  /** Rules that could not judge some of an account's pools (`coverage.unjudged`). */
  unjudged: readonly UnjudgedRule[];
  /** Lower-cased ids of accounts not read because Azure refused the certificate API's api-version as retired. */
  unreadAsRetired: ReadonlySet<string>;
  /** Lower-cased ids of accounts a read answered 404 (maybe deleted after the inventory). */
  notFound: ReadonlySet<string>;
  accounts: readonly BatchAccountInfo[];
  rules: readonly RetirementRule[];
  asOf: string;
  /** The findings the run made (read once, only when some open finding is in question). */
  made: Iterable<Pick<Finding, "id" | "accountId">>;
}

/**
 * The ledger's open findings this run could not check, as findings again: open, as last seen, saying why
 * (`notRechecked`), so the report counts them and their owners are still reminded on schedule. Neither gone nor
 * confirmed: tracking neither resolves them nor moves their `lastSeen`. Only where the account is in this run's
 * results (so it exists) and the read its finding depends on failed:
 * - a certificate finding: the account's certificates could not be read (or Azure refused the api-version that shows
 *   them as retired: then the finding says to verify it by hand, as Azure no longer shows certificates);
 * - a pool finding: the account's pools could not be read by any source, or its rule could not judge some of them.
 * Not carried (they stay open, untold): findings the run made itself, of a rule the run did not run, of an account
 * not in the results (out of scope, access removed, or deleted), of an account a read answered 404, or whose own read
 * succeeded (tracking resolves what is gone once the whole account is read). A VM-size rule's finding counts down to
 * the rule's catalogue date for the account's region (the pool's size, which Azure's date depends on, was not read).
 */
export function carriedFindings(states: readonly FindingState[], run: CarryContext): Finding[] {
  const rulesById = new Map(run.rules.map((r) => [r.id.toLowerCase(), r]));
  const open = states.filter((s) => s.resolvedOn === undefined && rulesById.has(ruleOfFindingId(s.findingId).toLowerCase()));
  if (open.length === 0) return [];
  // Keyed only for the accounts of those states (at 100,000 accounts the run's findings, accounts and unjudged pairs
  // are many; the ledger's open findings in question are few).
  const concerned = new Set(open.map((s) => s.accountId.toLowerCase()));
  const madeIds = new Set<string>();
  for (const f of run.made) if (concerned.has(f.accountId.toLowerCase())) madeIds.add(f.id);
  const locations = new Map(run.accounts.filter((a) => concerned.has(a.id.toLowerCase())).map((a) => [a.id.toLowerCase(), a.location]));
  const unjudged = new Map<string, string>();
  for (const u of run.unjudged) if (concerned.has(u.accountId.toLowerCase())) unjudged.set(`${u.rule.toLowerCase()} ${u.accountId.toLowerCase()}`, u.reason);
  const carried: Finding[] = [];
  for (const state of open) {
    if (madeIds.has(state.findingId)) continue;
    const rule = rulesById.get(ruleOfFindingId(state.findingId).toLowerCase())!;
    const account = state.accountId.toLowerCase();
    const coverage = run.coverageOf(account);
    const certificate = state.kind === "account-certificate" || state.kind === "pool-certificate-reference";
    let reason: string | undefined;
    let detail: string | undefined;
    if (certificate && run.unreadAsRetired.has(account) && (coverage === undefined || coverage.certificates === "unknown")) {
      // The certificates were not read because Azure refused the api-version that shows them as retired.
      reason = "Azure refused the api-version that shows certificates as retired";
      detail = `${CERTIFICATES_NOT_SHOWN} (last seen ${state.lastSeen}; the api-version that shows certificates was refused as retired).`;
    } else {
      if (!coverage || run.notFound.has(account)) continue;
      if (state.kind === "account-certificate") {
        if (coverage.certificates === "unknown") reason = `its certificates could not be read (${coverage.reason ?? "failed"})`;
      } else if (coverage.pools === "failed") {
        reason = `its pools could not be read (${coverage.poolsReason ?? coverage.reason ?? "failed"})`;
      } else {
        const notJudged = unjudged.get(`${rule.id.toLowerCase()} ${account}`);
        if (notJudged !== undefined) reason = `its rule could not judge the account's pools (${notJudged})`;
      }
      if (reason === undefined) continue;
      detail = `Not rechecked this run: ${reason}. Last seen ${state.lastSeen}; it stays open until a run can check it.`;
    }
    const due = deadlineFor(rule, locations.get(account), undefined, undefined);
    const finding = findingFromState(state, { asOf: run.asOf, deadline: due.date, deadlineSource: due.source, deadlineConfirmed: due.confirmed, detail });
    if (finding) carried.push({ ...finding, notRechecked: { lastSeen: state.lastSeen, reason } });
  }
  return carried;
}
