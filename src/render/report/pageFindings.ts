// The findings in the orders the report's writers read them, and their holding by the daily job once it has tracked them.
//
// The JSON and the CSV read the findings in the report's order; the page reads them by urgency (the hero's counts,
// the findings table, its row data) and by owner group (a finding once in each group it belongs to). Held by a run,
// each order is a list deflated in pages (src/core/deflatedJson.ts) that a writer reads a page at a time: made once
// while the findings are whole (urgency and owner groups need them all), so that no writer needs them whole again.
import { DeflatedList, holdArrayDeflated, type PagedList } from "../../core/deflatedJson.js";
import type { AuditReport, Finding } from "../../core/model.js";
import { NO_OWNER, isSnoozed, ownersOf, urgency } from "./findingView.js";

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

/** The findings grouped by owner (unowned first, then by critical count, count and owner), from the urgency order. */
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
  // Each group's critical count is counted once, not in every comparison of the sort. Each list is in urgency order
  // already (the sort is stable: it keeps it so).
  const entries = [...lists].map(([owner, list]) => ({ owner, list: list.sort(urgency), critical: list.filter((f) => f.severity === "critical").length }));
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
  const byUrgency = [...findings].sort(urgency);
  let critical = 0;
  let snoozed = 0;
  for (const f of findings) {
    if (f.severity === "critical") critical++;
    if (isSnoozed(f, report.asOf)) snoozed++;
  }
  return { open: findings.length, critical, snoozed, byUrgency, owners: ownerGroups(byUrgency) };
}

/** What reports whose findings a run holds deflated give the page (holdReportFindings). */
const held = new WeakMap<AuditReport, PageFindings>();

/** The page's findings: held deflated by the run that made the report, or made from its findings. */
export function pageFindings(report: AuditReport): PageFindings {
  const kept = held.get(report);
  if (kept) return kept;
  const made = ordered(report, report.findings);
  return { ...made, byUrgency: asList(made.byUrgency), owners: { groups: made.owners.groups, items: asList(made.owners.items) } };
}

/**
 * Holds the report's findings deflated, in the three orders its writers read them: the report's own in its place
 * (`holdArrayDeflated`: reading `report.findings` still gives them all, inflated, as the planning of the mail does
 * once), by urgency and by owner group for the page. Each finding's migration kit is kept as it is (its recipe is
 * known by the kit's identity). Made once, while the findings are whole; after it the writers read a page of 500
 * findings at a time, and the report holds no finding as an object: at 100,000 accounts the 45,000 findings were about
 * 50 MB of the heap (docs/benchmarks.md, nineteenth pass). Answers the bytes held.
 */
export function holdReportFindings(report: AuditReport): number {
  const { open, critical, snoozed, byUrgency, owners } = ordered(report, report.findings);
  const byReference = { byReference: ["migration"] };
  const urgent = new DeflatedList(byUrgency, 500, byReference);
  const grouped = new DeflatedList(owners.items, 500, byReference);
  held.set(report, { open, critical, snoozed, byUrgency: urgent, owners: { groups: owners.groups, items: grouped } });
  return urgent.bytes + grouped.bytes + holdArrayDeflated(report, "findings", [], byReference);
}
