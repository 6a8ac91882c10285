// Filters for GET /api/audit/report: by subscription, owner address and severity.
import type { AuditReport, Finding, ReportSummary, Severity } from "../../core/model.js";
import { countByRule } from "../../core/rules/ruleSet.js";

export interface ReportFilter {
  subscription?: string | undefined;
  owner?: string | undefined;
  severity?: Severity | undefined;
}

export function activeFilter(filter: ReportFilter): Record<string, string> {
  const out: Record<string, string> = {};
  if (filter.subscription) out.subscription = filter.subscription.toLowerCase();
  if (filter.owner) out.owner = filter.owner.toLowerCase();
  if (filter.severity) out.severity = filter.severity;
  return out;
}

export function filterFindings(report: AuditReport, filter: ReportFilter): Finding[] {
  const subscription = filter.subscription?.toLowerCase();
  const owner = filter.owner?.toLowerCase();
  return report.findings.filter(
    (f) =>
      (!subscription || f.subscriptionId.toLowerCase() === subscription) &&
      (!owner || (f.owners ?? []).some((o) => o.address.toLowerCase() === owner)) &&
      (!filter.severity || f.severity === filter.severity),
  );
}

/** The finding counts of a summary recomputed for a subset; coverage counts stay those of the whole audit. */
export function summaryOf(summary: ReportSummary, findings: readonly Finding[]): ReportSummary {
  const accountCertificates = findings.filter((f) => f.kind === "account-certificate").length;
  return {
    ...summary,
    findings: findings.length,
    critical: findings.filter((f) => f.severity === "critical").length,
    warning: findings.filter((f) => f.severity === "warning").length,
    accountCertificates,
    poolsWithCertificates: findings.filter((f) => f.kind === "pool-certificate-reference").length,
    ...(summary.byRule ? { byRule: countByRule(findings, Object.keys(summary.byRule).map((id) => ({ id }))) } : {}),
  };
}
