// The audit's reads per Batch account, and its pools judged as they arrive. Per account: its certificates, then its
// pools from the Batch API when they can matter; Resource Graph's pool rows are judged by the rules page by page, so
// that no stage holds every pool of a large tenant (500,000 at 100,000 accounts): only the pools the Batch API's list
// is merged with (accounts with certificates, or whose reads have not finished yet) wait for the end.
import { AuditError, ensureError, isFatal } from "./errors.js";
import { ResourceIdMap, sameResourceId } from "./ids.js";
import { StartQueue } from "./startQueue.js";
import type { AccountPlace, findingJudge } from "./findings.js";
import { DeflatedStore, type Deflated } from "./deflatedJson.js";
import { holdPools, poolsHeld, type HeldPools } from "./heldPools.js";
import { isMigratedPool } from "./migrationKit.js";
import { mergePoolEvidence, poolsFromReportedRows } from "./poolEvidence.js";
import type { AccountCertificate, AccountCoverage, Awaitable, BatchAccountInfo, Finding, PoolCoverageSource, PoolInfo } from "./model.js";
import type { AccountPoolReader, AuditProgress, CertificateLister, PoolLister, ReadOptions, ReportedPool } from "./ports.js";

export interface AccountReadDependencies {
  certificates: CertificateLister;
  pools: PoolLister;
  /** Resource Graph's pools of some accounts: the stand-in when the Batch API could not list them. */
  accountPools?: AccountPoolReader["readAccountPools"];
  concurrency: number;
  onProgress?: (progress: AuditProgress) => void;
}

/** How pools become findings (src/core/findings.ts), where they run (regions), and what could not be judged. */
export interface PoolJudging {
  judge: ReturnType<typeof findingJudge>;
  /** Sets `facts.location` on the pools (src/core/ruleReads.ts `locator`). */
  locate: (pools: readonly PoolInfo[], location: string | undefined) => void;
  /** A region with a pool judged in it, and a subscription to read its VM sizes through. */
  noteRegion: (location: string, subscriptionId: string) => void;
  /** Drops the "could not judge" notes of an account whose pools are judged again. */
  forgetUnjudged: (accountId: string) => void;
  /**
   * Takes an account's findings, the account's and its pools' together, when the account is gathered once every read
   * is done (most are made then; an account judged from Resource Graph's rows alone keeps its own from its rows until
   * then): the gathering keeps none of them.
   */
  found: (made: readonly Finding[]) => void;
}

/** What the reads gave, once every account's reads are done and every pool is judged. */
export interface AccountReadsResult {
  /** The certificates of each account with a pool certificate finding (what its kit reads), by lower-cased id. */
  certificates: Map<string, AccountCertificate[] | "unknown">;
  /**
   * The pools a migration kit may rebuild: those with certificate references, and every pool of an account with a pool
   * finding open in the ledger (the names of the others are in `poolNames`).
   */
  kitPools: PoolInfo[];
  /** Per account with a pool certificate finding: every pool name read in it, from any source (a replacement must not take one). */
  poolNames: Map<string, string[]>;
  accounts: AccountCoverage[];
  /** Accounts with pools in Resource Graph that were not in the account list. */
  unlisted: AccountPlace[];
  migratedPools: number;
  certificateApiRetired: string | undefined;
  unreadAsRetired: Set<string>;
  /** Accounts a read answered 404 (deleted after the inventory, or not visible): lower-cased ids. */
  notFound: Set<string>;
}

/**
 * Reads started at once when the lister paces itself: far more than it keeps going (twice its requests in flight),
 * so it always has calls of many subscriptions to choose from; a subscription may hold a quarter of them (a hot
 * subscription's reads wait in the lister for its bucket, the others' go on beside them).
 */
