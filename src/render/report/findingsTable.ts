// The findings table with its filter bar, and the row data the page's script filters and sorts by.
import { eachOf, type PagedList } from "../../core/deflatedJson.js";
import type { AuditReport, Finding } from "../../core/model.js";
import { escapeHtml } from "../escapeHtml.js";
import { daysFromTo, inDays, isoDay, plural } from "../format.js";
import { migrationFiles } from "../migrationFiles.js";
import type { CoverageGaps } from "./coverage.js";
import { NO_OWNER, deadlineLine, findingLabel, isSnoozed, ownersOf, refName, ruleOf, sevBadge, subscriptionLabel, thumbCode } from "./findingView.js";
import type { RowData } from "./pageData.js";

const SOURCE_LABEL: Record<string, string> = { "batch-api": "the Batch API", "resource-graph": "Resource Graph" };

/** For a pool finding: which source reported its references, and how the sources disagreed. */
function sourceLine(f: Finding): string {
  if (f.kind !== "pool-certificate-reference" || !f.sources) return "";
  const from = `Reported by ${f.sources.map((s) => SOURCE_LABEL[s] ?? s).join(" and ")}`;
  return `<div class="detail source">${escapeHtml(f.sourceNote ? `${from}. ${f.sourceNote}.` : `${from}.`)}</div>`;
}

function deadlineCell(f: Finding): string {
  const line = deadlineLine(f);
  if (!line) return "";
  return `<div class="small${f.daysLeft !== undefined && f.daysLeft < 0 ? " expired" : f.daysLeft !== undefined && f.daysLeft <= 30 ? " soon" : ""}">${escapeHtml(line)}</div>`;
}

function renderCertificateCells(f: Finding, asOf: string): { cert: string; expiry: string } {
  const c = f.certificate;
  if (!c) return { cert: `<span class="none">&mdash;</span>`, expiry: `<span class="none">&mdash;</span>` };
  const left = c.expiresOn ? daysFromTo(asOf, c.expiresOn) : undefined;
  const note =
    left === undefined ? "" : left < 0 ? `<div class="small expired">expired</div>` : left <= 30 ? `<div class="small soon">${inDays(left)}</div>` : "";
  const expiry = c.expiresOn
    ? `<span class="nowrap${left !== undefined && left < 0 ? " expired" : ""}">${escapeHtml(isoDay(c.expiresOn))}</span>${note}`
    : `<span class="none">unknown</span>`;
  const err = c.deleteCertificateError;
  // "Succeeded" is the normal state and stays quiet; anything else (Deleting, Failed) is worth a look.
  const stateText = c.provisioningState ?? "state unknown";
  const state =
    `<div class="small${c.provisioningState === "Succeeded" ? "" : " missing"}">${escapeHtml(stateText)}</div>` +
    (err ? `<div class="small missing">Delete failed: ${escapeHtml(err.code)}</div><div class="small">${escapeHtml(err.message)}</div>` : "");
  return {
    cert: `<span class="small">${escapeHtml(c.thumbprintAlgorithm.toUpperCase())}</span> ${thumbCode(c.thumbprint)}${state}`,
    expiry,
  };
}

function renderReferences(f: Finding): string {
  if (f.references && f.references.length) {
    return `<ul class="refs">${f.references
      .map(
        (r) =>
          `<li>${thumbCode(refName(r))}` +
          (r.resolves ? "" : ` <span class="missing">not in account</span>`) +
          (r.storeLocation || r.storeName ? `<div class="small">${escapeHtml([r.storeLocation, r.storeName].filter(Boolean).join(" / "))}</div>` : "") +
          `</li>`,
      )
      .join("")}</ul>`;
  }
  if (f.certificate) {
    const pools = f.certificate.referencedByPools;
    return pools.length
      ? `<span class="small">used by ${pools.length === 1 ? "pool" : "pools"}</span> ${pools.map((p) => escapeHtml(p)).join(", ")}`
      : `<span class="none">no pool uses it</span>`;
  }
  return `<span class="none">&mdash;</span>`;
}

/**
 * The pool's replacement body as a download. The page loads nothing, so the file travels in the link (a data: URL
 * with `download`: a download, not a navigation, which the page's CSP does not govern).
 */
function renderMigrationLink(f: Finding): string {
  const kit = f.migration;
  if (!kit) return "";
  const body = migrationFiles(kit).find((file) => file.name === kit.fileName);
  if (!body) return `<div class="small kit-missing">No replacement body: the pool's configuration was not read from the Batch API</div>`;
  const href = `data:application/json;base64,${Buffer.from(body.content, "utf8").toString("base64")}`;
  return `<div class="small"><a class="kit" href="${href}" download="${escapeHtml(kit.fileName)}" title="PUT body for pool ${escapeHtml(kit.replacementPoolName)}, api-version ${escapeHtml(kit.apiVersion)}">Replacement pool (JSON)</a></div>`;
}

