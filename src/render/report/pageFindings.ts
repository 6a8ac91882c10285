// The findings in the orders the report's writers read them, and their holding by the daily job from its audit's end.
//
// The JSON and the CSV read the findings in the report's order; the page reads them by urgency (the hero's counts,
// the findings table, its row data) and by owner group (a finding once in each group it belongs to). Held by a run,
// each order is a list deflated in pages (src/core/deflatedJson.ts) that a writer reads a page at a time: the page's
// two are made once from the report's, sorted in runs held deflated, so that neither they nor a writer need the
// findings whole.
import { DeflatedList, eachOf, heldList, holdArrayDeflated, type PagedList } from "../../core/deflatedJson.js";
import { DeflatedSort } from "../../core/deflatedSort.js";
import { FINDINGS_PAGE_SIZE, type AuditReport, type Finding } from "../../core/model.js";
import { NO_OWNER, compareUrgency, isSnoozed, ownersOf, urgencyKey, type UrgencyKey } from "./findingView.js";

/** An owner's group on the page: its owner (NO_OWNER for the unowned), how many findings, how many critical. */
export interface OwnerGroup {
  owner: string;
  count: number;
  critical: number;
}

/** What the page reads of the findings. */
export interface PageFindings {
  open: number;
  critical: number;
  snoozed: number;
  /** Every finding, most urgent first. */
  byUrgency: PagedList<Finding>;
  /** The owner groups in page order, and each group's findings (most urgent first) one group after another. */
  owners: { groups: readonly OwnerGroup[]; items: PagedList<Finding> };
}

/** A page of findings as it is: what a report that holds its findings as an array gives. */
function asList<T>(values: readonly T[]): PagedList<T> {
  return { length: values.length, pages: () => [values] };
}

/**
 * What the page counts of the findings, read once in any order: how many, how many critical and snoozed, and the
 * owner groups (a finding in each of its owners' groups, or the unowned one) with their counts, in the page's order.
 */
function tally(findings: Iterable<Finding>, asOf: string): { open: number; critical: number; snoozed: number; groups: OwnerGroup[] } {
  let open = 0;
  let critical = 0;
  let snoozed = 0;
  const groups = new Map<string, OwnerGroup>();
  for (const f of findings) {
    open++;
    if (f.severity === "critical") critical++;
    if (isSnoozed(f, asOf)) snoozed++;
    for (const owner of ownersIn(f)) {
      const group = groups.get(owner) ?? { owner, count: 0, critical: 0 };
      group.count++;
      if (f.severity === "critical") group.critical++;
      groups.set(owner, group);
    }
  }
  return { open, critical, snoozed, groups: [...groups.values()].sort(compareGroups) };
}

/** The owner groups a finding is in: each of its owners, or the unowned group. */
function ownersIn(f: Finding): readonly string[] {
  const owners = ownersOf(f);
  return owners.length ? owners : [NO_OWNER];
}

/** The page's order of owner groups: unowned first (nobody will be reminded about them, so they need the reader's attention most), then by critical count, count and owner. */
function compareGroups(a: OwnerGroup, b: OwnerGroup): number {
  return (
    Number(b.owner === NO_OWNER) - Number(a.owner === NO_OWNER) ||
    b.critical - a.critical ||
    b.count - a.count ||
    a.owner.localeCompare(b.owner) ||
    // Owners the locale calls equal, in a fixed order too (not the order they were first met in, which differs by path).
    (a.owner < b.owner ? -1 : a.owner > b.owner ? 1 : 0)
  );
}

/** The page's orders and counts, made from findings that are whole (a report that holds them as an array). */
function ordered(report: Pick<AuditReport, "asOf">, findings: readonly Finding[]) {
  // Sorted by keys made once per finding: the comparator made two strings a comparison, some 1.4 million at 100,000
  // accounts (45,000 findings).
  const byUrgency = findings
    .map((f) => ({ key: urgencyKey(f), f }))
    .sort((a, b) => compareUrgency(a.key, b.key))
    .map(({ f }) => f);
  const { open, critical, snoozed, groups } = tally(findings, report.asOf);
  // Each group's findings most urgent first, one group after another.
  const lists = new Map<string, Finding[]>();
  for (const f of byUrgency) {
    for (const owner of ownersIn(f)) {
      const list = lists.get(owner) ?? [];
      list.push(f);
      lists.set(owner, list);
    }
  }
  return { open, critical, snoozed, byUrgency, owners: { groups, items: groups.flatMap((g) => lists.get(g.owner) ?? []) } };
}