const PACED_READS_STARTED = 1024;
/** Why an account's pools come from Resource Graph's rows alone once Azure refused the api-version as retired. */
const POOLS_FROM_GRAPH_AS_RETIRED = "the Batch API no longer answers at the api-version that shows certificates; pools from Resource Graph's rows";
const PACED_READS_STARTED_PER_SUBSCRIPTION = 256;

/** What one account's reads gave, and its Resource Graph pools on their way to findings. */
interface AccountRead {
  account: BatchAccountInfo;
  /** How many certificates the account has; "unknown" when the list could not be read. */
  certificates: number | "unknown";
  /** The list, when there are some: held outside the heap until the reads are gathered (./deflatedJson.ts). */
  heldCertificates?: Deflated<AccountCertificate[]>;
  certificatesReason?: string;
  /** A read of the account answered 404: deleted after the inventory, or not visible. */
  notFound?: boolean;
  /**
   * The Batch API's pools, held outside the heap until they are merged (./heldPools.ts): configurations only of pools with
   * references. Undefined when not read (not needed) or when the read failed.
   */
  batchPools?: HeldPools;
  /** Of those, the names of the pools already migrated (a Key Vault extension and no certificate references). */
  migratedPools?: string[];
  poolsError?: string;
  /** Not read because Azure refused the certificate API's api-version as retired (said once, in the coverage). */
  retired?: boolean;
  /**
   * Undefined while the account's reads are going on (its Resource Graph pools wait in `held`). "graph": no Batch pool
   * list is needed, so each Resource Graph pool is judged as it comes and let go. "merge": its Resource Graph pools
   * wait in `held` for the Batch API's list (or its stand-in) and are judged with it at the end.
   */
  mode?: "graph" | "merge";
  held: PoolInfo[];
  /**
   * Lower-cased names of the pools Resource Graph showed: each pool once, however often its row came. One string of
   * the names joined by NAME_SEPARATOR while they are few (most accounts have a few pools), a set once they are many
   * (or a name holds the separator): at 100,000 accounts a set each was 40 MB of tables, an array of strings each 25 MB.
   */
  graphNames: string | Set<string>;
  /** "graph" mode: the findings made so far. */
  findings: Finding[];
  /**
   * Switched from "graph" to "merge" by references in a later row: the findings made before. Dropped (and the pools'
   * unjudged notes forgotten) when every pool is judged again from a whole list; kept when only the rows held since
   * the switch are left to judge (the pool list could not be read, or was refused as retired).
   */
  provisional?: Finding[];
}

/**
 * Per account: its certificates, then its pools from the Batch API when they can matter, that is when the
 * certificate list is non-empty or could not be read (a 403 or a removed API on `certificates` says nothing about
 * `pools`), when the ledger has a pool finding open in it, or when Resource Graph shows references. An account whose
 * certificate list was read and is empty needs no pool read: Batch refuses to delete a certificate that a pool still
 * references. Reads start as accounts become known (each account once); pools are judged as they arrive; the rest is
 * gathered when all are done, with Resource Graph standing in for pools the Batch API could not list, where its rows
 * carry the `certificates` key.
 */
