// GET /api/audit/report: the latest stored report as json, csv or html, optionally filtered (csv and html without a
// filter: the run's stored files, see storedFormat); with `migration=<finding id or pool id>`, that pool's migration
// kit file (the replacement body, or `file=sh` the steps).
import "../index.js";
import { app, type HttpFunctionOptions } from "@azure/functions";
import { REPORT_CSP_HEADER, renderReportHtml } from "../render/reportHtml.js";
import { migrationFiles } from "../render/migrationFiles.js";
import { reportToCsv } from "../report/reportCsv.js";
import { REPORT_FORMAT_VERSIONS } from "../app/runAuditJob.js";
import type { BlobReportStore } from "../azure/blobReportStore.js";
import { ensureError } from "../core/errors.js";
import { isGuid } from "../core/ids.js";
import { isValidAddress } from "../core/owners.js";
import { HttpProblem, json, oneOf, parseQuery, route, satisfying, text } from "./support/http.js";
import { activeFilter, filterFindings, ruleFilter, summaryOf } from "./support/reportFilter.js";

const QUERY = {
  format: oneOf(["json", "csv", "html"]),
  subscription: satisfying(isGuid, "a subscription id (GUID)"),
  owner: satisfying(isValidAddress, "an owner's email address"),
  severity: oneOf(["critical", "warning"]),
  rules: satisfying((v) => /^[A-Za-z0-9., -]+$/.test(v), "comma-separated rule ids (README \"Retirement rules\")"),
  migration: satisfying((v) => v.length <= 2048 && /^(pool-certificate-reference:)?\/subscriptions\//i.test(v), "a pool finding id or pool resource id"),
  file: oneOf(["json", "sh"]),
};

export const getAuditReport = route(async (request, { host }) => {
  const query = parseQuery(request, QUERY);
  // Every rule id this deployment knows (shipped and RULES_FILE's, switched off or not); an unknown one is refused.
  let rules: string[] | undefined;
  try {
    rules = ruleFilter(query.rules, host.config.rules.ids);
  } catch (error) {
    throw new HttpProblem(400, "REQUEST.INVALID_PARAMETER", ensureError(error).message, { parameter: "rules", allowed: host.config.rules.ids });
  }
  const stored = await storedFormat(host.composition.reports, query);
  if (stored) return stored;
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
  const filter = { subscription: query.subscription, owner: query.owner, severity: query.severity, rules };
  const findings = filterFindings(report, filter);
  const format = query.format ?? "json";

  if (format === "csv") return csvAnswer(reportToCsv(report, findings), report.asOf);
  if (format === "html") {
    // The page counts what it shows, so its summary is that of the filtered findings; coverage stays whole.
    const html = renderReportHtml(
      { ...report, findings, summary: summaryOf(report.summary, findings) },
      { history: report.run?.history ?? [], resolvedSinceLastRun: report.run?.resolvedSinceLastRun ?? [], ...(report.run ? { runId: report.run.runId } : {}) },
    );
    return htmlAnswer(html);
  }
  // JSON keeps the whole document and its summary; the findings are the filtered ones.
  return json(200, { ...report, findings, filter: activeFilter(filter), filteredCount: findings.length });
});

/**
 * Without a filter, csv and html are the files the run stored beside report.json (the same renderers, the same
 * report, so the same text this route would render), served as they are: no 19 MB JSON parse and no render per
 * call. The store only hands back a file of the run "latest" points at, made as this build makes it (see
 * BlobReportStore.latestFormat); an older run's report without one, a file rewritten since, or one an earlier build
 * made (another CSP or other columns) is rendered from the JSON as before.
 *
 * JSON keeps the parse: the answer adds `filter` and `filteredCount` and is serialized compactly by the host, while
 * the stored file is indented, so serving it as it is would change the bytes of every unfiltered JSON answer.
 *
 * The file is still read whole into one string: streaming the blob into the answer needs
 * `app.setup({ enableHttpStream: true })`, which stays off in src/index.ts because HTTP streams cannot be tested
 * against a real Functions host here.
 */
async function storedFormat(
  reports: BlobReportStore,
  query: { format?: string | undefined; subscription?: string | undefined; owner?: string | undefined; severity?: string | undefined; rules?: string | undefined; migration?: string | undefined },
) {
  if (query.format !== "csv" && query.format !== "html") return undefined;
  if (query.subscription || query.owner || query.severity || query.rules || query.migration) return undefined;
  const stored = await reports.latestFormat(query.format, REPORT_FORMAT_VERSIONS[query.format]);
  if (!stored) return undefined;
  return query.format === "csv" ? csvAnswer(stored.text, stored.asOf) : htmlAnswer(stored.text);
}

function csvAnswer(csv: string, asOf: string) {
  return text(200, csv, "text/csv; charset=utf-8", { "Content-Disposition": `attachment; filename="batch-cert-audit-${asOf}.csv"` });
}

function htmlAnswer(html: string) {
  return text(200, html, "text/html; charset=utf-8", { "Content-Security-Policy": REPORT_CSP_HEADER, "Referrer-Policy": "no-referrer" });
}

export const getAuditReportOptions = {
  route: "audit/report",
  methods: ["GET"],
  authLevel: "function",
  handler: getAuditReport,
} satisfies HttpFunctionOptions;

app.http("getAuditReport", getAuditReportOptions);
