// The smallest audit report the reminder tests plan from: a complete audit of one subscription and account, with the
// given findings, all critical pool findings unless the summary says otherwise.
import type { AuditReport, Finding } from "../../src/core/model.js";

export function minimalReport(asOf: string, findings: Finding[], summary: Partial<AuditReport["summary"]> = {}): AuditReport {
  return {
    schemaVersion: "1.3",
    generatedAt: `${asOf}T07:00:00Z`,
    asOf,
    retirementDate: "2024-02-29",
    deadline: "2024-02-29",
    daysSinceDeadline: 1000,
    daysSinceRetirement: 1000,
    coverage: { complete: true, subscriptions: [], accounts: [], problems: [] },
    summary: {
      findings: findings.length,
      critical: findings.length,
      warning: 0,
      accountCertificates: 0,
      poolsWithCertificates: findings.length,
      accountsAudited: 1,
      accountsFailed: 0,
      subscriptionsAudited: 1,
      subscriptionsFailed: 0,
      ...summary,
    },
    findings,
  };
}
