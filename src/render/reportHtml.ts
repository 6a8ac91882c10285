// The HTML report: one self-contained page (no external assets) that works offline, prints, and runs
// under a strict hash-based Content-Security-Policy. Rows are rendered on the server so the page is
// complete without JavaScript; the small inline script only filters and sorts what is already there.
import { createHash } from "node:crypto";
import type { AuditReport, Coverage, Finding, ResolvedReference } from "../core/model.js";
import { escapeHtml } from "./escapeHtml.js";
import { daysAgo, daysFromTo, formatNumber as fmt, inDays, isoDay as dayOf, longDate, plural, shortDate, utcTimestamp as timestamp } from "./format.js";

export interface HistoryPoint {
  /** YYYY-MM-DD */
  date: string;
  open: number;
  critical: number;
  warning: number;
}

export interface ResolvedFinding {
  findingId: string;
  kind: string;
  resourceId: string;
  accountName: string;
  resolvedOn: string;
}

export interface ReportExtras {
  history: HistoryPoint[];
  resolvedSinceLastRun: ResolvedFinding[];
  runId?: string;
}

/** Value used in the owner filter for findings nobody owns; not a possible mail address. */
export const NO_OWNER = "__none__";

// ---------------------------------------------------------------------------------------------
// Inline style and script. Both are constants so their CSP hashes are known before any report is
// rendered: an HTTP handler can send the same policy as a header without parsing the page.

