// The terminal summary's finding rows and by-rule lines say each finding's own countdown and where its date came from.
import { describe, expect, it } from "vitest";
import { formatSummary } from "../../../src/cli/summary.js";
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
});
