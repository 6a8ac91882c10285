// Every item of an owner's digest as a CSV attachment, so a digest that shows only the most urgent items in full
// (./digestCap.ts) still hands the owner the whole list, ready to sort and assign in a spreadsheet. csv-stringify
// quotes fields; cells a spreadsheet would run as formulas are defused as in report.csv.
import { stringify } from "csv-stringify/sync";
import type { DigestItem } from "../core/digestPlan.js";
import type { EmailAttachment } from "../core/ports.js";
import { neutralizeFormula } from "../report/reportCsv.js";

export const DIGEST_CSV_COLUMNS = [
  "severity",
  "kind",
  "subscriptionId",
  "subscriptionName",
  "resourceGroup",
  "accountName",
  "name",
  "resourceId",
  "reminderDue",
  "milestone",
  "certificates",
  "expiresOn",
  "usedByPools",
  "ownerSource",
  "snoozedUntil",
  "detail",
] as const;

export function digestCsv(items: readonly DigestItem[]): string {
  const rows = items.map(({ finding: f, decision, owner }) => [
    f.severity,
    f.kind,
    f.subscriptionId,
    f.subscriptionName ?? "",
    f.resourceGroup,
    f.accountName,
    f.poolName ?? f.certificate?.name ?? f.resourceId.split("/").pop() ?? "",
    f.resourceId,
    decision.due ? "yes" : "no",
    decision.milestone,
    f.certificate?.name ?? [...new Set((f.references ?? []).map((r) => r.certificateName ?? r.id.split("/").pop() ?? r.id))].join(" "),
    f.certificate?.expiresOn ?? "",
    (f.certificate?.referencedByPools ?? []).join(" "),
    owner.source,
    f.snoozedUntil ?? "",
    f.detail,
  ]);
  return stringify([[...DIGEST_CSV_COLUMNS], ...rows.map((r) => r.map(neutralizeFormula))]);
}

export function digestCsvAttachment(items: readonly DigestItem[], asOf: string): EmailAttachment {
  return { name: `batch-certificate-items-${asOf}.csv`, contentType: "text/csv", contentInBase64: Buffer.from(digestCsv(items), "utf8").toString("base64") };
}
