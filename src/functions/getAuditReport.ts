// GET /api/audit/report: the latest stored report as json, csv or html, optionally filtered; with
// `migration=<finding id or pool id>`, that pool's migration kit file (the replacement body, or `file=sh` the steps).
import "../index.js";
import { app, type HttpFunctionOptions } from "@azure/functions";
import { REPORT_CSP_HEADER, renderReportHtml } from "../render/reportHtml.js";
import { migrationFiles } from "../render/migrationFiles.js";
import { reportToCsv } from "../report/reportCsv.js";
import { isGuid } from "../core/ids.js";
import { isValidAddress } from "../core/owners.js";
import { HttpProblem, json, oneOf, parseQuery, route, satisfying, text } from "./support/http.js";
import { activeFilter, filterFindings, summaryOf } from "./support/reportFilter.js";

const QUERY = {
  format: oneOf(["json", "csv", "html"]),
  subscription: satisfying(isGuid, "a subscription id (GUID)"),
  owner: satisfying(isValidAddress, "an owner's email address"),
  severity: oneOf(["critical", "warning"]),
  migration: satisfying((v) => v.length <= 2048 && /^(pool-certificate-reference:)?\/subscriptions\//i.test(v), "a pool finding id or pool resource id"),
  file: oneOf(["json", "sh"]),
};

export const getAuditReport = route(async (request, { host }) => {
  const query = parseQuery(request, QUERY);
  const report = await host.composition.reports.latestReport();
  if (!report) {
    throw new HttpProblem(404, "REPORT.NOT_FOUND", "There is no report yet: no run has finished. Start one with POST /api/audit/runs, or wait for the daily audit.");
  }
  if (query.migration) {
    const wanted = query.migration.toLowerCase();
    const finding = report.findings.find((f) => f.migration && (f.id.toLowerCase() === wanted || f.resourceId.toLowerCase() === wanted));
    if (!finding?.migration) throw new HttpProblem(404, "REPORT.NOT_FOUND", "The latest report has no pool finding with that id.");
    const kit = finding.migration;
    const name = query.file === "sh" ? kit.fileName.replace(/\.json$/, ".sh") : kit.fileName;
    const file = migrationFiles(kit).find((f) => f.name === name);
    if (!file) throw new HttpProblem(404, "REPORT.NOT_FOUND", `No replacement body for this pool: ${kit.unavailable ?? "its configuration was not read"}.`);
    return text(200, file.content, file.contentType === "application/json" ? "application/json; charset=utf-8" : "text/plain; charset=utf-8", {
      "Content-Disposition": `attachment; filename="${file.name.replace(/[^A-Za-z0-9_.-]/g, "-")}"`,
    });
  }
  const filter = { subscription: query.subscription, owner: query.owner, severity: query.severity };
  const findings = filterFindings(report, filter);
  const format = query.format ?? "json";

  if (format === "csv") {
    return text(200, reportToCsv(report, findings), "text/csv; charset=utf-8", {
      "Content-Disposition": `attachment; filename="batch-cert-audit-${report.asOf}.csv"`,
    });
  }
  if (format === "html") {
    // The page counts what it shows, so its summary is that of the filtered findings; coverage stays whole.
    const html = renderReportHtml(
      { ...report, findings, summary: summaryOf(report.summary, findings) },
      { history: report.run?.history ?? [], resolvedSinceLastRun: report.run?.resolvedSinceLastRun ?? [], ...(report.run ? { runId: report.run.runId } : {}) },
    );
    return text(200, html, "text/html; charset=utf-8", { "Content-Security-Policy": REPORT_CSP_HEADER, "Referrer-Policy": "no-referrer" });
  }
  // JSON keeps the whole document and its summary; the findings are the filtered ones.
  return json(200, { ...report, findings, filter: activeFilter(filter), filteredCount: findings.length });
});

export const getAuditReportOptions = {
  route: "audit/report",
  methods: ["GET"],
  authLevel: "function",
  handler: getAuditReport,
} satisfies HttpFunctionOptions;

app.http("getAuditReport", getAuditReportOptions);
