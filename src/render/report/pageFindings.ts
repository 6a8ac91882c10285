// The findings in the orders the report's writers read them, and their holding by the daily job from its audit's end.
//
// The JSON and the CSV read the findings in the report's order; the page reads them by urgency (the hero's counts,
// the findings table, its row data) and by owner group (a finding once in each group it belongs to). Held by a run,
// each order is a list deflated in pages (src/core/deflatedJson.ts) that a writer reads a page at a time: made once
// while the findings are whole (urgency and owner groups need them all), so that no writer needs them whole again.
import { DeflatedList, heldList, holdArrayDeflated, type PagedList } from "../../core/deflatedJson.js";
import type { AuditReport, Finding } from "../../core/model.js";
import { NO_OWNER, compareUrgency, isSnoozed, ownersOf, urgencyKey } from "./findingView.js";

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
 * The findings grouped by owner (unowned first, then by critical count, count and owner), each group most urgent first:
 * `byUrgency` must be in urgency order (each group keeps the order of the findings it is given).
 */
export function ownerGroups(byUrgency: readonly Finding[]): { groups: OwnerGroup[]; items: Finding[] } {
  const lists = new Map<string, Finding[]>();
  for (const f of byUrgency) {
    const owners = ownersOf(f);
    for (const o of owners.length ? owners : [NO_OWNER]) {
      const list = lists.get(o) ?? [];
      list.push(f);
      lists.set(o, list);
    }
  }
  // Each group's critical count is counted once, not in every comparison of the sort.
  const entries = [...lists].map(([owner, list]) => ({ owner, list, critical: list.filter((f) => f.severity === "critical").length }));
  // Unowned findings first: nobody will be reminded about them, so they need the reader's attention most.
  entries.sort(
    (a, b) =>
      Number(b.owner === NO_OWNER) - Number(a.owner === NO_OWNER) ||
      b.critical - a.critical ||
      b.list.length - a.list.length ||
      a.owner.localeCompare(b.owner),
  );
  return {
    groups: entries.map(({ owner, list, critical }) => ({ owner, count: list.length, critical })),
    items: entries.flatMap((e) => e.list),
  };
}

/** The page's orders and counts, made from findings that are whole. */
function ordered(report: Pick<AuditReport, "asOf">, findings: readonly Finding[]) {
  // Sorted by keys made once per finding: the comparator made two strings a comparison, some 1.4 million at 100,000
  // accounts (45,000 findings), at the audit's end while the findings are whole.
  const byUrgency = findings
    .map((f) => ({ key: urgencyKey(f), f }))
    .sort((a, b) => compareUrgency(a.key, b.key))
    .map(({ f }) => f);
  let critical = 0;
  let snoozed = 0;
  for (const f of findings) {
    if (f.severity === "critical") critical++;
    if (isSnoozed(f, report.asOf)) snoozed++;
  }
  return { open: findings.length, critical, snoozed, byUrgency, owners: ownerGroups(byUrgency) };
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
 * Findings per deflated page. A page is made as one JSON text: at a kilobyte or two a finding, 64 keep it under V8's
 * largest young-generation object (128 KiB), where 500 made each a large object that only a full collection frees
 * (about 90 MB of them at once at 100,000 accounts: docs/benchmarks.md, twenty-second pass). Small pages suit the
 * sending too, which reads each rendered digest's findings back by position, a page for each it is on (a dry run
 * renders every digest).
 */
const PAGE_SIZE = 64;

/**
 * Holds the report's findings deflated, in the three orders its writers read them: the report's own in its place
 * (`holdArrayDeflated`: reading `report.findings` still gives them all, inflated), by urgency and by owner group for the
 * page. Each finding's migration kit is kept as it is (its recipe is known by the kit's identity). Made once, while
 * the findings are whole; after it tracking, the planning of the mail and the writers read a page of them at a time
 * (`pagesOf`), and the report holds no finding as an object: at 100,000 accounts the 45,000 findings were about 50 MB
 * of the heap (docs/benchmarks.md, nineteenth pass). A copy of the report made with `copyWith` holds the same lists,
 * and gives the page the same orders. Answers the bytes held.
 */
export function holdReportFindings(report: AuditReport): number {
  const byReference = { byReference: ["migration"] };
  let bytes = 0;
  const page = pageOf(ordered(report, report.findings), (values) => {
    const list = new DeflatedList(values, PAGE_SIZE, byReference);
    bytes += list.bytes;
    return list;
  });
  bytes += holdArrayDeflated(report, "findings", [], { ...byReference, pageSize: PAGE_SIZE });
  const from = heldList<Finding>(report, "findings");
  if (from) held.set(from, page);
  return bytes;
}