export function accountReads(deps: AccountReadDependencies, judging: PoolJudging, readOptions: ReadOptions, openPoolFindingsArriving: Awaitable<ReadonlySet<string>>) {
  // The job reads the ledger while the first accounts' certificates are read: each read waits for it only to decide
  // on its pools (a failed ledger read fails the reads that wait for it, and so the audit).
  const openPoolFindings = Promise.resolve(openPoolFindingsArriving);
  // A lister that paces itself (concurrency Infinity) is still not handed every account at once: at 100,000
  // accounts the reads waiting in it (each a suspended call with its promises, about a kilobyte) were most of the
  // heap while the inventory outran the Batch calls. Accounts wait here instead, in their subscription's turn, with
  // a bound per subscription so that a throttled one never holds the room the others need.
  const queue =
    deps.concurrency === Infinity
      ? new StartQueue(PACED_READS_STARTED, PACED_READS_STARTED_PER_SUBSCRIPTION)
      : new StartQueue(Math.max(1, deps.concurrency), Math.max(1, deps.concurrency));
  // By account id, case-insensitively, with no copy of the ids (at 100,000 accounts each copy of the keys is about 14 MB).
  const reads = new ResourceIdMap<AccountRead>((entry) => entry.account.id);
  /** Pools of accounts not (yet) in the account list, by lower-cased account id, then lower-cased pool id. */
  const unlistedPools = new Map<string, Map<string, PoolInfo>>();
  /** Pools with references of accounts judged from Resource Graph alone (their kits name them). */
  const referencingPools: PoolInfo[] = [];
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
  /** The Batch API's pools and the certificate lists, held until the reads are gathered (./deflatedJson.ts). */
  const store = new DeflatedStore();
  /** The account's certificates: "unknown" when the list could not be read, else the list (read back when held). */
  const certificatesOf = (entry: AccountRead): AccountCertificate[] | "unknown" =>
    entry.certificates === "unknown" ? "unknown" : entry.heldCertificates === undefined ? NONE : store.get(entry.heldCertificates);
  /**
   * The Batch API's pools of an account, read back for Resource Graph's rows of it that come after: kept for the last
   * account asked, since an account's rows come together (pages are ordered by id).
   */
  let lastListed: { entry: AccountRead; pools: PoolInfo[] | undefined } | undefined;
  const listedOf = (entry: AccountRead): PoolInfo[] | undefined => {
    if (lastListed?.entry !== entry) lastListed = { entry, pools: entry.batchPools === undefined ? undefined : poolsHeld(store, entry.account, entry.batchPools) };
    return lastListed.pools;
  };
  /**
   * Whether a Resource Graph pool adds anything to the account's Batch API list once that is read (otherwise it need
   * not be held): its references (a union, a disagreement said), a pool the list does not have but with references,
   * or a fact the list's pool does not carry. The Batch API's facts carry every property, so a pool without
   * references that the list has adds nothing, and one the list does not have is left out by the merge anyway.
   */
  const adds = (entry: AccountRead, pool: PoolInfo): boolean => {
    if (pool.certificateReferences.length > 0) return true;
    const batchPools = listedOf(entry);
    if (!batchPools) return true;
    const listed = listedPool(batchPools, pool.name);
    if (!listed) return false;
    const facts = pool.facts ?? {};
    const carried = listed.facts ?? {};
    return Object.keys(facts).some((key) => key !== "location" && (facts as Record<string, unknown>)[key] !== undefined && (carried as Record<string, unknown>)[key] === undefined);
  };

  const readPools = async (entry: AccountRead) => {
    try {
      const listed = await deps.pools.listPools(entry.account, readOptions);
      // Counted now; the pools are held until the reads are gathered (./heldPools.ts).
      entry.migratedPools = listed.filter((p) => isMigratedPool(p.configuration, p.certificateReferences.length)).map((p) => p.name);
      entry.batchPools = holdPools(store, listed);
      // The account's rows that come next are checked against this list as it is.
      lastListed = { entry, pools: listed };
      // Resource Graph's pools held so far that the merge would not take anything from are let go.
      if (entry.mode === "merge") entry.held = entry.held.filter((p) => adds(entry, p));
    } catch (error) {
      if (isFatal(error)) throw error;
      if (refusedAsRetired(error, entry)) return;
      entry.poolsError = ensureError(error).message;
      if (error instanceof AuditError && error.code === "BATCH.NOT_FOUND") entry.notFound = true;
    }
  };
  const readPoolsLater = (entry: AccountRead) =>
    queue.add(entry.account.subscriptionId.toLowerCase(), async () => {
      if (fatal) return;
      try {
        await readPools(entry);
      } catch (error) {
        fatal ??= error;
      }
    });

  /**
   * An account whose certificate list is empty while Resource Graph shows references (dangling references): its
   * pools are read from the Batch API as well, so the finding says what the pool holds now.
   */
  const danglingReferences = (entry: AccountRead, pools: readonly PoolInfo[]) =>
    !entry.retired && entry.certificates === 0 && entry.batchPools === undefined && entry.poolsError === undefined && pools.some((p) => p.certificateReferences.length > 0);

  /** Resource Graph's pools of an account in "graph" mode, judged now and let go (those with references are kept for kits). */
  const judgeFromGraph = (entry: AccountRead, pools: readonly PoolInfo[]) => {
    if (pools.length === 0) return;
    judging.locate(pools, entry.account.location);
    const evidence = mergePoolEvidence(undefined, pools);
    for (const pool of evidence) if (pool.certificateReferences.length > 0) referencingPools.push(pool);
    judging.noteRegion(entry.account.location, entry.account.subscriptionId);
    const made = judging.judge(entry.account, entry.account, certificatesOf(entry), evidence, false);
    // A copy of the exact length (an array grown by push keeps room for more, in every account's entry).
    if (made.length > 0) entry.findings = entry.findings.concat(made);
  };

  /** The account's reads are done: whether its pools need the Batch API's list decides how they are judged. */
  const settle = (entry: AccountRead) => {
    if (entry.batchPools !== undefined || entry.poolsError !== undefined) {
      entry.mode = "merge";
      if (entry.held.length > 0) entry.held = entry.held.filter((p) => adds(entry, p));
    } else if (danglingReferences(entry, entry.held)) {
      entry.mode = "merge";
      readPoolsLater(entry);
    } else if (entry.certificates !== "unknown" && entry.certificates > 0) {
      // Certificates read but the pools refused as retired: each certificate's finding names every pool that uses
      // it, so the account is judged once, with all of Resource Graph's rows, at the end.
      entry.mode = "merge";
    } else {
      entry.mode = "graph";
      judgeFromGraph(entry, entry.held);
      entry.held = NONE;
    }
  };

  const read = async (entry: AccountRead) => {
    if (fatal) return;
    const account = entry.account;
    try {
      // Each account is asked (its own answer decides it, whatever the others got); one call, as before.
      try {
        const listed = await deps.certificates.listCertificates(account, readOptions);
        // Held first: should that fail, the list counts as not read.
        if (listed.length > 0) entry.heldCertificates = store.put(listed);
        entry.certificates = listed.length;
      } catch (error) {
        if (isFatal(error)) throw error;
        // A failure is never "no certificates": the account is reported as failed and its certificates unknown.
        if (!refusedAsRetired(error, entry)) entry.certificatesReason = ensureError(error).message;
        if (error instanceof AuditError && error.code === "BATCH.NOT_FOUND") entry.notFound = true;
      }
      // The pools are read at the same api-version: refused the same way, so not asked once it was refused.
      const needPools = entry.certificates !== 0 || (await openPoolFindings).has(account.id.toLowerCase());
      if (!entry.retired && needPools) await readPools(entry);
      settle(entry);
    } catch (error) {
      fatal ??= error;
    }
    deps.onProgress?.({ phase: "certificates", done: ++done, total: reads.size });
  };

  const start = (arrived: readonly BatchAccountInfo[]): void => {
    for (const account of arrived) {
      if (reads.get(account.id)) continue;
      // Every field set later on most accounts is in the literal (one added later costs a property array each).
      const entry: AccountRead = { account, certificates: "unknown", held: NONE, graphNames: "", findings: NONE, mode: undefined };
      reads.set(entry);
      // Pools that came before their account (a reader that does not list accounts first) wait with it.
      if (unlistedPools.size > 0) {
        const key = account.id.toLowerCase();
        const early = unlistedPools.get(key);
        if (early) {
          unlistedPools.delete(key);
          for (const pool of early.values()) take(entry, pool);
        }
      }
      queue.add(account.subscriptionId.toLowerCase(), () => read(entry));
    }
  };

  /** One Resource Graph pool of a listed account: returned when it is to be judged now ("graph" mode), else held or seen already. */
  const take = (entry: AccountRead, pool: PoolInfo): PoolInfo | undefined => {
    if (!addName(entry, pool.name.toLowerCase())) return undefined;
    if (entry.mode !== "graph") {
      if (adds(entry, pool)) hold(entry, [pool]);
      return undefined;
    }
    if (danglingReferences(entry, [pool])) {
      // Judged from Resource Graph so far: judged again at the end from the Batch API's list (or Resource Graph's
      // rows read again), or, should neither be had, from the pools held from now on beside what was judged so far.
      entry.mode = "merge";
      entry.provisional = entry.findings;
      entry.findings = NONE;
      hold(entry, [pool]);
      readPoolsLater(entry);
      return undefined;
    }
    return pool;
  };

  /** Resource Graph's pools as their pages arrive. */
  const pools = (page: readonly PoolInfo[]): void => {
    let batch: PoolInfo[] = [];
    let batchEntry: AccountRead | undefined;
    const flush = () => {
      if (batchEntry) judgeFromGraph(batchEntry, batch);
      batch = [];
      batchEntry = undefined;
    };
    for (const pool of page) {
      const entry = reads.get(pool.accountId);
      if (!entry) {
        const key = pool.accountId.toLowerCase();
        let list = unlistedPools.get(key);
        if (!list) unlistedPools.set(key, (list = new Map()));
        if (!list.has(pool.id.toLowerCase())) list.set(pool.id.toLowerCase(), pool);
        continue;
      }
      const now = take(entry, pool);
      if (entry === batchEntry && entry.mode === "merge") {
        // Its references came on this page: the pools before them wait for the Batch API's list with the rest.
        hold(entry, batch);
        batch = [];
        batchEntry = undefined;
      }
      if (!now) continue;
      // Pages come ordered by id, so an account's pools come together: judged per run of one account.
      if (entry !== batchEntry) flush();
      batchEntry = entry;
      batch.push(now);
    }
    flush();
  };

  return {
    start,
    pools,
    async finished(): Promise<AccountReadsResult> {
      await queue.idle();
      if (fatal) throw fatal;
      lastListed = undefined;
      const accountsWithOpenPoolFindings = await openPoolFindings;

      const fallback = await graphFallback(deps, readOptions, [...reads.values()].filter((e) => e.poolsError !== undefined).map((e) => e.account));
      const certificates = new Map<string, AccountCertificate[] | "unknown">();
      const kitPools: PoolInfo[] = [...referencingPools];
      const poolNames = new Map<string, string[]>();
      const coverage: AccountCoverage[] = [];
      let migratedPools = 0;
      /** Every pool of the account from a whole list: what was judged before from Resource Graph alone is dropped. */
      const judgeAll = (entry: AccountRead, accountCertificates: AccountCertificate[] | "unknown", merged: PoolInfo[]) => {
        if (entry.provisional) judging.forgetUnjudged(entry.account.id);
        return judgeMerged(entry, accountCertificates, merged, false);
      };
      /** The names of the pools judged for the account being gathered (every source: a stand-in's rows too). */
      let mergedNames: string[] = [];
      const judgeMerged = (entry: AccountRead, accountCertificates: AccountCertificate[] | "unknown", merged: PoolInfo[], poolsUnknown: boolean) => {
        judging.locate(merged, entry.account.location);
        if (merged.length > 0) judging.noteRegion(entry.account.location, entry.account.subscriptionId);
        // A kit rebuilds only a pool with certificate references (at 100,000 accounts every pool read was about 30 MB
        // held to the kits); the names of the others, which a replacement must not take, go to the account's
        // `poolNames`. An account with a pool finding open in the ledger keeps every pool: a finding carried because
        // the references could not be read this run is rebuilt from the pool as it was read.
        const keepAll = accountsWithOpenPoolFindings.has(entry.account.id.toLowerCase());
        for (const pool of merged) if (keepAll || pool.certificateReferences.length > 0) kitPools.push(pool);
        mergedNames = merged.map((p) => p.name);
        return judging.judge(entry.account, entry.account, accountCertificates, merged, poolsUnknown);
      };
      const unreadAsRetired = new Set<string>();
      const notFound = new Set<string>();
      // Every account once, in about the order they came (ids/ResourceIdMap), each let go once gathered: the rest of
      // the audit (kits, owners, the report) needs only what is taken from it here, and sorts what it reports. Its
      // lower-cased id is made here, kept only where it is taken.
      for (const entry of reads.values()) {
        reads.delete(entry.account.id);
        const key = entry.account.id.toLowerCase();
        mergedNames = [];
        if (entry.retired) unreadAsRetired.add(key);
        if (entry.notFound) notFound.add(key);
        const account = entry.account;
        const accountCertificates = certificatesOf(entry);
        let source: PoolCoverageSource;
        let poolsReason: string | undefined;
        let made: Finding[];
        if (entry.mode === "graph") {
          if (entry.retired) {
            // Resource Graph's rows are all there is; whether they carry references depends on its api-version.
            source = "resource-graph";
            poolsReason = POOLS_FROM_GRAPH_AS_RETIRED;
          } else source = "not-needed";
          made = entry.findings;
        } else if (entry.batchPools !== undefined) {
          source = "batch-api";
          migratedPools += entry.migratedPools?.length ?? 0;
          made = judgeAll(entry, accountCertificates, mergePoolEvidence(poolsHeld(store, account, entry.batchPools), entry.held));
        } else if (entry.poolsError !== undefined) {
          const stand = fallback.get(key) ?? { failed: "Resource Graph was not asked" };
          if ("pools" in stand) {
            source = "resource-graph";
            poolsReason = `the Batch API could not list pools (${entry.poolsError}); read from Resource Graph instead`;
            made = judgeAll(entry, accountCertificates, mergePoolEvidence(undefined, dedupeById([...entry.held, ...stand.pools])));
          } else {
            source = "failed";
            poolsReason = `${entry.poolsError}; ${stand.failed}`;
            made = [...(entry.provisional ?? []), ...judgeMerged(entry, accountCertificates, mergePoolEvidence(undefined, entry.held), true)];
          }
        } else {
          // Refused as retired (the pool list, or the read for dangling references): Resource Graph's rows are all there is.
          source = "resource-graph";
          poolsReason = POOLS_FROM_GRAPH_AS_RETIRED;
          made = [...(entry.provisional ?? []), ...judgeMerged(entry, accountCertificates, mergePoolEvidence(undefined, entry.held), false)];
        }
        judging.found(made);
        // A kit reads the certificates and pool names of its account only (an account the retirement left unread
        // may get kits for the ledger's open pool findings, carried into the report after this).
        if (entry.retired || made.some((f) => f.kind === "pool-certificate-reference")) {
          certificates.set(key, accountCertificates);
          // The pools judged hold every Batch API pool (the merge keeps each), and Resource Graph's names the rest.
          poolNames.set(key, namesOf(entry.graphNames).concat(mergedNames));
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
          certificates: entry.certificates,
          pools: source,
          ...(poolsReason === undefined ? {} : { poolsReason }),
          ...(entry.migratedPools?.length ? { migratedPools: entry.migratedPools } : {}),
        });
      }
      store.clear();
      // Pools of accounts that are not in the account list stay, their certificates unknown (the account is reported
      // as a coverage problem).
      const unlisted: AccountPlace[] = [];
      for (const list of unlistedPools.values()) {
        const pools = [...list.values()];
        const first = pools[0] as PoolInfo;
        const place = { id: first.accountId, name: first.accountName, subscriptionId: first.subscriptionId, resourceGroup: first.resourceGroup };
        unlisted.push(place);
        kitPools.push(...pools);
        judging.found(judging.judge(place, undefined, "unknown", mergePoolEvidence(undefined, pools), false));
      }
      coverage.sort((a, b) => a.id.toLowerCase().localeCompare(b.id.toLowerCase()));
      return { certificates, kitPools, poolNames, accounts: coverage, unlisted, migratedPools, certificateApiRetired: retired, unreadAsRetired, notFound };
    },
  };
}