/** Lets a long address wrap after the `@` instead of widening the table. */
function breakableAddress(address: string): string {
  return address.split("@").map(escapeHtml).join("<wbr>@");
}

/**
 * Owner problems folded under one line ("2 owner problems"): each is a sentence naming a tag and its resource, and
 * in the owners column they made rows hundreds of pixels tall. One line per problem inside.
 */
function renderOwnerProblems(problems: readonly string[]): string {
  if (problems.length === 0) return "";
  const lines = problems.map((p) => `<li class="owner-problem">${escapeHtml(p)}</li>`).join("");
  return `<details class="small owner-problems"><summary>${escapeHtml(plural(problems.length, "owner problem"))}</summary><ul>${lines}</ul></details>`;
}

function renderOwnersCell(f: Finding): string {
  const owners = ownersOf(f);
  const problems = renderOwnerProblems(f.ownerProblems ?? []);
  if (!owners.length) return `<span class="missing">no owner</span>${problems}`;
  return owners.map((o) => `<div>${breakableAddress(o)}</div>`).join("") + problems;
}

/** What the page's script filters and sorts row `i` by. */
function rowData(report: AuditReport, f: Finding, i: number): RowData {
  const owners = ownersOf(f);
  const sub = subscriptionLabel(report, f.subscriptionId, f.subscriptionName);
  return {
    i,
    id: f.id,
    sev: f.severity,
    sub: f.subscriptionId,
    rule: ruleOf(f),
    owners: owners.length ? owners : [NO_OWNER],
    text: [
      f.severity, f.kind, ruleOf(f), findingLabel(report, f), f.detail, f.accountName, f.resourceGroup, f.subscriptionId, sub, f.poolName,
      f.certificate?.name, f.certificate?.thumbprint, f.certificate?.provisioningState, ...(f.certificate?.referencedByPools ?? []),
      ...(f.references ?? []).map(refName), ...(owners.length ? owners : ["no owner"]),
    ]
      .filter((x): x is string => !!x)
      .join(" ")
      .toLowerCase(),
    keys: {
      sev: f.severity === "critical" ? 0 : 1,
      kind: findingLabel(report, f),
      deadline: f.daysLeft ?? null,
      account: f.accountName,
      pool: f.poolName ?? null,
      cert: f.certificate?.thumbprint ?? null,
      expiry: f.certificate?.expiresOn ?? null,
      refs: f.references?.length ?? f.certificate?.referencedByPools.length ?? null,
      owners: owners.join(", ") || null,
      snoozed: f.snoozedUntil ?? null,
    },
  };
}

function findingRow(report: AuditReport, f: Finding, i: number): string {
  const sub = subscriptionLabel(report, f.subscriptionId, f.subscriptionName);
  const { cert, expiry } = renderCertificateCells(f, report.asOf);
  const snoozed = isSnoozed(f, report.asOf);
  return `<tr data-row="${i}" data-id="${escapeHtml(f.id)}" data-severity="${escapeHtml(f.severity)}">
<td>${sevBadge(f.severity)}</td>
<td data-label="Finding"><strong>${escapeHtml(findingLabel(report, f))}</strong>${deadlineCell(f)}<div class="detail">${escapeHtml(f.detail)}</div>${sourceLine(f)}</td>
<td data-label="Account"><strong>${escapeHtml(f.accountName)}</strong><div class="small">${escapeHtml(sub)} &middot; ${escapeHtml(f.resourceGroup)}</div></td>
<td data-label="Pool">${f.poolName ? `${escapeHtml(f.poolName)}${renderMigrationLink(f)}` : `<span class="none">&mdash;</span>`}</td>
<td data-label="Certificate">${cert}</td>
<td data-label="Expires">${expiry}</td>
<td data-label="References">${renderReferences(f)}</td>
<td class="owners-cell" data-label="Owners">${renderOwnersCell(f)}</td>
<td data-label="Snoozed">${f.snoozedUntil ? `${snoozed ? "until" : "ended"} <span class="nowrap">${escapeHtml(isoDay(f.snoozedUntil))}</span>` : `<span class="none">&mdash;</span>`}</td>
</tr>`;
}

/**
 * The findings section, a row at a time (at scale it is most of the page: it is written while it is made). `findings`
 * are in page order, read a page at a time (twice: for the filters' options, then for the rows); row `i` is described
 * by the `i`th entry of `findingsRowData`.
 */
