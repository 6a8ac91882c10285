// The coverage banner: what the scan could not read, so an incomplete report never looks clean.
import type { AuditReport, Coverage } from "../../core/model.js";
import { escapeHtml } from "../escapeHtml.js";
import { formatNumber, plural } from "../format.js";
import { subscriptionLabel } from "./findingView.js";

export interface CoverageGaps {
  incomplete: boolean;
  items: string[];
}

/**
 * Gaps in what the scan could see. A report that says `complete: true` but lists a failed scope or a
 * problem is treated as incomplete too: an inconsistent report must never look clean.
 */
export function coverageGaps(report: AuditReport): CoverageGaps {
  const c: Coverage = report.coverage;
  const items: string[] = [];
  for (const s of c.subscriptions.filter((x) => x.status === "failed")) {
    items.push(
      `<li><strong>Subscription ${escapeHtml(s.displayName ?? s.id)}</strong>` +
        (s.displayName ? ` <code>${escapeHtml(s.id)}</code>` : "") +
        ` could not be read: <span class="reason">${escapeHtml(s.reason ?? "no reason given")}</span></li>`,
    );
  }
  for (const a of c.accounts.filter((x) => x.status === "failed")) {
    items.push(
      `<li><strong>Batch account ${escapeHtml(a.name)}</strong> in subscription ${escapeHtml(subscriptionLabel(report, a.subscriptionId))}` +
        ` could not be read: <span class="reason">${escapeHtml(a.reason ?? "no reason given")}</span></li>`,
    );
  }
  // Azure refusing the certificate API's api-version concerns every account: said once, not per account.
  if (c.certificateApiRetired) items.push(`<li><strong>Certificates</strong>: <span class="reason">${escapeHtml(c.certificateApiRetired)}</span></li>`);
  for (const a of c.accounts.filter((x) => x.status !== "failed" && x.certificates === "unknown" && !c.certificateApiRetired)) {
    items.push(
      `<li><strong>Batch account ${escapeHtml(a.name)}</strong>: its certificate list could not be read` +
        (a.reason ? `: <span class="reason">${escapeHtml(a.reason)}</span>` : "") +
        `</li>`,
    );
  }
  for (const p of c.problems) items.push(`<li>${escapeHtml(p)}</li>`);
  return { incomplete: !c.complete || items.length > 0, items };
}

/** Where pool certificate references came from, over all accounts. */
function poolSources(report: AuditReport): string {
  const count = (source: string) => {
    let n = 0;
    for (const a of report.coverage.accounts) if (a.pools === source) n++;
    return n;
  };
  const parts = [
    [count("batch-api"), "read from the Batch API"],
    [count("resource-graph"), "read from Resource Graph (the Batch API refused)"],
    [count("not-needed"), "not needed (no certificates, so no pool can reference one)"],
    [count("failed"), "could not be read"],
  ] as const;
  const said = parts.filter(([n]) => n > 0).map(([n, what]) => `${formatNumber(n)} ${what}`);
  return said.length === 0 ? "" : `<p id="pool-sources">Pool certificate references, per account: ${escapeHtml(said.join("; "))}.</p>`;
}

/**
 * Pools some rules could not judge (`coverage.unjudged`): neither affected nor clean (their open findings stay open),
 * so the page says so whether or not the scan was otherwise complete. One line per rule, with each reason and how many
 * accounts it concerns, not a line per account: at 100,000 accounts there are entries for most of them.
 */
function unjudgedRules(report: AuditReport): string {
  const entries = report.coverage.unjudged ?? [];
  if (entries.length === 0) return "";
  const byRule = new Map<string, { accounts: number; pools: number; reasons: Map<string, number> }>();
  for (const e of entries) {
    let rule = byRule.get(e.rule);
    if (!rule) byRule.set(e.rule, (rule = { accounts: 0, pools: 0, reasons: new Map() }));
    rule.accounts++;
    rule.pools += e.pools;
    rule.reasons.set(e.reason, (rule.reasons.get(e.reason) ?? 0) + 1);
  }
  const titles = new Map((report.rules ?? []).map((r) => [r.id, r.title]));
  const items = [...byRule]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, r]) => {
      const title = titles.get(id);
      const reasons = [...r.reasons]
        .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
        .map(([reason, accounts]) => `<li><span class="reason">${escapeHtml(reason)}</span> (${escapeHtml(plural(accounts, "account"))})</li>`);
      return (
        `<li><strong>${escapeHtml(title ?? id)}</strong>${title ? ` <code>${escapeHtml(id)}</code>` : ""}: ` +
        `${escapeHtml(plural(r.pools, "pool"))} in ${escapeHtml(plural(r.accounts, "Batch account"))} not judged<ul>${reasons.join("")}</ul></li>`
      );
    });
  return `<div id="unjudged"><p>Some pools could not be judged by every rule: they are <strong>neither affected nor clean</strong>, and findings already open for them stay open until a run can judge them (the accounts are listed under <code>coverage.unjudged</code> in the JSON report).</p><ul>${items.join("")}</ul></div>`;
}

export function renderCoverage(report: AuditReport, gaps: CoverageGaps): string {
  const c = report.coverage;
  const subs = c.subscriptions.length;
  const accts = c.accounts.length;
  if (!gaps.incomplete) {
    // Every scope read, but a rule that could not judge some pools is not a clean bill: a warning, not a tick.
    const unjudged = (c.unjudged?.length ?? 0) > 0;
    return `<section id="coverage" class="banner ${unjudged ? "banner-warn" : "banner-ok"}" aria-labelledby="coverage-h">
<h2 id="coverage-h">${unjudged ? "&#9888; Every scope read, but some pools not judged by every rule" : "&#10003; Coverage complete"}</h2>
<p>Every subscription (${formatNumber(subs)}) and every Batch account (${formatNumber(accts)}) visible to the auditor was read.</p>
${poolSources(report)}
${unjudgedRules(report)}
</section>`;
  }
  const failedSubs = c.subscriptions.filter((s) => s.status === "failed").length;
  const failedAccts = c.accounts.filter((a) => a.status === "failed").length;
  const counts: string[] = [];
  if (failedSubs) counts.push(`${formatNumber(failedSubs)} of ${plural(subs, "subscription")}`);
  if (failedAccts) counts.push(`${formatNumber(failedAccts)} of ${plural(accts, "Batch account")}`);
  return `<section id="coverage" class="banner banner-bad" role="alert" aria-labelledby="coverage-h">
<h2 id="coverage-h">&#9888; Incomplete scan: this report does not cover the whole tenant</h2>
<p>${counts.length ? `The auditor could not read ${counts.join(" and ")}. ` : ""}Certificates in the parts listed below are <strong>unknown, not absent</strong>; fix access and run again before treating anything as clean.</p>
<ul id="coverage-gaps">${gaps.items.join("")}</ul>
${poolSources(report)}
${unjudgedRules(report)}
</section>`;
}
