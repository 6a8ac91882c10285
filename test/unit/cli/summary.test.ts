// The terminal summary's finding rows and by-rule lines say each finding's own countdown and where its date came from.
import { describe, expect, it } from "vitest";
import { formatSummary } from "../../../src/cli/summary.js";
import { holdArrayDeflated } from "../../../src/core/deflatedJson.js";
import type { AuditReport, Finding } from "../../../src/core/model.js";
import { reportRules, resolveRules } from "../../../src/core/rules/ruleSet.js";
import { sampleReport } from "../../support/sampleReport.js";

function report(): AuditReport {
  const base = sampleReport();
  const cert = base.findings.find((f) => f.kind === "account-certificate") as Finding;
  const vmSize: Finding = {
    ...cert,
    id: "d-ds-dv2-dsv2-ls:/pool",
    kind: "pool",
    rule: "d-ds-dv2-dsv2-ls",
    // Azure's date for this size and region, earlier than the catalogue's.
    deadline: "2027-09-01",
    daysLeft: 271,
    deadlineSource: "azure",
    poolName: "dv2-pool",
    severity: "warning",
  };
  delete (vmSize as { certificate?: unknown }).certificate;
  const findings = [{ ...cert, rule: "account-certificate", deadline: "2024-02-29", daysLeft: -1009 }, vmSize];
  const rules = resolveRules();
  return { ...base, asOf: "2026-12-04", findings, rules: reportRules(rules), summary: { ...base.summary, byRule: { "account-certificate": 1, "d-ds-dv2-dsv2-ls": 1 } } };
}

describe("formatSummary", () => {
  it("gives every finding row its countdown, certificates too, in the report's soonest-deadline order", () => {
    const text = formatSummary(report(), { files: [], quiet: false });
    const rows = text.slice(text.indexOf("Findings (most urgent first):")).split("\n").slice(1, 3);
    expect(rows[0]).toMatch(/certificate .*sha1-[0-9a-f]+, 1,009 days overdue$/);
    expect(rows[1]).toMatch(/pool .*d-ds-dv2-dsv2-ls, 271 days left$/);
  });

  it("dates a rule by its soonest finding and says when that date is Azure's, not 'not confirmed'", () => {
    const text = formatSummary(report(), { files: [], quiet: false });
    const line = text.split("\n").find((l) => l.trim().startsWith("d-ds-dv2-dsv2-ls:"));
    expect(line).toContain("2027-09-01 (271 days left, Azure's date)");
    expect(line).not.toContain("not confirmed");
  });

  it("lists the first 50 findings, columns as wide as the widest of all, and reads findings held deflated a page at a time", () => {
    const base = report();
    const [cert] = base.findings as [Finding];
    // 120 findings; the 100th, not listed, has the longest account name.
    const findings = Array.from({ length: 120 }, (_, i) => ({ ...cert, id: `${cert.id}-${i}`, accountName: i === 99 ? "a-very-long-account-name-indeed" : `acct${i}` }));
    const plain: AuditReport = { ...base, findings };
    const held: AuditReport = { ...base, findings: [...findings] };
    holdArrayDeflated(held, "findings", [], { pageSize: 16 });
    const accessor = Object.getOwnPropertyDescriptor(held, "findings");
    const reads = { count: 0 };
    Object.defineProperty(held, "findings", { ...accessor, get: () => (reads.count++, accessor?.get?.call(held)) });

    const text = formatSummary(plain, { files: [], quiet: false });
    expect(formatSummary(held, { files: [], quiet: false })).toBe(text);
    expect(reads.count).toBe(0);
    const rows = text.slice(text.indexOf("Findings (most urgent first):")).split("\n").slice(1);
    expect(rows.filter((r) => r.startsWith("  CRITICAL"))).toHaveLength(50);
    expect(rows[50]).toBe("  … and 70 more in the report");
    // acct0 padded to the width of the longest name among all 120.
    expect(rows[0]).toContain(`${"acct0".padEnd("a-very-long-account-name-indeed".length)}  `);
  });
});
