// Filters for GET /api/audit/report: by subscription, owner address and severity.
import type { AuditReport, Finding, ReportSummary, Severity } from "../../core/model.js";
import { countByRule, unknownRuleIds, unknownRules } from "../../core/rules/ruleSet.js";

export interface ReportFilter {
  subscription?: string | undefined;
  owner?: string | undefined;
  severity?: Severity | undefined;
  /** Rule ids (validated by the caller with ruleFilter); a finding passes when its rule is one of them. */
  rules?: readonly string[] | undefined;
}

/**
 * The `rules` parameter as rule ids: each must be a rule this deployment knows (configured or in the report), else a
 * clear error listing them. Undefined when absent or empty.
 */
export function ruleFilter(value: string | undefined, known: readonly string[]): string[] | undefined {
  const ids = (value ?? "").split(",").map((id) => id.trim().toLowerCase()).filter(Boolean);
  if (ids.length === 0) return undefined;
  const unknown = unknownRuleIds(ids, known);
  if (unknown.length > 0) throw unknownRules(unknown, known);
  return ids;
}

export function activeFilter(filter: ReportFilter): Record<string, string> {
  const out: Record<string, string> = {};
  if (filter.subscription) out.subscription = filter.subscription.toLowerCase();
  if (filter.owner) out.owner = filter.owner.toLowerCase();
  if (filter.severity) out.severity = filter.severity;
  if (filter.rules && filter.rules.length > 0) out.rules = filter.rules.join(",");
  return out;
}

export function filterFindings(report: AuditReport, filter: ReportFilter): Finding[] {
  const subscription = filter.subscription?.toLowerCase();
  const owner = filter.owner?.toLowerCase();
  const rules = filter.rules && filter.rules.length > 0 ? new Set(filter.rules.map((r) => r.toLowerCase())) : undefined;
  return report.findings.filter(
    (f) =>
      (!subscription || f.subscriptionId.toLowerCase() === subscription) &&
      (!owner || (f.owners ?? []).some((o) => o.address.toLowerCase() === owner)) &&
      (!filter.severity || f.severity === filter.severity) &&
      (!rules || rules.has((f.rule ?? f.kind).toLowerCase())),
  );
}

/** The finding counts of a summary recomputed for a subset; coverage counts stay those of the whole audit. */
export function summaryOf(summary: ReportSummary, findings: readonly Finding[]): ReportSummary {
  const accountCertificates = findings.filter((f) => f.kind === "account-certificate").length;
  const notRechecked = findings.filter((f) => f.notRechecked !== undefined).length;
  const { notRechecked: _whole, ...rest } = summary;
  return {
    ...rest,
    findings: findings.length,
    critical: findings.filter((f) => f.severity === "critical").length,
    warning: findings.filter((f) => f.severity === "warning").length,
    accountCertificates,
    poolsWithCertificates: findings.filter((f) => f.kind === "pool-certificate-reference").length,
    ...(summary.byRule ? { byRule: countByRule(findings, Object.keys(summary.byRule).map((id) => ({ id }))) } : {}),
    ...(notRechecked > 0 ? { notRechecked } : {}),
  };
}
