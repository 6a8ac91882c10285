// report.csv: one row per finding, for spreadsheets. csv-stringify handles quoting of commas, quotes and newlines.
import { stringify } from "csv-stringify/sync";
import { eachOf, pagesOf } from "../core/deflatedJson.js";
import { indexWanted } from "../core/ids.js";
import type { AccountCoverage, AuditReport, Finding } from "../core/model.js";

export const CSV_COLUMNS = [
  "id",
  "kind",
  "rule",
  "deadline",
  "daysLeft",
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

/** A number we write (negative when overdue): left as it is, so a spreadsheet reads it as a number. */
const DAYS_LEFT = CSV_COLUMNS.indexOf("daysLeft");

export function reportToCsv(report: AuditReport, findings?: readonly Finding[]): string {
  return [...reportCsvChunks(report, findings)].join("");
}

/**
 * Rows per piece of `reportCsvChunks`: tens of KB of text (a row is about a few hundred characters), so each piece is
 * young garbage, not a large object left for a full collection (see PIECE_CHARS in ./textChunks.ts).
 */
const ROWS_PER_CHUNK = 50;

/**
 * report.csv piece by piece (the header, then `ROWS_PER_CHUNK` rows at a time), for writing while it is made; joined,
 * the pieces are exactly `reportToCsv` (csv-stringify quotes field by field and ends every record the same way). The
 * findings are `findings` if given, else the report's, read a page at a time where the report holds them deflated
 * (`holdArrayDeflated`), as its coverage's accounts are.
 */
export function* reportCsvChunks(report: AuditReport, findings?: readonly Finding[]): Generator<string> {
  const pages = (): Iterable<readonly Finding[]> => (findings ? [findings] : pagesOf(report, "findings"));
  // Where each finding's account's pool references came from (batch-api, resource-graph, not-needed, failed): for
  // the findings' accounts only (at 100,000 accounts a map of every account was about 20 MB while the CSV was made).
  const accounts = new Set<string>();
  for (const f of eachOf(pages())) accounts.add(f.accountId.toLowerCase());
  const poolSource = indexWanted(eachOf(pagesOf(report.coverage, "accounts")), (a) => a.id, accounts);
  yield stringify([[...CSV_COLUMNS]]);
  let rows: string[][] = [];
  for (const f of eachOf(pages())) {
    rows.push(csvRow(f, poolSource).map((cell, i) => (i === DAYS_LEFT ? cell : neutralizeFormula(cell))));
    if (rows.length < ROWS_PER_CHUNK) continue;
    yield stringify(rows);
    rows = [];
  }
  if (rows.length > 0) yield stringify(rows);
}

function csvRow(f: Finding, poolSource: ReadonlyMap<string, AccountCoverage>): string[] {
  return [
    f.id,
    f.kind,
    f.rule ?? f.kind,
    f.deadline ?? "",
    f.daysLeft === undefined ? "" : String(f.daysLeft),
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
    poolSource.get(f.accountId.toLowerCase())?.pools ?? "",
    f.sourceNote ?? "",
    (f.ownerProblems ?? []).join(" | "),
  ];
}

/** Spreadsheets run cells that start with = + - @ as formulas; tag values are user input, so defuse them. */
export function neutralizeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
