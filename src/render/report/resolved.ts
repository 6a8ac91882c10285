// Findings that disappeared since the last run.
import { escapeHtml } from "../escapeHtml.js";
import { formatNumber, isoDay } from "../format.js";
import { ruleOfFindingId } from "../../core/findings.js";
import { kindLabel } from "./findingView.js";
import type { ResolvedFinding } from "./reportExtras.js";

export function renderResolved(resolved: ResolvedFinding[]): string {
  const body = resolved.length
    ? `<div class="table-scroll"><table id="resolved-table"><thead><tr><th scope="col">Resolved on</th><th scope="col">Kind</th><th scope="col">Account</th><th scope="col">Resource</th></tr></thead><tbody>${[...resolved]
        .sort((a, b) => b.resolvedOn.localeCompare(a.resolvedOn) || a.accountName.localeCompare(b.accountName))
        .map(
          (r) =>
            `<tr data-id="${escapeHtml(r.findingId)}"><td class="nowrap">${escapeHtml(isoDay(r.resolvedOn))}</td><td>${escapeHtml(r.kind === "pool" ? ruleOfFindingId(r.findingId) : kindLabel(r.kind))}</td><td>${escapeHtml(r.accountName)}</td><td><code class="small">${escapeHtml(r.resourceId)}</code></td></tr>`,
        )
        .join("")}</tbody></table></div>`
    : `<p class="empty" id="resolved-none">Nothing was resolved since the last run.</p>`;
  return `<section id="resolved" class="card" aria-labelledby="resolved-h">
<h2 id="resolved-h">Resolved since the last run${resolved.length ? ` <span class="chip sev-ok">${formatNumber(resolved.length)}</span>` : ""}</h2>
${body}
</section>`;
}
