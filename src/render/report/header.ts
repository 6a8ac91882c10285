// The page header (headline, run, table of contents) and the hero cards (open count, timeline and scope).
import type { AuditReport } from "../../core/model.js";
import { escapeHtml } from "../escapeHtml.js";
import { daysAgo, formatNumber, inDays, longDate, plural, utcTimestamp } from "../format.js";
import type { CoverageGaps } from "./coverage.js";
import type { ReportExtras } from "./reportExtras.js";

export function renderHeader(report: AuditReport, extras: ReportExtras): string {
  const d = report.daysSinceRetirement;
  const headline =
    d > 0
      ? `Azure Batch certificates were retired ${daysAgo(d)}`
      : d === 0
        ? "Azure Batch certificates are retired today"
        : `Azure Batch certificates will be retired ${inDays(-d)}`;
  const meta = [
    `As of ${escapeHtml(longDate(report.asOf))}`,
    `generated ${escapeHtml(utcTimestamp(report.generatedAt))}`,
    ...(extras.runId ? [`run <code>${escapeHtml(extras.runId)}</code>`] : []),
  ].join(" &middot; ");
  return `<header class="top"><div class="wrap">
<p class="eyebrow">Batch certificate audit${report.tenantId ? ` &middot; tenant ${escapeHtml(report.tenantId)}` : ""}</p>
<h1 id="headline">${escapeHtml(headline)}</h1>
<p class="sub">${meta}</p>
<nav class="toc" aria-label="Sections"><a href="#coverage">Coverage</a><a href="#findings">Findings</a><a href="#owners">By owner</a><a href="#trend">Trend</a><a href="#resolved">Resolved</a></nav>
</div></header>`;
}

const MIGRATED_NAMED = 10;

/** ": imagingbatch/render-pool-kv, …" naming the first migrated pools (account/pool), then how many more. */
function migratedNames(report: AuditReport): string {
  const names = report.coverage.accounts.flatMap((a) => (a.migratedPools ?? []).map((p) => `${a.name}/${p}`));
  if (names.length === 0) return "";
  const shown = names.slice(0, MIGRATED_NAMED).map((n) => `<code class="migrated-pool">${escapeHtml(n)}</code>`);
  const more = names.length > shown.length ? ` and ${formatNumber(names.length - shown.length)} more` : "";
  return `: ${shown.join(", ")}${more}`;
}

/** `counts`: the page's (pageFindings). */
export function renderHero(report: AuditReport, gaps: CoverageGaps, counts: { open: number; critical: number; snoozed: number }): string {
  const { open, critical, snoozed } = counts;
  const warning = open - critical;
  const label = gaps.incomplete
    ? `open ${open === 1 ? "finding" : "findings"} <strong>at least</strong> &mdash; the scan was incomplete`
    : `open ${open === 1 ? "finding" : "findings"}`;

  const rows = [`<dt>Retired on</dt><dd>${escapeHtml(longDate(report.retirementDate))}</dd>`];
  if (report.deadline !== report.retirementDate) {
    const n = report.daysSinceDeadline;
    const status = n > 0 ? `passed ${daysAgo(n)}` : n === 0 ? "is today" : `${plural(-n, "day")} left`;
    rows.push(`<dt>Migration deadline</dt><dd id="deadline">${escapeHtml(longDate(report.deadline))} &mdash; ${escapeHtml(status)}</dd>`);
  }
  rows.push(
    `<dt>Subscriptions</dt><dd>${formatNumber(report.summary.subscriptionsAudited)} audited${report.summary.subscriptionsFailed ? `, <span class="missing">${formatNumber(report.summary.subscriptionsFailed)} failed</span>` : ""}</dd>`,
    `<dt>Batch accounts</dt><dd>${formatNumber(report.summary.accountsAudited)} audited${report.summary.accountsFailed ? `, <span class="missing">${formatNumber(report.summary.accountsFailed)} failed</span>` : ""}</dd>`,
    `<dt>Account certificates</dt><dd>${formatNumber(report.summary.accountCertificates)}</dd>`,
    `<dt>Pools using certificates</dt><dd>${formatNumber(report.summary.poolsWithCertificates)}</dd>`,
  );
  // Progress, not a finding: pools already on the Key Vault extension (only where the Batch API listed pools).
  if (report.summary.poolsMigrated !== undefined) {
    rows.push(`<dt>Pools migrated to Key Vault</dt><dd id="migrated-count">${formatNumber(report.summary.poolsMigrated)}${migratedNames(report)}</dd>`);
  }

  return `<section class="hero" aria-label="Summary">
<div class="card">
<div class="big" id="open-count">${formatNumber(open)}</div>
<p class="big-label">${label}</p>
<div class="chips">
<span class="chip sev-critical" id="critical-count"><span aria-hidden="true">&#9679;</span>${formatNumber(critical)} critical</span>
<span class="chip sev-warning" id="warning-count"><span aria-hidden="true">&#9650;</span>${formatNumber(warning)} warning</span>
${snoozed ? `<span class="chip">${formatNumber(snoozed)} snoozed</span>` : ""}
${gaps.incomplete ? `<span class="chip sev-critical">Scan incomplete</span>` : `<span class="chip sev-ok">&#10003; Full coverage</span>`}
</div>
</div>
<div class="card deadline"><h2>Timeline and scope</h2><dl>${rows.join("")}</dl></div>
</section>`;
}