export function* renderFindings(report: AuditReport, gaps: CoverageGaps, findings: PagedList<Finding>): Generator<string> {
  if (findings.length === 0) {
    const body = gaps.incomplete
      ? `<p id="no-findings" class="empty"><strong>No findings in the parts of the tenant that could be read &mdash; but the scan was incomplete.</strong><br>Certificate usage in the scopes listed under Coverage is unknown, so this is not a clean result.</p>`
      : `<p id="no-findings" class="empty"><strong>No certificate usage found.</strong><br>No Batch account holds a certificate and no pool references one, across ${plural(report.coverage.subscriptions.length, "subscription")} and ${plural(report.coverage.accounts.length, "Batch account")}.${report.coverage.unjudged?.length ? " Some pools could not be judged by every rule: see Coverage." : ""}</p>`;
    yield `<section id="findings" class="card" aria-labelledby="findings-h"><h2 id="findings-h">Findings</h2>${body}</section>`;
    return;
  }

  const subscriptions = new Map<string, string>();
  const owners = new Set<string>();
  let hasUnowned = false;
  // Rules in the order of the report's rules (soonest deadline first), each with its count here.
  const ruleCounts = new Map<string, number>();
  for (const f of eachOf(findings.pages())) {
    subscriptions.set(f.subscriptionId, subscriptionLabel(report, f.subscriptionId, f.subscriptionName));
    const named = ownersOf(f);
    for (const o of named) owners.add(o);
    if (named.length === 0) hasUnowned = true;
    ruleCounts.set(ruleOf(f), (ruleCounts.get(ruleOf(f)) ?? 0) + 1);
  }
  const subOptions = [...subscriptions]
    .sort((a, b) => a[1].localeCompare(b[1]))
    .map(([id, label]) => `<option value="${escapeHtml(id)}">${escapeHtml(label)}</option>`)
    .join("");
  const allOwners = [...owners].sort((a, b) => a.localeCompare(b));
  const ownerOptions =
    (hasUnowned ? `<option value="${NO_OWNER}">No owner</option>` : "") +
    allOwners.map((o) => `<option value="${escapeHtml(o)}">${escapeHtml(o)}</option>`).join("");

  const ruleOrder = new Map((report.rules ?? []).map((r, i) => [r.id, i]));
  const ruleOptions = [...ruleCounts]
    .sort(([a], [b]) => (ruleOrder.get(a) ?? Infinity) - (ruleOrder.get(b) ?? Infinity) || a.localeCompare(b))
    .map(([id, n]) => `<option value="${escapeHtml(id)}">${escapeHtml(report.rules?.find((r) => r.id === id)?.title ?? id)} (${n})</option>`)
    .join("");
  const th = (key: string, label: string): string => `<th scope="col"><button type="button" data-key="${key}">${label}</button></th>`;
  yield `<section id="findings" class="card" aria-labelledby="findings-h">
<h2 id="findings-h">Findings</h2>
<div class="toolbar" id="filters" hidden role="search">
<label class="grow">Search<input id="f-text" type="search" placeholder="Account, pool, thumbprint, owner&hellip;" autocomplete="off"></label>
<label>Severity<select id="f-sev"><option value="">All</option><option value="critical">Critical</option><option value="warning">Warning</option></select></label>
<label>Subscription<select id="f-sub"><option value="">All</option>${subOptions}</select></label>
<label>Owner<select id="f-owner"><option value="">All</option>${ownerOptions}</select></label>
<label>Rule<select id="f-rule"><option value="">All</option>${ruleOptions}</select></label>
</div>
<p class="count" id="f-count" aria-live="polite">${plural(findings.length, "finding")}</p>
<div class="table-scroll" tabindex="0" aria-label="Findings table, scrolls sideways">
<table id="findings-table">
<thead><tr>${th("sev", "Severity")}${th("kind", "Finding")}${th("account", "Account")}${th("pool", "Pool")}${th("cert", "Certificate")}${th("expiry", "Expires")}${th("refs", "References")}${th("owners", "Owners")}${th("snoozed", "Snoozed")}</tr></thead>
<tbody>
`;
  let i = 0;
  for (const f of eachOf(findings.pages())) yield `${i === 0 ? "" : "\n"}${findingRow(report, f, i++)}`;
  yield `
</tbody>
</table>
</div>
<p id="f-none" class="empty" hidden>No findings match these filters.</p>
</section>`;
}

/** The row data of `renderFindings`, one row at a time: `{"rows":[...]}` for the page's data block. */
export function* findingsRowData(report: AuditReport, findings: PagedList<Finding>, toJson: (value: unknown) => string): Generator<string> {
  yield `{"rows":[`;
  let i = 0;
  for (const f of eachOf(findings.pages())) yield `${i === 0 ? "" : ","}${toJson(rowData(report, f, i++))}`;
  yield "]}";
}