/** The page's findings from `ordered`'s, each of its two orders made a list by `list`. */
function pageOf(made: ReturnType<typeof ordered>, list: (values: readonly Finding[]) => PagedList<Finding>): PageFindings {
  const { open, critical, snoozed, byUrgency, owners } = made;
  return { open, critical, snoozed, byUrgency: list(byUrgency), owners: { groups: owners.groups, items: list(owners.items) } };
}

/**
 * The page's findings by the held list of findings they were made from (holdReportFindings): whichever report holds
 * that list (a copy of the report holds the same one: copyWith) gives them.
 */
const held = new WeakMap<PagedList<Finding>, PageFindings>();

/**
 * The page's findings: held deflated by the run that made the report, or made from its findings (also where findings
 * were assigned in place of the held ones since).
 */
export function pageFindings(report: AuditReport): PageFindings {
  const from = heldList<Finding>(report, "findings");
  const kept = from && held.get(from);
  if (kept) return kept;
  return pageOf(ordered(report, report.findings), asList);
}

/**
 * Holds the report's findings deflated, in the three orders its writers read them: the report's own in its place
 * (the audit holds it so already: `auditTenant`; a report that holds them as an array is held here, with
 * `holdArrayDeflated`), and by urgency and by owner group for the page. The page's two are made from the report's a
 * page at a time, each sorted in runs held deflated (src/core/deflatedSort.ts), so that no finding is held as an
 * object for longer than a run: at 100,000 accounts the 45,000 findings were about 50 MB of the heap as objects
 * (docs/benchmarks.md, nineteenth pass). Each finding's migration kit is kept as it is (its recipe is known by the
 * kit's identity). A copy of the report made with `copyWith` holds the same lists, and gives the page the same
 * orders. Answers the bytes held.
 */
export function holdReportFindings(report: AuditReport): number {
  const byReference = ["migration"];
  if (!heldList(report, "findings")) holdArrayDeflated(report, "findings", [], { byReference, pageSize: FINDINGS_PAGE_SIZE });
  const from = heldList<Finding>(report, "findings");
  if (!from) return 0;
  let bytes = from.bytes;
  const list = () => new DeflatedList<Finding>([], FINDINGS_PAGE_SIZE, { byReference });
  // By urgency: sorted by keys made once per finding as it is added, and again as it is read back to be merged.
  const urgency = new DeflatedSort<Finding, UrgencyKey>({ key: urgencyKey, compare: compareUrgency, pageSize: FINDINGS_PAGE_SIZE, byReference });
  // The counts and the owner groups' order do not depend on the findings' order: taken on this first read, which adds
  // each finding to the urgency sort too.
  const { open, critical, snoozed, groups } = tally(adding(eachOf(from.pages()), urgency), report.asOf);
  // By owner group: each group's findings in urgency order, the groups in the page's order (a finding once in each
  // group it belongs to), sorted by the group's place and the finding's place by urgency, as the urgency order is read.
  const place = new Map(groups.map((g, i) => [g.owner, i]));
  const byGroup = new DeflatedSort<Finding, [number, number]>({ compare: (a, b) => a[0] - b[0] || a[1] - b[1], pageSize: FINDINGS_PAGE_SIZE, byReference });
  const byUrgency = list();
  let at = 0;
  for (const f of urgency.sorted()) {
    byUrgency.push(f);
    for (const owner of ownersIn(f)) byGroup.add(f, [place.get(owner) as number, at]);
    at++;
  }
  byUrgency.done();
  const items = list();
  for (const f of byGroup.sorted()) items.push(f);
  items.done();
  bytes += byUrgency.bytes + items.bytes;
  held.set(from, { open, critical, snoozed, byUrgency, owners: { groups, items } });
  return bytes;
}

/** The findings as they are read, each added to `sort` first. */
function* adding(findings: Iterable<Finding>, sort: DeflatedSort<Finding, UrgencyKey>): Generator<Finding> {
  for (const f of findings) {
    sort.add(f);
    yield f;
  }
}