const STYLE = `
:root{--bg:#f6f7f9;--card:#fff;--ink:#1b1f24;--muted:#5a6472;--line:#dde2e8;--head:#0f2d4a;--head-ink:#fff;--accent:#1a5fb4;
--crit:#b42318;--crit-bg:#fee4e2;--warn:#93370d;--warn-bg:#fef0c7;--ok:#05603a;--ok-bg:#d1fadf;--row:#fafbfc;
color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#111418;--card:#1a1f25;--ink:#e6e9ed;--muted:#a3adb9;--line:#2e3640;--head:#0b2239;
--accent:#7fb3f5;--crit:#ffb4ab;--crit-bg:#5c1a14;--warn:#fedf89;--warn-bg:#4e3506;--ok:#a6f4c5;--ok-bg:#0b3d26;--row:#161a20}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;overflow-wrap:anywhere}
.wrap{max-width:1360px;margin:0 auto;padding:0 16px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.86em}
a{color:var(--accent)}
h2{font-size:1.25rem;margin:0 0 .75rem}
h3{font-size:1rem;margin:0}
.top{background:var(--head);color:var(--head-ink);padding:28px 0 64px}
.eyebrow{margin:0 0 6px;font-size:.8rem;letter-spacing:.08em;text-transform:uppercase;opacity:.8}
.top h1{margin:0;font-size:clamp(1.45rem,4vw,2.3rem);line-height:1.2;font-weight:700}
.top .sub{margin:8px 0 0;opacity:.85}
.toc{display:flex;flex-wrap:wrap;gap:4px 16px;margin-top:14px;font-size:.9rem}
.toc a{color:var(--head-ink);opacity:.85}
main{margin-top:-44px;padding-bottom:40px}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:20px;margin:0 0 20px;box-shadow:0 1px 2px rgb(0 0 0/.05)}
.hero{display:grid;grid-template-columns:minmax(0,1.3fr) minmax(0,1fr);gap:20px}
.hero .card{margin:0}
.big{font-size:clamp(3rem,10vw,5rem);font-weight:800;line-height:1;letter-spacing:-.02em;font-variant-numeric:tabular-nums}
.big-label{font-size:1.05rem;color:var(--muted);margin:6px 0 14px}
.chips{display:flex;flex-wrap:wrap;gap:8px}
.chip{display:inline-flex;align-items:center;gap:6px;border-radius:999px;padding:4px 12px;font-weight:600;font-size:.92rem;background:var(--bg);border:1px solid var(--line)}
.sev{display:inline-flex;align-items:center;gap:4px;border-radius:999px;padding:1px 9px;font-weight:650;font-size:.92em;white-space:nowrap}
.sev-critical{background:var(--crit-bg);color:var(--crit)}
.sev-warning{background:var(--warn-bg);color:var(--warn)}
.sev-ok{background:var(--ok-bg);color:var(--ok)}
.deadline dl{display:grid;grid-template-columns:auto 1fr;gap:6px 14px;margin:12px 0 0}
.deadline dt{color:var(--muted)}
.deadline dd{margin:0;font-weight:600}
.banner{border-radius:12px;padding:18px 20px;margin:0 0 20px;border:2px solid}
.banner h2{margin:0 0 6px}
.banner p{margin:0 0 8px}
.banner ul{margin:8px 0 0;padding-left:20px}
.banner li{margin:4px 0}
.banner-bad{background:var(--crit-bg);border-color:var(--crit);color:var(--ink)}
.banner-bad h2{color:var(--crit)}
.banner-ok{background:var(--ok-bg);border-color:var(--ok)}
.banner-ok h2{color:var(--ok)}
.reason{color:var(--muted)}
.toolbar{display:flex;flex-wrap:wrap;gap:10px;align-items:end;margin:0 0 12px}
.toolbar label{display:flex;flex-direction:column;gap:3px;font-size:.8rem;color:var(--muted);font-weight:600;min-width:0}
.toolbar .grow{flex:1 1 220px}
.toolbar input,.toolbar select{font:inherit;font-size:.95rem;color:var(--ink);background:var(--card);border:1px solid var(--line);border-radius:8px;padding:7px 10px;max-width:100%;min-width:0}
.toolbar select{max-width:16rem}
.count{margin:0 0 8px;color:var(--muted);font-size:.9rem}
.table-scroll{overflow-x:auto;max-width:100%;border:1px solid var(--line);border-radius:10px}
table{border-collapse:collapse;width:100%;font-size:.86rem;overflow-wrap:normal}
#findings-table{min-width:62rem}
#findings-table td:nth-child(2){min-width:11rem}
#findings-table td:nth-child(4){white-space:nowrap}
#findings-table td:nth-child(3){min-width:9rem}
th,td{text-align:left;vertical-align:top;padding:8px 7px;border-bottom:1px solid var(--line)}
thead th{position:sticky;top:0;background:var(--card);font-size:.9em;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);white-space:nowrap}
tbody tr:nth-child(even){background:var(--row)}
tbody tr:last-child td{border-bottom:0}
th button{all:unset;cursor:pointer;display:inline-flex;gap:4px;align-items:center}
th button:focus-visible{outline:2px solid var(--accent);outline-offset:2px;border-radius:3px}
th button::after{content:"\\2195";opacity:.35}
th[aria-sort=ascending] button::after{content:"\\25B2";opacity:1}
th[aria-sort=descending] button::after{content:"\\25BC";opacity:1}
.detail{max-width:40ch;color:var(--muted);margin-top:3px;font-size:.95em}
.thumb{white-space:nowrap}
.nowrap{white-space:nowrap}
.small{font-size:.9em;color:var(--muted)}
.refs{margin:0;padding-left:16px}
.owners-cell div+div{margin-top:4px}
.missing{color:var(--crit);font-weight:600}
.expired{color:var(--crit);font-weight:600}
.soon{color:var(--warn);font-weight:600}
.none{color:var(--muted);font-style:italic}
.empty{padding:18px;text-align:center;color:var(--muted)}
.owners{display:grid;gap:10px}
.owner{border:1px solid var(--line);border-radius:10px;background:var(--card)}
.owner summary{cursor:pointer;padding:12px 14px;display:flex;flex-wrap:wrap;gap:6px 12px;align-items:center;list-style:none}
.owner summary::-webkit-details-marker{display:none}
.owner summary::before{content:"\\25B8";color:var(--muted)}
.owner[open] summary::before{content:"\\25BE"}
.owner summary h3{flex:1 1 12rem;min-width:0}
.owner summary .small{flex-basis:100%;padding-left:20px}
.owner-body{padding:0 14px 12px}
.owner-body ul{margin:0 0 10px;padding-left:18px}
.owner-noone{border-color:var(--warn)}
.btn{font:inherit;font-size:.85rem;border:1px solid var(--line);background:var(--bg);color:var(--ink);border-radius:8px;padding:4px 10px;cursor:pointer}
.chart{width:100%;height:auto;display:block;max-height:340px}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart .axis{fill:var(--muted);font-size:12px}
.chart .val{fill:var(--ink);font-size:11px;font-weight:600}
.chart .c{fill:var(--crit)}
.chart .w{fill:#f5b83d}
.chart .z{fill:var(--muted)}
.chart .msg{fill:var(--muted);font-size:15px}
.legend{display:flex;flex-wrap:wrap;gap:14px;margin:8px 0 0;font-size:.88rem;color:var(--muted)}
.sw{display:inline-block;width:12px;height:12px;border-radius:3px;vertical-align:-1px;margin-right:5px}
.sw-c{background:var(--crit)}
.sw-w{background:#f5b83d}
details.data{margin-top:10px;font-size:.88rem}
footer{color:var(--muted);font-size:.82rem;padding:0 0 30px}
[hidden]{display:none!important}
@media (max-width:760px){.hero{grid-template-columns:minmax(0,1fr)}.wrap{padding:0 12px}.card{padding:16px}.top{padding-bottom:70px}}
@media print{
:root{--bg:#fff;--card:#fff;--ink:#000;--muted:#444;--line:#bbb;--row:#fff}
body{font-size:10pt}
.top{background:none;color:#000;padding:0 0 10px}.toc,.toolbar,.btn,noscript{display:none!important}
main{margin-top:0}.card,.banner{box-shadow:none}.card{padding:0;border:0;margin-bottom:14pt}.hero .card{border:1px solid var(--line);padding:10pt}.banner{break-inside:avoid-page}.sev{padding:0 4px}
.table-scroll{overflow:visible;border:0}#findings-table{min-width:0;font-size:7.5pt}#findings-table td{min-width:0!important;padding:4px}
.thumb{white-space:normal;word-break:break-all}thead th{position:static}tr{break-inside:avoid}
th button::after{content:none!important}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
`;

