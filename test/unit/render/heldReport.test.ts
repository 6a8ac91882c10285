// The daily job holds its report's findings deflated from its audit's end (holdReportFindings): every format must
// be exactly what the plain report gives, and no writer may read the findings whole through the report.
import { describe, expect, it } from "vitest";
import { DeflatedList, heldList } from "../../../src/core/deflatedJson.js";
import type { AuditReport, Finding, MigrationKit } from "../../../src/core/model.js";
import { holdReportFindings, pageFindings } from "../../../src/render/report/pageFindings.js";
import { reportHtmlChunks } from "../../../src/render/reportHtml.js";
import { reportCsvChunks } from "../../../src/report/reportCsv.js";
import { jsonChunks } from "../../../src/report/textChunks.js";
import { sampleExtras, sampleReport } from "../../support/sampleReport.js";

/** Stands for a migration kit: known by its identity, its fields made on read (as a kit reads its recipe). */
function kit(pool: string): MigrationKit {
  const fields = (): MigrationKit => ({
    poolName: pool,
    replacementPoolName: `${pool}-kv`,
    fileName: `acct-${pool}-kv.json`,
    os: "linux",
    replacementPool: { properties: { vmSize: "standard_d2s_v3", displayName: `${pool} <kv>` } },
    apiVersion: "2024-07-01",
    placeholders: ["<REPLACE: key vault name>"],
    notes: [],
    warnings: [],
    variables: [{ name: "VAULT", value: "<REPLACE: key vault name>" }],
    commands: [`az batch pool create --id ${pool}-kv`],
    certificates: [],
  });
  const made = {} as MigrationKit;
  for (const key of Object.keys(fields()) as (keyof MigrationKit)[]) Object.defineProperty(made, key, { enumerable: true, get: () => fields()[key] });
  return made;
}

/**
 * `count` findings from the sample's, in an order that is not the page's: a fifth owned by nobody, some by two owners,
 * deadlines and severities mixed, every third with a kit.
 */
function largeReport(count: number): AuditReport {
  const report = sampleReport();
  const findings: Finding[] = Array.from({ length: count }, (_, i) => {
    const f = report.findings[(i * 7) % report.findings.length];
    if (!f) throw new Error("the sample report has no findings");
    const owners = i % 5 === 0 ? [] : [{ address: `owner${i % 37}@contoso.com`, source: "tag" }, ...(i % 4 === 0 ? [{ address: `team${i % 3}@contoso.com`, source: "tag" }] : [])];
    const { migration: _none, ...rest } = f;
    return {
      ...rest,
      id: `${f.id}-${i}`,
      accountName: `account${(i * 13) % 101}`,
      severity: i % 3 === 0 ? "critical" : "warning",
      ...(i % 2 === 0 ? { deadline: `2027-0${1 + (i % 9)}-01` } : {}),
      owners,
      ...(i % 3 === 0 ? { migration: kit(`pool${i}`) } : {}),
    };
  });
  return { ...report, findings, summary: { ...report.summary, findings: count } };
}

/** The report's findings key, each read through it counted from here. */
function countReads(report: AuditReport): { count: number } {
  const reads = { count: 0 };
  const accessor = Object.getOwnPropertyDescriptor(report, "findings");
  if (!accessor?.get) throw new Error("the report's findings are not held");
  Object.defineProperty(report, "findings", { ...accessor, get: () => (reads.count++, accessor.get?.call(report)) });
  return reads;
}

const formats = (report: AuditReport) => ({
  json: [...jsonChunks(report)].join(""),
  csv: [...reportCsvChunks(report)].join(""),
  html: [...reportHtmlChunks(report, sampleExtras())].join(""),
});

describe("a report whose findings are held for its writers", () => {
  // More findings than a run of the page's sorts holds (2,048) too: their runs are merged.
  it.each([1_777, 4_500])("writes its JSON, CSV and page exactly as the plain report does, without reading its findings whole (%i findings)", (count) => {
    const plain = largeReport(count);
    const expected = formats(plain);
    const held = { ...plain, findings: [...plain.findings] };
    expect(holdReportFindings(held)).toBeGreaterThan(0);
    const reads = countReads(held);
    const written = formats(held);
    expect(written.json).toBe(expected.json);
    expect(written.csv).toBe(expected.csv);
    expect(written.html).toBe(expected.html);
    expect(reads.count).toBe(0);
    // The page's table: one row per finding; its owner section: a group per owner and one for the unowned.
    expect(written.html.match(/<tr data-row=/g)).toHaveLength(count);
    expect(written.html.match(/data-owner-group="__none__"/g)).toHaveLength(1);
    // Read through its key, the report still gives every finding, each kit the same object.
    expect(held.findings.map((f) => f.migration)).toStrictEqual(plain.findings.map((f) => f.migration));
    held.findings.forEach((f, i) => expect(f.migration).toBe(plain.findings[i]?.migration));
    expect(reads.count).toBe(2);
  });

  it.each([1_234, 4_500])("gives the page its findings by urgency and by owner group, in pages of 64, kits as they were (%i findings)", (count) => {
    const report = largeReport(count);
    const plain = pageFindings(report);
    holdReportFindings(report);
    const held = pageFindings(report);
    expect(held.byUrgency).toBeInstanceOf(DeflatedList);
    expect(held.owners.items).toBeInstanceOf(DeflatedList);
    expect([held.open, held.critical, held.snoozed]).toStrictEqual([plain.open, plain.critical, plain.snoozed]);
    expect(held.owners.groups).toStrictEqual(plain.owners.groups);
    for (const [heldList, plainList] of [
      [held.byUrgency, plain.byUrgency],
      [held.owners.items, plain.owners.items],
    ] as const) {
      const pages = [...heldList.pages()];
      expect(pages.length).toBeGreaterThan(1);
      expect(pages.slice(0, -1).every((p) => p.length === 64)).toBe(true);
      const flat = pages.flat();
      const expected = [...plainList.pages()].flat();
      expect(flat.map((f) => f.id)).toStrictEqual(expected.map((f) => f.id));
      flat.forEach((f, i) => expect(f.migration).toBe(expected[i]?.migration));
    }
    // A finding of two owners is in both groups: the groups list more findings than the report holds.
    expect(held.owners.items.length).toBe(held.owners.groups.reduce((n, g) => n + g.count, 0));
    expect(held.owners.items.length).toBeGreaterThan(count);
    expect(heldList(report, "findings")?.length).toBe(count);
  });

  it("writes the page from findings assigned in place of the held ones, not from the orders held before", () => {
    const report = largeReport(300);
    holdReportFindings(report);
    const fewer = largeReport(12);
    report.findings = fewer.findings;
    expect([...reportHtmlChunks(report, sampleExtras())].join("")).toBe([...reportHtmlChunks({ ...report }, sampleExtras())].join(""));
    expect(pageFindings(report).open).toBe(12);
  });

  it("holds an empty list of findings and writes the page of a clean tenant", () => {
    const plain = largeReport(0);
    const held = { ...plain, findings: [] };
    holdReportFindings(held);
    expect(formats(held)).toStrictEqual(formats(plain));
    expect(formats(held).html).toContain('id="no-findings"');
  });
});
