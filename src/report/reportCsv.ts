// report.csv: one row per finding, for spreadsheets. csv-stringify handles quoting of commas, quotes and newlines.
import { stringify } from "csv-stringify/sync";
import type { AuditReport, Finding } from "../core/model.js";

export const CSV_COLUMNS = [
  "id",
  "kind",
  "severity",
  "subscriptionId",
  "subscriptionName",
  "resourceGroup",
  "accountName",
  "poolName",
  "resourceId",
  "certificateName",
  "thumbprint",
  "provisioningState",
  "expiresOn",
  "referencedBy",
  "owners",
  "snoozedUntil",
  "detail",
  "sources",
  "accountPools",
  "sourceNote",
  "ownerProblems",
] as const;

export function reportToCsv(report: AuditReport, findings: readonly Finding[] = report.findings): string {
  // Where each account's pool references came from (batch-api, resource-graph, not-needed, failed).
  const poolSource = new Map(report.coverage.accounts.map((a) => [a.id.toLowerCase(), a.pools]));
  const rows = findings.map((f) => [
    f.id,
    f.kind,
    f.severity,
    f.subscriptionId,
    f.subscriptionName ?? "",
    f.resourceGroup,
    f.accountName,
    f.poolName ?? "",
    f.resourceId,
    f.certificate?.name ?? (f.references ?? []).map((r) => r.certificateName ?? r.id).join(" "),
    f.certificate?.thumbprint ?? "",
    f.certificate?.provisioningState ?? "",
    f.certificate?.expiresOn ?? "",
    (f.certificate?.referencedByPools ?? []).join(" "),
    (f.owners ?? []).map((o) => o.address).join(" "),
    f.snoozedUntil ?? "",
    neutralizeFormula(f.detail),
    (f.sources ?? []).join(" "),
    poolSource.get(f.accountId.toLowerCase()) ?? "",
    f.sourceNote ?? "",
    (f.ownerProblems ?? []).join(" | "),
  ]);
  return stringify([[...CSV_COLUMNS], ...rows.map((r) => r.map(neutralizeFormula))]);
}

/** Spreadsheets run cells that start with = + - @ as formulas; tag values are user input, so defuse them. */
function neutralizeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