const SCRIPT = `
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("data").textContent);
  const tbody = document.querySelector("#findings-table tbody");
  const bar = document.getElementById("filters");
  if (!tbody || !bar) return;
  const rows = Array.from(tbody.querySelectorAll("tr[data-row]"), (tr) => ({ tr, d: data.rows[Number(tr.dataset.row)] }));
  const text = document.getElementById("f-text");
  const sev = document.getElementById("f-sev");
  const sub = document.getElementById("f-sub");
  const owner = document.getElementById("f-owner");
  const count = document.getElementById("f-count");
  const none = document.getElementById("f-none");
  bar.hidden = false;

  const apply = () => {
    const terms = text.value.toLowerCase().split(/\\s+/).filter(Boolean);
    let shown = 0;
    for (const { tr, d } of rows) {
      const ok = terms.every((t) => d.text.includes(t)) &&
        (!sev.value || d.sev === sev.value) &&
        (!sub.value || d.sub === sub.value) &&
        (!owner.value || d.owners.includes(owner.value));
      tr.hidden = !ok;
      if (ok) shown++;
    }
    count.textContent = shown === rows.length
      ? "Showing all " + rows.length + " findings"
      : "Showing " + shown + " of " + rows.length + " findings";
    none.hidden = shown > 0;
  };
  for (const el of [text, sev, sub, owner]) el.addEventListener("input", apply);

  // Empty values sort last in both directions: a missing expiry is not "earliest".
  const compare = (a, b) => {
    const ea = a === null || a === "", eb = b === null || b === "";
    if (ea || eb) return ea === eb ? 0 : ea ? 2 : -2;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
  };
  for (const btn of document.querySelectorAll("#findings-table thead button[data-key]")) {
    btn.addEventListener("click", () => {
      const th = btn.closest("th");
      const dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
      for (const h of document.querySelectorAll("#findings-table thead th")) h.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", dir);
      const key = btn.dataset.key, sign = dir === "ascending" ? 1 : -1;
      rows.sort((x, y) => {
        const c = compare(x.d.keys[key], y.d.keys[key]);
        return (Math.abs(c) === 2 ? c : c * sign) || x.d.i - y.d.i;
      });
      for (const r of rows) tbody.appendChild(r.tr);
    });
  }

  for (const b of document.querySelectorAll("button[data-owner]")) {
    b.hidden = false;
    b.addEventListener("click", () => {
      owner.value = b.dataset.owner;
      apply();
      document.getElementById("findings").scrollIntoView({ behavior: "smooth" });
    });
  }
  // Collapsed sections would print as headings only.
  addEventListener("beforeprint", () => { for (const d of document.querySelectorAll("details")) d.open = true; });
  apply();
})();
`;