/** Resource Graph's pools of the accounts whose pools the Batch API could not list, each usable or with the reason. */
async function graphFallback(deps: AccountReadDependencies, readOptions: ReadOptions, accounts: BatchAccountInfo[]): Promise<Map<string, { pools: PoolInfo[] } | { failed: string }>> {
  const result = new Map<string, { pools: PoolInfo[] } | { failed: string }>();
  if (accounts.length === 0) return result;
  const reader = deps.accountPools;
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

/**
 * The empty list every account starts with (and most keep: no pools held, no findings, no certificates), one for
 * all: at 100,000 accounts an empty array each was about 10 MB. Frozen, so nothing can add to it by mistake; lists
 * are replaced, never pushed onto while empty.
 */
const NONE: never[] = Object.freeze([]) as unknown as never[];

/** Adds pools to those the account holds for the Batch API's list. */
function hold(entry: AccountRead, pools: PoolInfo[]): void {
  if (pools.length === 0) return;
  if (entry.held === NONE) entry.held = pools.slice();
  else entry.held.push(...pools);
}

/** Between the names in an account's `graphNames` string: a line break, which no Batch pool id may hold (letters, digits, hyphens, underscores). */
const NAME_SEPARATOR = "\n";
/** How long the `graphNames` string grows before the names move to a set (a look-up scans the string). */
const NAMES_JOINED_CHARS = 512;

/** Adds a pool name to the account's; false when it was there already. */
function addName(entry: AccountRead, name: string): boolean {
  const names = entry.graphNames;
  if (typeof names === "string") {
    if (name !== "" && !name.includes(NAME_SEPARATOR) && names.length + name.length < NAMES_JOINED_CHARS) {
      if (names === "") {
        entry.graphNames = name;
        return true;
      }
      if (`${NAME_SEPARATOR}${names}${NAME_SEPARATOR}`.includes(`${NAME_SEPARATOR}${name}${NAME_SEPARATOR}`)) return false;
      // Joined into a new flat string (`+` would make a tree of the pieces, holding every earlier string).
      entry.graphNames = [names, name].join(NAME_SEPARATOR);
      return true;
    }
    entry.graphNames = new Set(namesOf(names));
  }
  const set = entry.graphNames as Set<string>;
  if (set.has(name)) return false;
  set.add(name);
  return true;
}

/** The names in an account's `graphNames`. */
function namesOf(names: string | Set<string>): string[] {
  if (typeof names !== "string") return [...names];
  return names === "" ? [] : names.split(NAME_SEPARATOR);
}

/**
 * The Batch API's pools of long lists by lower-cased name, made when first needed. Most accounts list a few pools,
 * found by a scan: a map each was 3 MB at 100,000 accounts (10,000 with certificates) while the reads ended.
 */
const byNameOf = new WeakMap<readonly PoolInfo[], Map<string, PoolInfo>>();
const SCANNED_POOLS = 32;

/** The pool of the Batch API's list with this name, letter case aside. */
export function listedPool(pools: readonly PoolInfo[], name: string): PoolInfo | undefined {
  if (pools.length <= SCANNED_POOLS) return pools.find((p) => sameResourceId(p.name, name));
  let byName = byNameOf.get(pools);
  if (!byName) byNameOf.set(pools, (byName = new Map(pools.map((p) => [p.name.toLowerCase(), p]))));
  return byName.get(name.toLowerCase());
}

