// How a finding is named, labelled and ordered everywhere on the page.
import type { AuditReport, Finding, ResolvedReference } from "../../core/model.js";
import { escapeHtml } from "../escapeHtml.js";
import { isoDay, plural } from "../format.js";

/** Value used in the owner filter for findings nobody owns; not a possible mail address. */
export const NO_OWNER = "__none__";

const KIND_LABELS: Readonly<Record<string, string>> = {
  "account-certificate": "Account certificate",
  "pool-certificate-reference": "Pool references certificates",
};
export const kindLabel = (kind: string): string => KIND_LABELS[kind] ?? kind;

/** A finding's rule id: its `rule`, else its kind (a finding made before rules). */
export const ruleOf = (f: Pick<Finding, "rule" | "kind">): string => f.rule ?? f.kind;

/** What a finding is called on the page: its kind's label for the certificate rules, else its rule's title. */
export function findingLabel(report: Pick<AuditReport, "rules">, f: Finding): string {
  if (KIND_LABELS[f.kind] !== undefined) return kindLabel(f.kind);
  return report.rules?.find((r) => r.id === ruleOf(f))?.title ?? ruleOf(f);
}

/** "Deadline 12 January 2027 · 39 days left (date not confirmed by Azure)", for a finding that carries a deadline. */
export function deadlineLine(f: Finding): string {
  if (f.deadline === undefined || f.daysLeft === undefined) return "";
  const left = f.daysLeft < 0 ? `${plural(-f.daysLeft, "day")} overdue` : f.daysLeft === 0 ? "due today" : `${plural(f.daysLeft, "day")} left`;
  const note = f.deadlineSource === "azure" ? " (date from Azure)" : f.deadlineSource === "configuration" ? " (your organisation's date)" : f.deadlineConfirmed === false ? " (date not confirmed by Azure)" : "";
  return `Deadline ${f.deadline} · ${left}${note}`;
}

export function sevBadge(sev: string): string {
  // Shape and word as well as colour, so severity survives greyscale printing and colour blindness.
  const mark = sev === "critical" ? "&#9679;" : "&#9650;";
  const label = sev === "critical" ? "Critical" : sev === "warning" ? "Warning" : escapeHtml(sev);
  return `<span class="sev sev-${sev === "critical" ? "critical" : "warning"}"><span aria-hidden="true">${mark}</span>${label}</span>`;
}

export const ownersOf = (f: Finding): string[] => (f.owners ?? []).map((o) => o.address).filter((a) => a.trim() !== "");

export const isSnoozed = (f: Finding, asOf: string): boolean => !!f.snoozedUntil && isoDay(f.snoozedUntil) >= asOf;

export const refName = (r: ResolvedReference): string => r.certificateName ?? r.id;

/**
 * A thumbprint (or `sha1-<thumbprint>` name) shortened to its ends, which is how people compare them;
 * the full value stays in the tooltip and in the search text.
 */
export function thumbCode(value: string): string {
  if (value.length <= 24) return `<code class="thumb">${escapeHtml(value)}</code>`;
  // Keep a `sha1-` style prefix whole: the head is everything before the last 32 characters plus 8 more.
  const head = value.slice(0, Math.max(8, value.length - 32));
  return `<code class="thumb" title="${escapeHtml(value)}">${escapeHtml(head)}&hellip;${escapeHtml(value.slice(-8))}</code>`;
}

export function subscriptionLabel(report: AuditReport, subscriptionId: string, fallback?: string): string {
  return fallback ?? displayNames(report.coverage.subscriptions).get(subscriptionId) ?? subscriptionId;
}

/**
 * Each subscription's display name by id (the first entry for an id, as a search would find it), made once per
 * coverage list: the page names a subscription several times per finding, and a search of 20,000 subscriptions for
 * each of 45,000 findings cost most of the 100,000-account report's two minutes.
 */
type SubscriptionCoverage = AuditReport["coverage"]["subscriptions"];
const displayNameIndex = new WeakMap<SubscriptionCoverage, Map<string, string | undefined>>();
function displayNames(subscriptions: SubscriptionCoverage): Map<string, string | undefined> {
  let index = displayNameIndex.get(subscriptions);
  if (!index) {
    index = new Map();
    for (const s of subscriptions) if (!index.has(s.id)) index.set(s.id, s.displayName);
    displayNameIndex.set(subscriptions, index);
  }
  return index;
}

/** What the page's order of urgency compares of a finding (compareUrgency): made once per finding for a sort. */
export interface UrgencyKey {
  deadline: string;
  critical: number;
  expires: string;
  name: string;
}

export function urgencyKey(f: Finding): UrgencyKey {
  return { deadline: f.deadline ?? "", critical: f.severity === "critical" ? 0 : 1, expires: f.certificate?.expiresOn ?? "9999", name: `${f.accountName}/${f.poolName ?? ""}` };
}

/**
 * The page's order of urgency: the soonest deadline, then critical first, then certificates that expire (or expired)
 * soonest, then name: the order people act in.
 */
export function compareUrgency(a: UrgencyKey, b: UrgencyKey): number {
  const d = a.deadline.localeCompare(b.deadline);
  if (d !== 0) return d;
  const s = a.critical - b.critical;
  if (s !== 0) return s;
  if (a.expires !== b.expires) return a.expires < b.expires ? -1 : 1;
  return a.name.localeCompare(b.name);
}

export function findingTitle(f: Finding): string {
  if (f.poolName) return `${f.accountName} / pool ${f.poolName}`;
  const t = f.certificate?.thumbprint;
  return t ? `${f.accountName} / certificate ${t.length > 16 ? `${t.slice(0, 8)}\u2026${t.slice(-4)}` : t}` : f.accountName;
}