function cspSource(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** CSP source expressions (quoted, as they appear in the policy) for the page's inline style and script. */
export const reportCspHashes: Readonly<{ style: string; script: string }> = Object.freeze({
  style: cspSource(STYLE),
  script: cspSource(SCRIPT),
});

/** The policy the page carries in its `<meta http-equiv>`; everything else (fonts, fetch, frames) is refused. */
export const REPORT_CSP =
  `default-src 'none'; style-src ${reportCspHashes.style}; script-src ${reportCspHashes.script}; ` +
  `img-src data:; base-uri 'none'; form-action 'none'`;

/** The same policy for an HTTP `Content-Security-Policy` header, plus what a meta element cannot express. */
export const REPORT_CSP_HEADER = `${REPORT_CSP}; frame-ancestors 'none'`;

/**
 * JSON for a `<script type="application/json">` block. `<` (and `>`, `&`) become `\\u003c` etc. so a
 * value like `</script>` or `<!--` cannot end or alter the block; the JSON itself parses to the same value.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const KIND_LABELS: Readonly<Record<string, string>> = {
  "account-certificate": "Account certificate",
  "pool-certificate-reference": "Pool references certificates",
};
const kindLabel = (kind: string): string => KIND_LABELS[kind] ?? kind;

function sevBadge(sev: string): string {
  // Shape and word as well as colour, so severity survives greyscale printing and colour blindness.
  const mark = sev === "critical" ? "&#9679;" : "&#9650;";
  const label = sev === "critical" ? "Critical" : sev === "warning" ? "Warning" : escapeHtml(sev);
  return `<span class="sev sev-${sev === "critical" ? "critical" : "warning"}"><span aria-hidden="true">${mark}</span>${label}</span>`;
}

const ownersOf = (f: Finding): string[] => (f.owners ?? []).map((o) => o.address).filter((a) => a.trim() !== "");

const isSnoozed = (f: Finding, asOf: string): boolean => !!f.snoozedUntil && dayOf(f.snoozedUntil) >= asOf;

const refName = (r: ResolvedReference): string => r.certificateName ?? r.id;

/**
 * A thumbprint (or `sha1-<thumbprint>` name) shortened to its ends, which is how people compare them;
 * the full value stays in the tooltip and in the search text.
 */
function thumbCode(value: string): string {
  if (value.length <= 24) return `<code class="thumb">${escapeHtml(value)}</code>`;
  // Keep a `sha1-` style prefix whole: the head is everything before the last 32 characters plus 8 more.
  const head = value.slice(0, Math.max(8, value.length - 32));
  return `<code class="thumb" title="${escapeHtml(value)}">${escapeHtml(head)}&hellip;${escapeHtml(value.slice(-8))}</code>`;
}

function subscriptionLabel(report: AuditReport, subscriptionId: string, fallback?: string): string {
  const fromCoverage = report.coverage.subscriptions.find((s) => s.id === subscriptionId)?.displayName;
  return fallback ?? fromCoverage ?? subscriptionId;
}

/** Severity first, then certificates that expire (or expired) soonest, then name: the order people act in. */
function urgency(a: Finding, b: Finding): number {
  const s = (a.severity === "critical" ? 0 : 1) - (b.severity === "critical" ? 0 : 1);
  if (s !== 0) return s;
  const ea = a.certificate?.expiresOn ?? "9999";
  const eb = b.certificate?.expiresOn ?? "9999";
  if (ea !== eb) return ea < eb ? -1 : 1;
  return `${a.accountName}/${a.poolName ?? ""}`.localeCompare(`${b.accountName}/${b.poolName ?? ""}`);
}

function findingTitle(f: Finding): string {
  if (f.poolName) return `${f.accountName} / pool ${f.poolName}`;
  const t = f.certificate?.thumbprint;
  return t ? `${f.accountName} / certificate ${t.length > 16 ? `${t.slice(0, 8)}\u2026${t.slice(-4)}` : t}` : f.accountName;
}

// ---------------------------------------------------------------------------------------------
// Sections

interface CoverageGaps {
  incomplete: boolean;
  items: string[];
}

/**
 * Gaps in what the scan could see. A report that says `complete: true` but lists a failed scope or a
 * problem is treated as incomplete too: an inconsistent report must never look clean.
 */
function coverageGaps(report: AuditReport): CoverageGaps {
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
  for (const a of c.accounts.filter((x) => x.status !== "failed" && x.certificates === "unknown")) {
    items.push(
      `<li><strong>Batch account ${escapeHtml(a.name)}</strong>: its certificate list could not be read` +
        (a.reason ? `: <span class="reason">${escapeHtml(a.reason)}</span>` : "") +
        `</li>`,
    );
  }
  for (const p of c.problems) items.push(`<li>${escapeHtml(p)}</li>`);
  return { incomplete: !c.complete || items.length > 0, items };
}

function renderHeader(report: AuditReport, extras: ReportExtras): string {
  const d = report.daysSinceRetirement;
  const headline =
    d > 0
      ? `Azure Batch certificates were retired ${daysAgo(d)}`
      : d === 0
        ? "Azure Batch certificates are retired today"
        : `Azure Batch certificates will be retired ${inDays(-d)}`;
  const meta = [
    `As of ${escapeHtml(longDate(report.asOf))}`,
    `generated ${escapeHtml(timestamp(report.generatedAt))}`,
    ...(extras.runId ? [`run <code>${escapeHtml(extras.runId)}</code>`] : []),
  ].join(" &middot; ");
  return `<header class="top"><div class="wrap">
<p class="eyebrow">Batch certificate audit${report.tenantId ? ` &middot; tenant ${escapeHtml(report.tenantId)}` : ""}</p>
<h1 id="headline">${escapeHtml(headline)}</h1>
<p class="sub">${meta}</p>
<nav class="toc" aria-label="Sections"><a href="#coverage">Coverage</a><a href="#findings">Findings</a><a href="#owners">By owner</a><a href="#trend">Trend</a><a href="#resolved">Resolved</a></nav>
</div></header>`;
}

function renderHero(report: AuditReport, gaps: CoverageGaps): string {
  const open = report.findings.length;
  const critical = report.findings.filter((f) => f.severity === "critical").length;
  const warning = open - critical;
  const snoozed = report.findings.filter((f) => isSnoozed(f, report.asOf)).length;
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
    `<dt>Subscriptions</dt><dd>${fmt(report.summary.subscriptionsAudited)} audited${report.summary.subscriptionsFailed ? `, <span class="missing">${fmt(report.summary.subscriptionsFailed)} failed</span>` : ""}</dd>`,
    `<dt>Batch accounts</dt><dd>${fmt(report.summary.accountsAudited)} audited${report.summary.accountsFailed ? `, <span class="missing">${fmt(report.summary.accountsFailed)} failed</span>` : ""}</dd>`,
    `<dt>Account certificates</dt><dd>${fmt(report.summary.accountCertificates)}</dd>`,
    `<dt>Pools using certificates</dt><dd>${fmt(report.summary.poolsWithCertificates)}</dd>`,
  );

  return `<section class="hero" aria-label="Summary">
<div class="card">
<div class="big" id="open-count">${fmt(open)}</div>
<p class="big-label">${label}</p>
<div class="chips">
<span class="chip sev-critical" id="critical-count"><span aria-hidden="true">&#9679;</span>${fmt(critical)} critical</span>
<span class="chip sev-warning" id="warning-count"><span aria-hidden="true">&#9650;</span>${fmt(warning)} warning</span>
${snoozed ? `<span class="chip">${fmt(snoozed)} snoozed</span>` : ""}
${gaps.incomplete ? `<span class="chip sev-critical">Scan incomplete</span>` : `<span class="chip sev-ok">&#10003; Full coverage</span>`}
</div>
</div>
<div class="card deadline"><h2>Timeline and scope</h2><dl>${rows.join("")}</dl></div>
</section>`;
}

const SOURCE_LABEL: Record<string, string> = { "batch-api": "the Batch API", "resource-graph": "Resource Graph" };

/** For a pool finding: which source reported its references, and how the sources disagreed. */
function sourceLine(f: Finding): string {
  if (f.kind !== "pool-certificate-reference" || !f.sources) return "";
  const from = `Reported by ${f.sources.map((s) => SOURCE_LABEL[s] ?? s).join(" and ")}`;
  return `<div class="detail source">${escapeHtml(f.sourceNote ? `${from}. ${f.sourceNote}.` : `${from}.`)}</div>`;
}

/** Where pool certificate references came from, over all accounts. */
function poolSources(report: AuditReport): string {
  const count = (source: string) => report.coverage.accounts.filter((a) => a.pools === source).length;
  const parts = [
    [count("batch-api"), "read from the Batch API"],
    [count("resource-graph"), "read from Resource Graph (the Batch API refused)"],
    [count("not-needed"), "not needed (no certificates, so no pool can reference one)"],
    [count("failed"), "could not be read"],
  ] as const;
  const said = parts.filter(([n]) => n > 0).map(([n, what]) => `${fmt(n)} ${what}`);
  return said.length === 0 ? "" : `<p id="pool-sources">Pool certificate references, per account: ${escapeHtml(said.join("; "))}.</p>`;
}

function renderCoverage(report: AuditReport, gaps: CoverageGaps): string {
  const c = report.coverage;
  const subs = c.subscriptions.length;
  const accts = c.accounts.length;
  if (!gaps.incomplete) {
    return `<section id="coverage" class="banner banner-ok" aria-labelledby="coverage-h">
<h2 id="coverage-h">&#10003; Coverage complete</h2>
<p>Every subscription (${fmt(subs)}) and every Batch account (${fmt(accts)}) visible to the auditor was read.</p>
${poolSources(report)}
</section>`;
  }
  const failedSubs = c.subscriptions.filter((s) => s.status === "failed").length;
  const failedAccts = c.accounts.filter((a) => a.status === "failed").length;
  const counts: string[] = [];
  if (failedSubs) counts.push(`${fmt(failedSubs)} of ${plural(subs, "subscription")}`);
  if (failedAccts) counts.push(`${fmt(failedAccts)} of ${plural(accts, "Batch account")}`);
  return `<section id="coverage" class="banner banner-bad" role="alert" aria-labelledby="coverage-h">
<h2 id="coverage-h">&#9888; Incomplete scan: this report does not cover the whole tenant</h2>
<p>${counts.length ? `The auditor could not read ${counts.join(" and ")}. ` : ""}Certificates in the parts listed below are <strong>unknown, not absent</strong>; fix access and run again before treating anything as clean.</p>
<ul id="coverage-gaps">${gaps.items.join("")}</ul>
${poolSources(report)}
</section>`;
}

interface RowData {
  i: number;
  id: string;
  sev: string;
  sub: string;
  owners: string[];
  text: string;
  keys: Record<string, string | number | null>;
}

function renderCertificateCells(f: Finding, asOf: string): { cert: string; expiry: string } {
  const c = f.certificate;
  if (!c) return { cert: `<span class="none">&mdash;</span>`, expiry: `<span class="none">&mdash;</span>` };
  const left = c.expiresOn ? daysFromTo(asOf, c.expiresOn) : undefined;
  const note =
    left === undefined ? "" : left < 0 ? `<div class="small expired">expired</div>` : left <= 30 ? `<div class="small soon">${inDays(left)}</div>` : "";
  const expiry = c.expiresOn
    ? `<span class="nowrap${left !== undefined && left < 0 ? " expired" : ""}">${escapeHtml(dayOf(c.expiresOn))}</span>${note}`
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

/** Lets a long address wrap after the `@` instead of widening the table. */
function breakableAddress(address: string): string {
  return address.split("@").map(escapeHtml).join("<wbr>@");
}

function renderOwnersCell(f: Finding): string {
  const owners = ownersOf(f);
  const problems = (f.ownerProblems ?? []).map((p) => `<div class="small">${escapeHtml(p)}</div>`).join("");
  if (!owners.length) return `<span class="missing">no owner</span>${problems}`;
  return owners.map((o) => `<div>${breakableAddress(o)}</div>`).join("") + problems;
}

function renderFindings(report: AuditReport, gaps: CoverageGaps, findings: Finding[]): { html: string; rows: RowData[] } {
  if (findings.length === 0) {
    const body = gaps.incomplete
      ? `<p id="no-findings" class="empty"><strong>No findings in the parts of the tenant that could be read &mdash; but the scan was incomplete.</strong><br>Certificate usage in the scopes listed under Coverage is unknown, so this is not a clean result.</p>`
      : `<p id="no-findings" class="empty"><strong>No certificate usage found.</strong><br>No Batch account holds a certificate and no pool references one, across ${plural(report.coverage.subscriptions.length, "subscription")} and ${plural(report.coverage.accounts.length, "Batch account")}.</p>`;
    return { html: `<section id="findings" class="card" aria-labelledby="findings-h"><h2 id="findings-h">Findings</h2>${body}</section>`, rows: [] };
  }

  const rows: RowData[] = [];
  const trs = findings.map((f, i) => {
    const owners = ownersOf(f);
    const sub = subscriptionLabel(report, f.subscriptionId, f.subscriptionName);
    const { cert, expiry } = renderCertificateCells(f, report.asOf);
    const snoozed = isSnoozed(f, report.asOf);
    rows.push({
      i,
      id: f.id,
      sev: f.severity,
      sub: f.subscriptionId,
      owners: owners.length ? owners : [NO_OWNER],
      text: [
        f.severity, f.kind, kindLabel(f.kind), f.detail, f.accountName, f.resourceGroup, f.subscriptionId, sub, f.poolName,
        f.certificate?.name, f.certificate?.thumbprint, f.certificate?.provisioningState, ...(f.certificate?.referencedByPools ?? []),
        ...(f.references ?? []).map(refName), ...(owners.length ? owners : ["no owner"]),
      ]
        .filter((x): x is string => !!x)
        .join(" ")
        .toLowerCase(),
      keys: {
        sev: f.severity === "critical" ? 0 : 1,
        kind: kindLabel(f.kind),
        account: f.accountName,
        pool: f.poolName ?? null,
        cert: f.certificate?.thumbprint ?? null,
        expiry: f.certificate?.expiresOn ?? null,
        refs: f.references?.length ?? f.certificate?.referencedByPools.length ?? null,
        owners: owners.join(", ") || null,
        snoozed: f.snoozedUntil ?? null,
      },
    });
    return `<tr data-row="${i}" data-id="${escapeHtml(f.id)}" data-severity="${escapeHtml(f.severity)}">
<td>${sevBadge(f.severity)}</td>
<td><strong>${escapeHtml(kindLabel(f.kind))}</strong><div class="detail">${escapeHtml(f.detail)}</div>${sourceLine(f)}</td>
<td><strong>${escapeHtml(f.accountName)}</strong><div class="small">${escapeHtml(sub)} &middot; ${escapeHtml(f.resourceGroup)}</div></td>
<td>${f.poolName ? escapeHtml(f.poolName) : `<span class="none">&mdash;</span>`}</td>
<td>${cert}</td>
<td>${expiry}</td>
<td>${renderReferences(f)}</td>
<td class="owners-cell">${renderOwnersCell(f)}</td>
<td>${f.snoozedUntil ? `${snoozed ? "until" : "ended"} <span class="nowrap">${escapeHtml(dayOf(f.snoozedUntil))}</span>` : `<span class="none">&mdash;</span>`}</td>
</tr>`;
  });

  const subOptions = [...new Map(findings.map((f) => [f.subscriptionId, subscriptionLabel(report, f.subscriptionId, f.subscriptionName)]))]
    .sort((a, b) => a[1].localeCompare(b[1]))
    .map(([id, label]) => `<option value="${escapeHtml(id)}">${escapeHtml(label)}</option>`)
    .join("");
  const allOwners = [...new Set(findings.flatMap(ownersOf))].sort((a, b) => a.localeCompare(b));
  const hasUnowned = findings.some((f) => ownersOf(f).length === 0);
  const ownerOptions =
    (hasUnowned ? `<option value="${NO_OWNER}">No owner</option>` : "") +
    allOwners.map((o) => `<option value="${escapeHtml(o)}">${escapeHtml(o)}</option>`).join("");

  const th = (key: string, label: string): string => `<th scope="col"><button type="button" data-key="${key}">${label}</button></th>`;
  const html = `<section id="findings" class="card" aria-labelledby="findings-h">
<h2 id="findings-h">Findings</h2>
<div class="toolbar" id="filters" hidden role="search">
<label class="grow">Search<input id="f-text" type="search" placeholder="Account, pool, thumbprint, owner&hellip;" autocomplete="off"></label>
<label>Severity<select id="f-sev"><option value="">All</option><option value="critical">Critical</option><option value="warning">Warning</option></select></label>
<label>Subscription<select id="f-sub"><option value="">All</option>${subOptions}</select></label>
<label>Owner<select id="f-owner"><option value="">All</option>${ownerOptions}</select></label>
</div>
<p class="count" id="f-count" aria-live="polite">${plural(findings.length, "finding")}</p>
<div class="table-scroll" tabindex="0" aria-label="Findings table, scrolls sideways">
<table id="findings-table">
<thead><tr>${th("sev", "Severity")}${th("kind", "Finding")}${th("account", "Account")}${th("pool", "Pool")}${th("cert", "Certificate")}${th("expiry", "Expires")}${th("refs", "References")}${th("owners", "Owners")}${th("snoozed", "Snoozed")}</tr></thead>
<tbody>
${trs.join("\n")}
</tbody>
</table>
</div>
<p id="f-none" class="empty" hidden>No findings match these filters.</p>
</section>`;
  return { html, rows };
}

function renderOwners(report: AuditReport, findings: Finding[]): string {
  if (findings.length === 0) return "";
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const owners = ownersOf(f);
    for (const o of owners.length ? owners : [NO_OWNER]) {
      const list = groups.get(o) ?? [];
      list.push(f);
      groups.set(o, list);
    }
  }
  const entries = [...groups].map(([owner, list]) => ({ owner, list: [...list].sort(urgency) }));
  // Unowned findings first: nobody will be reminded about them, so they need the reader's attention most.
  entries.sort(
    (a, b) =>
      Number(b.owner === NO_OWNER) - Number(a.owner === NO_OWNER) ||
      b.list.filter((f) => f.severity === "critical").length - a.list.filter((f) => f.severity === "critical").length ||
      b.list.length - a.list.length ||
      a.owner.localeCompare(b.owner),
  );
  const items = entries.map(({ owner, list }) => {
    const top = list[0];
    const crit = list.filter((f) => f.severity === "critical").length;
    const name = owner === NO_OWNER ? `<span class="missing">No owner</span>` : escapeHtml(owner);
    return `<details class="owner${owner === NO_OWNER ? " owner-noone" : ""}" data-owner-group="${escapeHtml(owner)}">
<summary><h3>${name}</h3><span class="chip">${plural(list.length, "finding")}</span>${crit ? `<span class="chip sev-critical">${fmt(crit)} critical</span>` : ""}
${top ? `<span class="small">Most urgent: ${escapeHtml(kindLabel(top.kind))} &middot; ${escapeHtml(findingTitle(top))}</span>` : ""}</summary>
<div class="owner-body"><ul>${list
      .map((f) => `<li>${sevBadge(f.severity)} ${escapeHtml(kindLabel(f.kind))}: <strong>${escapeHtml(findingTitle(f))}</strong> <span class="small">${escapeHtml(subscriptionLabel(report, f.subscriptionId, f.subscriptionName))}</span></li>`)
      .join("")}</ul>
<button type="button" class="btn" data-owner="${escapeHtml(owner)}" hidden>Show in the findings table</button></div>
</details>`;
  });
  return `<section id="owners" class="card" aria-labelledby="owners-h">
<h2 id="owners-h">By owner</h2>
<div class="owners">${items.join("\n")}</div>
</section>`;
}

/** Tick step from 1-2-5 series so the y axis has at most ~5 round labels. */
function niceStep(max: number): number {
  if (max <= 5) return 1;
  const raw = max / 5;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const m = raw / pow;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * pow;
}

const r1 = (n: number): string => String(Math.round(n * 10) / 10);

/** Stacked columns (critical below warning), one per history entry, oldest on the left. */
export function renderHistoryChart(history: HistoryPoint[]): string {
  const points = [...history].sort((a, b) => a.date.localeCompare(b.date));
  const W = 760;
  const H = 280;
  if (points.length === 0) {
    return `<svg class="chart" id="history-chart" data-points="0" viewBox="0 0 ${W} 120" role="img" aria-labelledby="chart-title">
<title id="chart-title">Open findings over time: no history yet</title>
<text class="msg" x="${W / 2}" y="64" text-anchor="middle">No history yet &mdash; the chart fills in as runs accumulate.</text></svg>`;
  }
  const left = 44;
  const right = 12;
  const top = 22;
  const bottom = 34;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const maxVal = Math.max(1, ...points.map((p) => Math.max(p.open, p.critical + p.warning)));
  const step = niceStep(maxVal);
  const yMax = Math.ceil(maxVal / step) * step;
  const y = (v: number): number => top + plotH - (v / yMax) * plotH;
  const band = plotW / points.length;
  const barW = Math.max(2, Math.min(44, band * 0.62));
  const labelEvery = Math.max(1, Math.ceil(points.length / 8));
  const showValues = points.length <= 16;

  const grid: string[] = [];
  for (let v = 0; v <= yMax; v += step) {
    grid.push(`<line class="grid" x1="${left}" x2="${W - right}" y1="${r1(y(v))}" y2="${r1(y(v))}"/>`);
    grid.push(`<text class="axis" x="${left - 8}" y="${r1(y(v) + 4)}" text-anchor="end">${fmt(v)}</text>`);
  }
  const cols = points.map((p, i) => {
    const cx = left + band * i + band / 2;
    const x = r1(cx - barW / 2);
    const crit = Math.max(0, p.critical);
    const warn = Math.max(0, p.warning);
    const hC = (crit / yMax) * plotH;
    const hW = (warn / yMax) * plotH;
    const base = top + plotH;
    const label = `${p.date}: ${fmt(p.open)} open (${fmt(crit)} critical, ${fmt(warn)} warning)`;
    const parts = [
      `<title>${escapeHtml(label)}</title>`,
      crit + warn === 0 ? `<rect class="z" x="${x}" y="${r1(base - 2)}" width="${r1(barW)}" height="2"/>` : "",
      hC > 0 ? `<rect class="c" x="${x}" y="${r1(base - hC)}" width="${r1(barW)}" height="${r1(hC)}"/>` : "",
      hW > 0 ? `<rect class="w" x="${x}" y="${r1(base - hC - hW)}" width="${r1(barW)}" height="${r1(hW)}"/>` : "",
      showValues || i === points.length - 1
        ? `<text class="val" x="${r1(cx)}" y="${r1(y(Math.max(p.open, crit + warn)) - 6)}" text-anchor="middle">${fmt(p.open)}</text>`
        : "",
      i % labelEvery === 0 || i === points.length - 1
        ? `<text class="axis" x="${r1(cx)}" y="${H - 12}" text-anchor="middle">${escapeHtml(shortDate(p.date))}</text>`
        : "",
    ];
    return `<g class="pt" data-date="${escapeHtml(p.date)}" data-open="${p.open}" data-critical="${crit}" data-warning="${warn}">${parts.join("")}</g>`;
  });
  const first = points[0];
  const last = points[points.length - 1];
  const desc =
    first && last
      ? points.length === 1
        ? `One run so far, on ${first.date}: ${fmt(last.open)} open (${fmt(last.critical)} critical, ${fmt(last.warning)} warning).`
        : `${fmt(points.length)} runs from ${first.date} to ${last.date}: open findings went from ${fmt(first.open)} to ${fmt(last.open)}; now ${fmt(last.critical)} critical and ${fmt(last.warning)} warning.`
      : "";
  return `<svg class="chart" id="history-chart" data-points="${points.length}" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc">
<title id="chart-title">Open findings over time, critical and warning stacked</title>
<desc id="chart-desc">${escapeHtml(desc)}</desc>
${grid.join("")}
<line class="grid" x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}"/>
${cols.join("\n")}
</svg>`;
}

function renderTrend(history: HistoryPoint[]): string {
  const points = [...history].sort((a, b) => a.date.localeCompare(b.date));
  const table = points.length
    ? `<details class="data"><summary>Chart data</summary><div class="table-scroll"><table><thead><tr><th scope="col">Date</th><th scope="col">Open</th><th scope="col">Critical</th><th scope="col">Warning</th></tr></thead><tbody>${points
        .map((p) => `<tr><td>${escapeHtml(p.date)}</td><td>${fmt(p.open)}</td><td>${fmt(p.critical)}</td><td>${fmt(p.warning)}</td></tr>`)
        .join("")}</tbody></table></div></details>`
    : "";
  return `<section id="trend" class="card" aria-labelledby="trend-h">
