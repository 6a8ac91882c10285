// The HTML report: one self-contained page (no external assets) that works offline, prints, and runs
// under a strict hash-based Content-Security-Policy. Rows are rendered on the server so the page is
// complete without JavaScript; the small inline script only filters and sorts what is already there.
// This module assembles the page; each section is a module in ./report, the style is ./report/report.css
// and the script ./report/browser/reportScript.ts (both inlined by ./report/inlineAssets.ts).
import type { AuditReport } from "../core/model.js";
import { escapeHtml } from "./escapeHtml.js";
import { utcTimestamp } from "./format.js";
import { coverageGaps, renderCoverage } from "./report/coverage.js";
import { findingsRowData, renderFindings } from "./report/findingsTable.js";
import { renderHeader, renderHero } from "./report/header.js";
import { jsonForScript, REPORT_CSP, REPORT_SCRIPT, REPORT_STYLE } from "./report/inlineAssets.js";
import { renderOwners } from "./report/owners.js";
import { pageFindings } from "./report/pageFindings.js";
import type { ReportExtras } from "./report/reportExtras.js";
import { renderDelivery } from "./report/delivery.js";
import { renderResolved } from "./report/resolved.js";
import { renderTrend } from "./report/trendChart.js";

export { NO_OWNER } from "./report/findingView.js";
export { jsonForScript, REPORT_CSP, REPORT_CSP_HEADER, reportCspHashes } from "./report/inlineAssets.js";
export type { HistoryPoint, ReportExtras, ResolvedFinding } from "./report/reportExtras.js";
export { renderHistoryChart } from "./report/trendChart.js";

/** The complete report page. Every value from the report is escaped; the page loads nothing from anywhere. */
export function renderReportHtml(report: AuditReport, extras: ReportExtras): string {
  return [...reportHtmlChunks(report, extras)].join("");
}

/**
 * The page piece by piece, for writing while it is made: at scale the findings table, the owner groups and the row
 * data are most of it (about 19 MB at 10,000 accounts), and none of them is held whole. Joined, the pieces are the page.
 * The findings are read by urgency and by owner group, a page of them at a time where the run holds them deflated
 * (./report/pageFindings.ts).
 */
export function* reportHtmlChunks(report: AuditReport, extras: ReportExtras): Generator<string> {
  const gaps = coverageGaps(report);
  const findings = pageFindings(report);
  const title = `Batch certificate audit ${report.asOf}: ${findings.open} open${gaps.incomplete ? " (incomplete scan)" : ""}`;

  yield `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(REPORT_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="batch-cert-auditor">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${REPORT_STYLE}</style>
</head>
<body>
${renderHeader(report, extras)}
<main class="wrap">
${renderHero(report, gaps, findings)}
${renderCoverage(report, gaps)}
`;
  yield* renderFindings(report, gaps, findings.byUrgency);
  yield "\n";
  yield* renderOwners(report, findings.owners);
  yield `
${renderTrend(extras.history)}
${renderResolved(extras.resolvedSinceLastRun)}
${renderDelivery(report.run?.reminders.delivery, report.run?.reminders.backlog)}
</main>
<footer class="wrap">Report schema ${escapeHtml(report.schemaVersion)} &middot; generated ${escapeHtml(utcTimestamp(report.generatedAt))}${extras.runId ? ` &middot; run ${escapeHtml(extras.runId)}` : ""} &middot; self-contained: this page loads nothing from the network.</footer>
<script type="application/json" id="data">`;
  yield* findingsRowData(report, findings.byUrgency, jsonForScript);
  yield `</script>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}