<h2 id="trend-h">Open findings over time</h2>
${renderHistoryChart(history)}
${points.length ? `<p class="legend"><span><span class="sw sw-c"></span>Critical</span><span><span class="sw sw-w"></span>Warning</span><span>Numbers above columns: open findings</span></p>` : ""}
${table}
</section>`;
}

function renderResolved(resolved: ResolvedFinding[]): string {
  const body = resolved.length
    ? `<div class="table-scroll"><table id="resolved-table"><thead><tr><th scope="col">Resolved on</th><th scope="col">Kind</th><th scope="col">Account</th><th scope="col">Resource</th></tr></thead><tbody>${[...resolved]
        .sort((a, b) => b.resolvedOn.localeCompare(a.resolvedOn) || a.accountName.localeCompare(b.accountName))
        .map(
          (r) =>
            `<tr data-id="${escapeHtml(r.findingId)}"><td class="nowrap">${escapeHtml(dayOf(r.resolvedOn))}</td><td>${escapeHtml(kindLabel(r.kind))}</td><td>${escapeHtml(r.accountName)}</td><td><code class="small">${escapeHtml(r.resourceId)}</code></td></tr>`,
        )
        .join("")}</tbody></table></div>`
    : `<p class="empty" id="resolved-none">Nothing was resolved since the last run.</p>`;
  return `<section id="resolved" class="card" aria-labelledby="resolved-h">
<h2 id="resolved-h">Resolved since the last run${resolved.length ? ` <span class="chip sev-ok">${fmt(resolved.length)}</span>` : ""}</h2>
${body}
</section>`;
}

/** The complete report page. Every value from the report is escaped; the page loads nothing from anywhere. */
export function renderReportHtml(report: AuditReport, extras: ReportExtras): string {
  const gaps = coverageGaps(report);
  const findings = [...report.findings].sort(urgency);
  const { html: findingsHtml, rows } = renderFindings(report, gaps, findings);
  const title = `Batch certificate audit ${report.asOf}: ${findings.length} open${gaps.incomplete ? " (incomplete scan)" : ""}`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(REPORT_CSP)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="batch-cert-auditor">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
${renderHeader(report, extras)}
<main class="wrap">
${renderHero(report, gaps)}
${renderCoverage(report, gaps)}
${findingsHtml}
${renderOwners(report, findings)}
${renderTrend(extras.history)}
${renderResolved(extras.resolvedSinceLastRun)}
</main>
<footer class="wrap">Report schema ${escapeHtml(report.schemaVersion)} &middot; generated ${escapeHtml(timestamp(report.generatedAt))}${extras.runId ? ` &middot; run ${escapeHtml(extras.runId)}` : ""} &middot; self-contained: this page loads nothing from the network.</footer>
<script type="application/json" id="data">${jsonForScript({ rows })}</script>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
